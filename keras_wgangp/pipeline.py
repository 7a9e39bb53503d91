"""The input pipeline of `GAN.fit`: checks on the data, the seeded shuffle,
and grouping `critic_steps` batches into one element per generator step.

`train_step` splits each element into `critic_steps` slices, one real batch
per critic update (Algorithm 1 of Gulrajani et al. 2017). TensorFlow-only
(tf.data), like Keras's own input adapters.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

__all__ = ["DEFAULT_BATCH_SIZE", "EpochTracker", "make_dataset", "unpack_x"]

DEFAULT_BATCH_SIZE = 64


def unpack_x(data):
    """Returns x from a batch `x`, `(x,)` or `(x, y)` (y is ignored)."""
    if isinstance(data, (tuple, list)):
        return data[0]
    return data


def make_dataset(x, batch_size: int | None, critic_steps: int, shuffle) -> tuple[tf.data.Dataset, np.ndarray]:
    """Returns (dataset of `critic_steps`-batch groups, a small sample batch).

    Every check runs here, before any weight changes.

    Args:
        x: A float NumPy array or tensor, `(x, y)` arrays, or a
            `tf.data.Dataset` yielding batches `x`, `(x,)` or `(x, y)`.
        batch_size: Real examples per critic update; defaults to 64 for
            arrays and to the dataset's own batch size for datasets.
        critic_steps: Batches per group.
        shuffle: False, or a `tf.Variable` holding the epoch, which seeds the
            shuffle of arrays (datasets are used as given).

    Returns:
        The dataset and two examples (for checking the networks).

    Examples:

    >>> import numpy as np
    >>> dataset, sample = make_dataset(np.zeros((10, 2), "float32"), 2, critic_steps=3, shuffle=False)
    >>> [len(group) for group in dataset.as_numpy_iterator()]
    [6, 4]
    """
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}.")
    if x is None:
        raise ValueError("fit needs real data: pass a float array or a tf.data.Dataset as `x`.")
    if isinstance(x, tf.data.Dataset):
        return _group_dataset(x, batch_size, critic_steps)
    if isinstance(x, (tuple, list)) and len(x) and not np.isscalar(x[0]) and hasattr(x[0], "shape"):
        x = x[0]
    if isinstance(x, tf.Tensor):
        x = x.numpy()
    if not isinstance(x, np.ndarray):
        raise TypeError(f"fit takes a NumPy array, a tensor or a tf.data.Dataset; got {type(x).__name__}.")
    _check_dtype(x.dtype)
    if x.ndim < 2:
        raise ValueError(f"Data must be batched with shape (num_examples, ...); got shape {x.shape}.")
    if len(x) == 0:
        raise ValueError("The training data is empty (0 examples).")
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).reshape(len(x), -1).any(axis=1).sum())
        raise ValueError(
            f"The training data contains NaN or inf values in {bad} example(s); clean or drop them."
        )
    x = x.astype(keras.backend.floatx(), copy=False)
    group = (batch_size or DEFAULT_BATCH_SIZE) * critic_steps
    return _array_dataset(x, group, shuffle or None), x[:2]


def _group_dataset(dataset, batch_size, critic_steps):
    spec = unpack_x(dataset.element_spec)
    if not isinstance(spec, tf.TensorSpec):
        raise TypeError(
            f"The dataset must yield a tensor x (or (x, y)); its element spec is {dataset.element_spec}."
        )
    _check_dtype(spec.dtype.as_numpy_dtype)
    first = next(iter(dataset.take(1)), None)
    if first is None:
        raise ValueError("The training dataset is empty (it yields no batches).")
    first = np.asarray(unpack_x(first))
    if first.ndim < 2 or first.shape[0] == 0:
        raise ValueError(
            "The dataset must yield batches of shape (batch, ...); call "
            f".batch(batch_size) on it. Its first element has shape {first.shape}."
        )
    if not np.isfinite(first).all():
        raise ValueError("The first batch of the training dataset contains NaN or inf values.")
    batch_size = batch_size or first.shape[0]
    dataset = dataset.map(lambda *d: unpack_x(d) if len(d) > 1 else d[0])
    if spec.dtype != keras.backend.floatx():
        dataset = dataset.map(lambda t: tf.cast(t, keras.backend.floatx()))
    # rebatch regroups without touching single examples; the last group may be partial.
    dataset = dataset.rebatch(batch_size * critic_steps).prefetch(tf.data.AUTOTUNE)
    return dataset, first[:2].astype(keras.backend.floatx())


class EpochTracker(keras.callbacks.Callback):
    """Writes the epoch number into the variable that seeds the array shuffle.

    It runs before the epoch's iterator is created (Keras creates it after
    `on_epoch_begin`), so the shuffle of epoch k always uses seed k, and a
    run resumed at epoch k (BackupAndRestore) sees the same order as an
    uninterrupted one.
    """

    def __init__(self, variable):
        super().__init__()
        self.variable = variable

    def on_epoch_begin(self, epoch, logs=None):
        self.variable.assign(epoch)


def _array_dataset(x: np.ndarray, group: int, epoch_variable) -> tf.data.Dataset:
    """Groups of `group` examples; shuffled by a permutation seeded with the epoch."""
    n = len(x)
    num_groups = -(-n // group)
    if epoch_variable is None:
        order = tf.data.Dataset.from_tensors(tf.range(n, dtype=tf.int64))
    else:
        base_seed = int(np.random.randint(0, 2**31 - 1))  # follows keras.utils.set_random_seed

        def permutation(_):
            seed = tf.stack([tf.constant(base_seed, tf.int64), epoch_variable.read_value()])
            return tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=seed)

        order = tf.data.Dataset.from_tensors(0).map(permutation)
    indices = order.unbatch().batch(group).apply(tf.data.experimental.assert_cardinality(num_groups))
    # from_tensors(x) keeps the array as one dataset component, as Keras's own
    # array adapter does, instead of baking it into the graph as a constant.
    data = tf.data.Dataset.from_tensors(x).repeat()
    dataset = tf.data.Dataset.zip((indices, data)).map(lambda i, d: tf.gather(d, i))
    # One gather per step needs no autotuner or thread pool of its own; on a
    # 2-core machine those extra threads competed with the training step.
    options = tf.data.Options()
    options.autotune.enabled = False
    options.threading.private_threadpool_size = 1
    return dataset.prefetch(1).with_options(options)


def _check_dtype(dtype) -> None:
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise TypeError(
            f"A GAN needs floating-point data, got dtype {np.dtype(dtype).name}. Convert and "
            "scale it to the generator's output range first, e.g. for uint8 images: "
            "x.astype('float32') / 127.5 - 1."
        )
