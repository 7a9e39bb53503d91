"""Small models shared by the tests."""

import keras

import keras_wgangp as kw


def tiny_gan(units: int = 16, critic_steps: int = 5, **kwargs) -> kw.WGANGP:
    return kw.WGANGP(
        kw.architectures.mlp_generator(units=units, depth=2),
        kw.architectures.mlp_critic(units=units, depth=2),
        critic_steps=critic_steps,
        **kwargs,
    )


def weights(model: keras.Model):
    return [w.copy() for w in model.get_weights()]
