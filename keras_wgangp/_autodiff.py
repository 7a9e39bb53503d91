"""Input gradients that stay differentiable, with each backend's own autodiff.

A gradient penalty needs ∇ₓ D(x) as a tensor that can itself be
differentiated with respect to the critic's weights (a second-order term).
Each Keras backend spells that differently:

- TensorFlow: an inner `tf.GradientTape` recorded under the outer one.
- JAX: `jax.grad` of x ↦ Σ D(x); the critic's weights are whatever the
  surrounding `keras.StatelessScope` maps them to (traced values inside the
  outer `jax.grad` of a train step), so the result depends on them.
- PyTorch: `torch.autograd.grad(..., create_graph=True)`.

Everything else in `penalties` is `keras.ops`.
"""

from __future__ import annotations

from collections.abc import Callable

import keras


def input_gradients(fn: Callable, inputs):
    """Returns ∇ₓ Σᵢ fn(x)ᵢ at `inputs`, differentiable with respect to the
    weights `fn` reads, in float32.

    Each example's score depends only on that example, so the gradient of the
    sum is, row by row, the gradient of each example's own score.

    Args:
        fn: Maps a batch `(batch, ...)` to scores (any shape with a batch axis).
        inputs: The points, a backend tensor or array.

    Returns:
        A float32 tensor shaped like `inputs`.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        inputs = tf.convert_to_tensor(inputs)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            total = tf.reduce_sum(tf.cast(fn(inputs), tf.float32))
        return tf.cast(tape.gradient(total, inputs), tf.float32)
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def total(x):
            return jnp.sum(jnp.asarray(fn(x), jnp.float32))

        return jax.grad(total)(jnp.asarray(inputs)).astype(jnp.float32)
    if backend == "torch":
        import torch

        x = keras.ops.convert_to_tensor(inputs)
        if not x.requires_grad:  # a leaf to differentiate at; a non-leaf keeps its graph
            x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            total = torch.sum(fn(x).to(torch.float32))
            (grads,) = torch.autograd.grad(total, x, create_graph=True)
        return grads.to(torch.float32)
    raise NotImplementedError(
        f"Gradient penalties need automatic differentiation; the {backend!r} backend has none here. "
        "Use KERAS_BACKEND=tensorflow, jax or torch."
    )
