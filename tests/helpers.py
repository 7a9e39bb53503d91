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


def weight_gradients(loss_fn, variables):
    """(loss, [d loss / d v for v in variables]) as NumPy, with the backend's autodiff."""

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn()
        grads = tape.gradient(loss, variables)
    elif backend == "jax":
        import jax

        def pure(values):
            with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))):
                return loss_fn()

        loss, grads = jax.value_and_grad(pure)([v.value for v in variables])
    else:
        import torch

        loss = loss_fn()
        grads = torch.autograd.grad(loss, [v.value for v in variables], allow_unused=True)
    to_numpy = keras.ops.convert_to_numpy
    return float(to_numpy(loss)), [None if g is None else to_numpy(g) for g in grads]
