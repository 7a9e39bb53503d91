"""Random draws inside a training step: ordered seeds and replica slicing."""

from __future__ import annotations

import keras
import numpy as np


class OrderedSeedGenerator(keras.random.SeedGenerator):
    """A SeedGenerator whose seed is copied before its state advances.

    Keras's `next()` copies the state and then assigns the advanced state
    with no dependency between the two, so inside a `tf.function` the copy
    could observe the new state and two draws could share a seed. Same
    sequence of seeds otherwise. JAX and PyTorch run the two in program
    order already.
    """

    def next(self, ordered=True):
        if keras.backend.backend() != "tensorflow":
            return super().next(ordered=ordered)
        import tensorflow as tf

        seed = self.state.value * 1
        with tf.control_dependencies([seed]):
            super().next(ordered=ordered)
        return seed


def draw(distribution, rows, tail, seed=None, dtype: str = "float32"):
    """Draws `rows` random rows of shape `tail` for this replica.

    Under a `tf.distribute` strategy with R replicas, every replica draws the
    rows of all replicas from the same seed and keeps its own slice: replicas
    get different values, and together they see exactly what one replica
    would draw for the global batch. Outside a strategy it is one plain draw.

    Args:
        distribution: `keras.random.normal` or `keras.random.uniform`.
        rows: Rows per replica, a Python int (static shapes) or a scalar tensor.
        tail: The shape of one row, a tuple of ints.
        seed: `None`, an int or a `keras.random.SeedGenerator`.
        dtype: Float dtype of the values.

    Returns:
        A tensor of shape `(rows,) + tail`.
    """
    context, replicas = None, 1
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context is not None else 1
    if isinstance(rows, int):
        shape = (rows * replicas,) + tuple(tail)  # static
    else:
        rows = keras.ops.cast(rows, "int32")
        shape = keras.ops.concatenate(
            [keras.ops.reshape(rows * replicas, (1,)), keras.ops.array(tail, "int32")], 0
        )
    values = distribution(shape, seed=seed, dtype=dtype)
    if replicas == 1:
        return values
    replica = context.replica_id_in_sync_group
    return values[replica * rows : (replica + 1) * rows]


SEED_STATE_KEY = "seed_generator_state"


def save_seed_state(store, seed_generator) -> None:
    """Writes a SeedGenerator's state into a Keras weights store.

    The state is no Keras weight; saved, a resumed run draws the same latents
    and penalty noise as an uninterrupted one.
    """
    store[SEED_STATE_KEY] = keras.ops.convert_to_numpy(seed_generator.state)


def load_seed_state(store, seed_generator):
    """Restores the state saved by `save_seed_state`; returns the store without it."""
    keys = list(store.keys())
    if SEED_STATE_KEY not in keys:
        return store
    seed_generator.state.assign(np.asarray(store[SEED_STATE_KEY]))
    return {k: store[k] for k in keys if k != SEED_STATE_KEY}
