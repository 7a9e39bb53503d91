import numpy as np
import tensorflow as tf

from keras_wgangp import losses


def test_critic_and_generator_losses_exact():
    real = tf.constant([[1.0], [3.0]])
    fake = tf.constant([[0.5], [-0.5], [1.5]])
    assert float(losses.critic_loss(real, fake)) == np.float32(0.5 - 2.0)
    assert float(losses.generator_loss(fake)) == np.float32(-0.5)
    assert float(losses.wasserstein_estimate(real, fake)) == np.float32(1.5)


def test_losses_reduce_in_float32():
    scores = tf.constant([60000.0, 60000.0], tf.float16)
    # float16 would overflow while summing (max 65504); float32 does not.
    assert float(losses.generator_loss(scores)) == -60000.0
    assert losses.generator_loss(scores).dtype == tf.float32
