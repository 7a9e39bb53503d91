"""The input pipeline of `GAN.fit`: checks on the data and labels, the
seeded shuffle, and grouping `critic_steps` batches into one element per
generator step.

`critic_batches` splits each element into `critic_steps` slices, one real
batch per critic update (Algorithm 1 of Gulrajani et al. 2017). The
pipeline is tf.data on every Keras backend, like Keras's own input adapters.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "EpochTracker",
    "check_label_range",
    "critic_batches",
    "make_dataset",
    "unpack_x",
    "unpack_xy",
]

DEFAULT_BATCH_SIZE = 64


def unpack_x(data):
    """Returns x from a batch `x`, `(x,)` or `(x, y)` (y is ignored)."""
    if isinstance(data, (tuple, list)):
        return data[0]
    return data


def unpack_xy(data, conditional: bool):
    """Returns `(x, labels)` of a pipeline element; labels is None when not conditional."""
    if conditional:
        return data[0], data[1]
    return unpack_x(data), None


def critic_batches(data, critic_steps: int, pack: int = 1, conditional: bool = False) -> list:
    """Splits one pipeline element into the real batches of its `critic_steps` critic updates.

    A full group (`critic_steps × batch_size` examples, batch a multiple of
    `pack`) is cut into equal slices with Python-int sizes, which keeps every
    shape static in the graph (the penalty's double backward needs that to
    run fast). A partial last group of n examples is cut into slices of
    ceil(n / critic_steps) rows, rounded up to whole packs, wrapping around
    to reuse a few examples, so the critic still gets `critic_steps` updates.

    Args:
        data: One element: `x`, `(x,)` or `(x, labels)`.
        critic_steps: k.
        pack: PacGAN's degree (slices are whole packs).
        conditional: Whether the element holds labels.

    Returns:
        k pairs `(real, labels or None)`.

    Examples:
        >>> import keras
        >>> slices = critic_batches(keras.ops.reshape(keras.ops.arange(10.0), (5, 2)), critic_steps=2)
        >>> [keras.ops.convert_to_numpy(real)[:, 0].tolist() for real, _ in slices]
        [[0.0, 2.0, 4.0], [6.0, 8.0, 0.0]]
    """
    import keras

    ops = keras.ops
    real_all, labels_all = unpack_xy(data, conditional)
    k = critic_steps
    static_n = real_all.shape[0]
    slices = []
    if static_n is not None and static_n % k == 0 and (static_n // k) % pack == 0:
        rows = static_n // k
        for i in range(k):
            labels = None if labels_all is None else labels_all[i * rows : (i + 1) * rows]
            slices.append((real_all[i * rows : (i + 1) * rows], labels))
        return slices
    n = ops.shape(real_all)[0]
    m = (n + k - 1) // k  # == batch_size except in a partial last group
    m = (m + pack - 1) // pack * pack  # whole packs
    for i in range(k):
        index = (ops.arange(m) + i * m) % n
        labels = None if labels_all is None else ops.take(labels_all, index, axis=0)
        slices.append((ops.take(real_all, index, axis=0), labels))
    return slices


def make_dataset(
    x,
    batch_size: int | None,
    critic_steps: int,
    shuffle,
    y=None,
    num_classes: int | None = None,
) -> tuple[tf.data.Dataset, tuple]:
    """Returns (dataset of `critic_steps`-batch groups, a small sample batch).

    Every check runs here, before any weight changes. With `num_classes`
    the elements are `(x, labels)` pairs, labels int32 of shape `(n,)`;
    without it, labels are dropped.

    Args:
        x: A float NumPy array or tensor, `(x, y)` arrays, or a
            `tf.data.Dataset` yielding batches `x`, `(x,)` or `(x, y)`.
        batch_size: Real examples per critic update; defaults to 64 for
            arrays and to the dataset's own batch size for datasets.
        critic_steps: Batches per group.
        shuffle: False, or a `tf.Variable` holding the epoch, which seeds the
            shuffle of arrays (datasets are used as given).
        y: Labels for array data (class ids in [0, num_classes)).
        num_classes: The number of classes of a conditional GAN, or None.

    Returns:
        The dataset and `(two examples, their labels or None)`, for checking
        the networks.

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
        if y is not None:
            raise ValueError("Pass labels inside the dataset, as (x, y) batches, not as `y`.")
        return _group_dataset(x, batch_size, critic_steps, num_classes)
    if isinstance(x, (tuple, list)) and len(x) and not np.isscalar(x[0]) and hasattr(x[0], "shape"):
        if len(x) > 1 and y is None:
            y = x[1]
        x = x[0]
    x = _to_numpy(x)
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
    labels = None
    if num_classes is not None:
        labels = _check_labels(y, num_classes, len(x))
    group = (batch_size or DEFAULT_BATCH_SIZE) * critic_steps
    return _array_dataset(x, labels, group, shuffle or None), (x[:2], None if labels is None else labels[:2])


def _to_numpy(x):
    """A tf, JAX or PyTorch tensor as NumPy; anything else unchanged."""
    if isinstance(x, tf.Tensor) or keras.ops.is_tensor(x):
        return keras.ops.convert_to_numpy(x)
    return x


def _missing_labels(num_classes) -> ValueError:
    return ValueError(
        f"This GAN is conditional (num_classes={num_classes}) and needs labels: call "
        "fit(x, y) with int class ids y, or pass a tf.data.Dataset of (x, y) batches."
    )


def _check_label_dtype(dtype) -> None:
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.integer):
        raise TypeError(
            f"Labels must be integer class ids, got dtype {dtype.name}. Convert them, e.g. "
            "y.astype('int32') (one-hot labels: y.argmax(axis=1))."
        )


def _check_labels(y, num_classes: int, num_examples: int) -> np.ndarray:
    """Labels as int32 `(n,)`, after checking type, length and range."""
    if y is None:
        raise _missing_labels(num_classes)
    y = np.asarray(_to_numpy(y))
    _check_label_dtype(y.dtype)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"Labels must have shape (num_examples,), got {y.shape}.")
    if len(y) != num_examples:
        raise ValueError(f"Got {num_examples} examples but {len(y)} labels; pass one label per example.")
    check_label_range(y, num_classes)
    return y.astype("int32")


def check_label_range(y, num_classes: int) -> None:
    """Raises `ValueError` naming a label outside [0, num_classes).

    Examples:
        >>> check_label_range(np.array([0, 2]), 3)
    """
    y = np.asarray(y)
    bad = (y < 0) | (y >= num_classes)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} label(s) lie outside [0, {num_classes}) (e.g. {int(y[bad][0])}); "
            f"labels must be class ids 0..{num_classes - 1} for num_classes={num_classes}."
        )


def _group_dataset(dataset, batch_size, critic_steps, num_classes=None):
    spec = unpack_x(dataset.element_spec)
    if not isinstance(spec, tf.TensorSpec):
        raise TypeError(
            f"The dataset must yield a tensor x (or (x, y)); its element spec is {dataset.element_spec}."
        )
    _check_dtype(spec.dtype.as_numpy_dtype)
    # One read of the first element serves every check below: a shuffled
    # dataset would give another batch on a second read.
    first_element = next(iter(dataset.take(1)), None)
    if first_element is None:
        raise ValueError("The training dataset is empty (it yields no batches).")
    first = np.asarray(unpack_x(first_element))
    if first.ndim < 2 or first.shape[0] == 0:
        raise ValueError(
            "The dataset must yield batches of shape (batch, ...); call "
            f".batch(batch_size) on it. Its first element has shape {first.shape}."
        )
    if not np.isfinite(first).all():
        raise ValueError("The first batch of the training dataset contains NaN or inf values.")
    batch_size = batch_size or first.shape[0]
    floatx = keras.backend.floatx()
    sample_labels = None
    if num_classes is None:
        dataset = dataset.map(lambda *d: tf.cast(unpack_x(d) if len(d) > 1 else d[0], floatx))
    else:
        label_spec = dataset.element_spec[1] if isinstance(dataset.element_spec, tuple) else None
        if label_spec is None or len(dataset.element_spec) < 2:
            raise _missing_labels(num_classes)
        _check_label_dtype(label_spec.dtype.as_numpy_dtype)
        first_labels = np.asarray(first_element[1]).reshape(-1)
        if len(first_labels) != len(first):
            raise ValueError(
                f"The dataset's first batch has {len(first)} examples but {len(first_labels)} labels; "
                "yield one int label per example."
            )
        check_label_range(first_labels, num_classes)
        sample_labels = first_labels[:2].astype("int32")

        def cast(x, y, *rest):
            y = tf.reshape(tf.cast(y, tf.int32), [-1])
            # Later batches are checked as they are read, so a bad label stops
            # training before the step that would use it.
            check = tf.debugging.assert_less(
                y, num_classes, message=f"a label is >= num_classes={num_classes}"
            )
            check_low = tf.debugging.assert_non_negative(y, message="a label is negative")
            with tf.control_dependencies([check, check_low]):
                return tf.cast(x, floatx), tf.identity(y)

        dataset = dataset.map(cast)
    # rebatch regroups without touching single examples; the last group may be partial. An
    # endless dataset has no last group: its groups get a static size (see _array_dataset).
    endless = int(dataset.cardinality()) == tf.data.INFINITE_CARDINALITY
    dataset = dataset.rebatch(batch_size * critic_steps, drop_remainder=endless).prefetch(tf.data.AUTOTUNE)
    return dataset, (first[:2].astype(floatx), sample_labels)


class EpochTracker(keras.callbacks.Callback):
    """Keeps the epoch number in a variable that seeds the array shuffle.

    It runs before the epoch's iterator is created (Keras creates it after
    `on_epoch_begin`), so the shuffle of epoch k always uses seed k, and a
    run resumed at epoch k (BackupAndRestore) sees the same order as an
    uninterrupted one.

    Args:
        initial_epoch: The first epoch of the run.

    Examples:
        >>> tracker = EpochTracker(3)
        >>> int(tracker.epoch.numpy())
        3
    """

    def __init__(self, initial_epoch: int = 0):
        super().__init__()
        self.epoch = tf.Variable(initial_epoch, dtype=tf.int64, trainable=False)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch.assign(epoch)


def _array_dataset(x: np.ndarray, labels, group: int, epoch_variable) -> tf.data.Dataset:
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
    # Without a partial last group the groups get a static size, so the step cuts its critic
    # batches as static slices instead of gathering each one (see critic_batches).
    indices = order.unbatch().batch(group, drop_remainder=n % group == 0)
    indices = indices.apply(tf.data.experimental.assert_cardinality(num_groups))
    # from_tensors(x) keeps the array as one dataset component, as Keras's own
    # array adapter does, instead of baking it into the graph as a constant.
    if labels is None:
        data = tf.data.Dataset.from_tensors(x).repeat()
        dataset = tf.data.Dataset.zip((indices, data)).map(lambda i, d: tf.gather(d, i))
    else:
        data = tf.data.Dataset.from_tensors((x, labels)).repeat()
        dataset = tf.data.Dataset.zip((indices, data)).map(
            lambda i, d: (tf.gather(d[0], i), tf.gather(d[1], i))
        )
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
