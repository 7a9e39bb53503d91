"""The generator's exponential moving average (EMA).

A GAN with `ema_decay` keeps `generator_ema`, a copy of the generator whose
weights follow the generator's after every generator update:

    average ← d·average + (1 − d)·weight,   d = min(ema_decay, (1 + t) / (10 + t)),

at generator step t (counted from 0): the warm-up of
`tf.train.ExponentialMovingAverage`, so early averages are not dominated
by the random initial weights. Non-trainable weights (BatchNorm statistics)
are copied. Sampling, export and the sample callbacks use the average
(Yazıcı et al. 2019 measured better samples from it).
"""

from __future__ import annotations

import keras

__all__ = ["clone_generator", "decay_at", "update", "update_average"]

ops = keras.ops


def clone_generator(generator, example_inputs) -> keras.Model:
    """A structurally identical, non-trainable copy of `generator`, with its weights.

    Args:
        generator: A Keras model or layer.
        example_inputs: Inputs that build it (for example a zero latent batch).

    Returns:
        The copy.

    Examples:
        >>> g = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
        >>> copy = clone_generator(g, keras.ops.zeros((1, 2)))
        >>> copy is g, copy.trainable, len(copy.weights)
        (False, False, 2)
    """
    if not generator.built:
        generator(example_inputs)
    try:
        clone = keras.models.clone_model(generator)
    except Exception:  # subclassed models: rebuild from their config
        clone = generator.__class__.from_config(generator.get_config())
    if not clone.built:
        clone(example_inputs)
    clone.set_weights(generator.get_weights())
    clone.trainable = False
    return clone


def decay_at(ema_decay: float, step):
    """The decay used after generator step `step` (0-based): min(ema_decay, (1 + t) / (10 + t)).

    Args:
        ema_decay: The target decay.
        step: t, a number or scalar tensor.

    Returns:
        The decay, a float32 scalar tensor.

    Examples:
        >>> float(decay_at(0.999, 0))  # (1 + 0) / (10 + 0)
        0.10000000149011612
    """
    step = ops.cast(step, "float32")
    return ops.minimum(ema_decay, (1.0 + step) / (10.0 + step))


def update_average(average, model, decay) -> None:
    """Moves `average`'s trainable weights towards `model`'s by `decay`; copies the rest.

    Args:
        average: The EMA model (from `clone_generator`).
        model: The trained model.
        decay: d, a float or scalar tensor.

    Returns:
        None.

    Examples:
        >>> g = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
        >>> copy = clone_generator(g, keras.ops.zeros((1, 1)))
        >>> import numpy as np
        >>> g.set_weights([np.ones((1, 1))]); copy.set_weights([np.zeros((1, 1))])
        >>> update_average(copy, g, 0.75)
        >>> float(copy.get_weights()[0][0, 0])
        0.25
    """
    trainable = {id(v) for v in model.trainable_variables}
    for mean, weight in zip(average.weights, model.weights, strict=True):
        if id(weight) in trainable:
            mean.assign(decay * mean + (1.0 - decay) * weight)
        else:
            mean.assign(weight)


def update(average, model, ema_decay: float, iterations) -> None:
    """The EMA update after a generator update: `update_average` with `decay_at(ema_decay, t)`.

    Args:
        average: The EMA model.
        model: The generator.
        ema_decay: The target decay.
        iterations: The generator optimizer's update count, already advanced
            past this update (so t = iterations − 1).

    Returns:
        None.

    Examples:
        >>> g = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
        >>> copy = clone_generator(g, keras.ops.zeros((1, 1)))
        >>> import numpy as np
        >>> g.set_weights([np.ones((1, 1))]); copy.set_weights([np.zeros((1, 1))])
        >>> update(copy, g, 0.999, 1)  # t = 0: decay 0.1
        >>> round(float(copy.get_weights()[0][0, 0]), 6)
        0.9
    """
    step = ops.cast(iterations, "float32") - 1.0
    update_average(average, model, decay_at(ema_decay, step))
