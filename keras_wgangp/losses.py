"""Wasserstein losses as pure functions of critic scores.

From Arjovsky et al. 2017 ("Wasserstein GAN", arXiv:1701.07875) as used by
Gulrajani et al. 2017 (arXiv:1704.00028, Algorithm 1): the critic minimises
E[D(x̃)] − E[D(x)] (+ λ·GP) and the generator minimises −E[D(G(z))].
All functions reduce in float32, so they are safe under mixed precision.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["critic_loss", "generator_loss", "wasserstein_estimate"]


def _mean(scores) -> tf.Tensor:
    return tf.reduce_mean(tf.cast(scores, tf.float32))


def critic_loss(real_scores: tf.Tensor, fake_scores: tf.Tensor) -> tf.Tensor:
    """Critic loss without penalty: mean D(fake) − mean D(real).

    Args:
        real_scores: Critic scores of real examples, shape `(batch,)` or `(batch, 1)`.
        fake_scores: Critic scores of generated examples.

    Returns:
        A float32 scalar.

    Examples:

    >>> float(critic_loss(tf.constant([2.0, 4.0]), tf.constant([1.0])))
    -2.0
    """
    return _mean(fake_scores) - _mean(real_scores)


def generator_loss(fake_scores: tf.Tensor) -> tf.Tensor:
    """Generator loss: −mean D(G(z)).

    Args:
        fake_scores: Critic scores of generated examples.

    Returns:
        A float32 scalar.

    Examples:

    >>> float(generator_loss(tf.constant([1.0, 3.0])))
    -2.0
    """
    return -_mean(fake_scores)


def wasserstein_estimate(real_scores: tf.Tensor, fake_scores: tf.Tensor) -> tf.Tensor:
    """The critic's estimate of W(P_real, P_fake): mean D(real) − mean D(fake).

    It is the negative of `critic_loss` and is the quantity the paper plots to
    show training progress (it falls as the generator improves).

    Args:
        real_scores: Critic scores of real examples.
        fake_scores: Critic scores of generated examples.

    Returns:
        A float32 scalar.

    Examples:

    >>> float(wasserstein_estimate(tf.constant([2.0]), tf.constant([0.5])))
    1.5
    """
    return _mean(real_scores) - _mean(fake_scores)
