"""Reference generator and critic networks.

The critics here never use BatchNormalization: the gradient penalty is
defined per example, and batch statistics would couple the examples
(Gulrajani et al. 2017, section 4).
"""

from __future__ import annotations

import keras
from keras import layers

__all__ = ["mlp_critic", "mlp_generator"]


def mlp_generator(latent_dim: int = 2, output_dim: int = 2, units: int = 512, depth: int = 3) -> keras.Model:
    """The toy-experiment generator: `depth` ReLU layers of `units`, linear output.

    Args:
        latent_dim: Size of the latent vector z.
        output_dim: Size of each generated example.
        units: Width of every hidden layer (512 in the paper).
        depth: Number of hidden layers (3 in the paper).

    Returns:
        A functional `keras.Model` mapping `(batch, latent_dim)` to
        `(batch, output_dim)`.

    Examples:

    >>> g = mlp_generator(latent_dim=2, output_dim=2, units=32)
    >>> g.output_shape
    (None, 2)
    """
    z = keras.Input((latent_dim,), name="z")
    x = z
    for i in range(depth):
        x = layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
    x = layers.Dense(output_dim, name="output")(x)
    return keras.Model(z, x, name="mlp_generator")


def mlp_critic(input_dim: int = 2, units: int = 512, depth: int = 3) -> keras.Model:
    """The toy-experiment critic: `depth` ReLU layers of `units`, one linear score.

    Args:
        input_dim: Size of each example.
        units: Width of every hidden layer (512 in the paper).
        depth: Number of hidden layers (3 in the paper).

    Returns:
        A functional `keras.Model` mapping `(batch, input_dim)` to `(batch, 1)`.

    Examples:

    >>> d = mlp_critic(input_dim=2, units=32)
    >>> d.output_shape
    (None, 1)
    """
    x_in = keras.Input((input_dim,), name="x")
    x = x_in
    for i in range(depth):
        x = layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
    x = layers.Dense(1, name="score")(x)
    return keras.Model(x_in, x, name="mlp_critic")
