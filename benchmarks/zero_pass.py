"""Does JAX backpropagate the penalty's zeros through D(x̂)? Counts convolutions.

TensorFlow's second-derivative functions for ReLU-like activations return
tensors of zeros, and the tape backpropagates them through the critic's
forward pass on x̂ (`keras_wgangp.penalties.skip_zero_second_derivatives`
removes that pass). This script builds the gradient of a WGAN-GP critic loss
on JAX for a small conv critic with LeakyReLU, ReLU and ELU activations and
counts the convolutions in the program before and after XLA's optimisation.
ELU has curvature, so its count includes the second-derivative path that
ReLU-like critics do not need.

    KERAS_BACKEND=jax python benchmarks/zero_pass.py
"""

from __future__ import annotations

import os
import re
import sys

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_wgangp as kw  # noqa: E402

ACTIVATIONS = {
    "leaky_relu": lambda: keras.layers.LeakyReLU(0.2),
    "relu": keras.layers.ReLU,
    "elu": keras.layers.ELU,
}


def conv_critic(activation) -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            keras.layers.Conv2D(4, 3, strides=2, padding="same"),
            activation(),
            keras.layers.Conv2D(6, 3, padding="same"),
            activation(),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )


def convolutions(text: str) -> int:
    return len(re.findall(r"\bconvolution\(|stablehlo\.convolution", text))


def main() -> int:
    rng = np.random.default_rng(0)
    real, fake = (jnp.asarray(rng.normal(size=(6, 8, 8, 2)), jnp.float32) for _ in range(2))
    epsilon = jnp.asarray(rng.uniform(size=(6, 1, 1, 1)), jnp.float32)
    print("| critic activation | convolutions in the jitted gradient, before XLA | after XLA |")
    print("|---|---|---|")
    for name, activation in ACTIVATIONS.items():
        critic = conv_critic(activation)

        def loss(values, critic=critic):
            with keras.StatelessScope(
                state_mapping=list(zip(critic.trainable_variables, values, strict=True))
            ):
                scores = critic(jnp.concatenate([real, fake]))
                gp = kw.gradient_penalty(critic, real, fake, epsilon=epsilon)
                return jnp.mean(scores[6:]) - jnp.mean(scores[:6]) + 10.0 * gp

        lowered = jax.jit(jax.grad(loss)).lower([v.value for v in critic.trainable_variables])
        print(f"| {name} | {convolutions(lowered.as_text())} | {convolutions(lowered.compile().as_text())} |")
    print(f"\njax {jax.__version__}, Keras {keras.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
