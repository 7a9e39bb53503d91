"""Child process for test_cross_backend's JAX DataParallel check: one train
step of the same model on the same global batch, with and without
`keras.distribution.DataParallel` over 2 virtual CPU devices. Prints JSON."""

import json
import os

os.environ["KERAS_BACKEND"] = "jax"
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_wgangp as kw  # noqa: E402

DATA = kw.data.toy_samples("8gaussians", 128, seed=0)


def one_step(distribution):
    if distribution is not None:
        keras.distribution.set_distribution(distribution)
    keras.utils.set_random_seed(0)
    gan = kw.WGANGP(
        kw.architectures.mlp_generator(units=16, depth=2),
        kw.architectures.mlp_critic(units=16, depth=2),
        critic_steps=2,
        seed=5,
    )
    gan.compile()
    before = [np.asarray(w) for w in gan.get_weights()]
    # 128 examples = one group of 2 critic batches of 64: one generator step.
    history = gan.fit(DATA, batch_size=64, epochs=1, shuffle=False, verbose=0).history
    weights = [np.asarray(w) for w in gan.get_weights()]
    moved = max(float(np.abs(a - b).max()) for a, b in zip(weights, before, strict=True))
    devices = len(gan.critic.trainable_variables[0].value.sharding.device_set)
    keras.distribution.set_distribution(None)
    return weights, {
        "moved": moved,
        "variable_devices": devices,
        **{k: float(v[-1]) for k, v in history.items()},
    }


single, single_logs = one_step(None)
devices = jax.devices("cpu")
parallel, parallel_logs = one_step(keras.distribution.DataParallel(devices=devices))
print(
    json.dumps(
        {
            "devices": len(devices),
            "max_weight_difference": max(
                float(np.abs(a - b).max()) for a, b in zip(single, parallel, strict=True)
            ),
            "logs": [single_logs, parallel_logs],
        }
    )
)
