"""Reference networks and a keras.io-style WGAN-GP, for the speed benchmark.

Written here from the description of the keras.io WGAN-GP example (not
copied): the generator runs inside the critic's tape, the critic is called
separately on real and fake, and one real batch serves all critic steps.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

Z_IMAGE = 128


def image_critic() -> keras.Model:
    """28x28x1 -> pad to 32 -> Conv5x5/2 64,128,256,512 + LeakyReLU(0.2), dropout, Dense(1)."""
    x_in = keras.Input((28, 28, 1))
    x = layers.ZeroPadding2D(2)(x_in)
    for filters, drop in [(64, 0.0), (128, 0.3), (256, 0.3), (512, 0.0)]:
        x = layers.Conv2D(filters, 5, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
        if drop:
            x = layers.Dropout(drop)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.2)(x)
    return keras.Model(x_in, layers.Dense(1)(x), name="kerasio_critic")


def image_generator() -> keras.Model:
    """z=128 -> Dense 4x4x256 (BN, LeakyReLU) -> 3x [Upsample, Conv3x3, BN, act] -> crop to 28x28."""
    z = keras.Input((Z_IMAGE,))
    x = layers.Dense(4 * 4 * 256, use_bias=False)(z)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((4, 4, 256))(x)
    for filters in (128, 64):
        x = layers.UpSampling2D()(x)
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.UpSampling2D()(x)
    x = layers.Conv2D(1, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("tanh")(x)
    return keras.Model(z, layers.Cropping2D(2)(x), name="kerasio_generator")


class KerasIOStyleWGAN(keras.Model):
    """The keras.io pattern: fake generated inside the critic tape, two critic calls."""

    def __init__(self, critic, generator, latent_dim, critic_steps, gp_weight=10.0):
        super().__init__()
        self.critic, self.generator = critic, generator
        self.latent_dim, self.critic_steps, self.gp_weight = latent_dim, critic_steps, gp_weight

    def compile(self, critic_optimizer, generator_optimizer, **kwargs):
        super().compile(**kwargs)
        self.critic_optimizer, self.generator_optimizer = critic_optimizer, generator_optimizer

    def penalty(self, real, fake):
        shape = [tf.shape(real)[0]] + [1] * (len(real.shape) - 1)
        alpha = tf.random.uniform(shape)
        x = real + alpha * (fake - real)
        with tf.GradientTape() as tape:
            tape.watch(x)
            scores = self.critic(x, training=True)
        grads = tape.gradient(scores, x)
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=list(range(1, len(real.shape)))))
        return tf.reduce_mean((norm - 1.0) ** 2)

    def train_step(self, real):
        n = tf.shape(real)[0]
        for _ in range(self.critic_steps):
            z = tf.random.normal((n, self.latent_dim))
            with tf.GradientTape() as tape:
                fake = self.generator(z, training=True)
                loss = (
                    tf.reduce_mean(self.critic(fake, training=True))
                    - tf.reduce_mean(self.critic(real, training=True))
                    + self.gp_weight * self.penalty(real, fake)
                )
            grads = tape.gradient(loss, self.critic.trainable_variables)
            self.critic_optimizer.apply_gradients(zip(grads, self.critic.trainable_variables, strict=True))
        z = tf.random.normal((n, self.latent_dim))
        with tf.GradientTape() as tape:
            g_loss = -tf.reduce_mean(self.critic(self.generator(z, training=True), training=True))
        grads = tape.gradient(g_loss, self.generator.trainable_variables)
        self.generator_optimizer.apply_gradients(zip(grads, self.generator.trainable_variables, strict=True))
        return {"d_loss": loss, "g_loss": g_loss}
