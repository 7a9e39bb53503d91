"""Child process for test_ordering: seeded WGANGP fits repeated (twice) in one fresh
process, with the default thread settings. Prints one JSON line."""

import hashlib
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_wgangp as kw  # noqa: E402

tf.config.experimental.enable_op_determinism()
data = kw.data.toy_samples("25gaussians", 960, seed=1)


def run(ema_decay):
    keras.utils.set_random_seed(7)
    gan = kw.WGANGP(
        kw.architectures.mlp_generator(units=16, depth=2),
        kw.architectures.mlp_critic(units=16, depth=2),
        critic_steps=3,
        seed=2,
        ema_decay=ema_decay,
    )
    gan.compile()
    gan.fit(data, batch_size=32, epochs=4, verbose=0)  # shuffled every epoch
    return gan.get_weights(), int(gan.generator_optimizer.iterations.numpy())


result = {"max_difference": {}, "checksum": {}}
for name, decay in (("no_ema", None), ("ema", 0.99)):
    runs = [run(decay) for _ in range(2)]
    first, result["steps"] = runs[0]
    result["max_difference"][name] = max(
        float(np.abs(a - b).max()) for weights, _ in runs[1:] for a, b in zip(first, weights, strict=True)
    )
    result["checksum"][name] = hashlib.sha256(b"".join(w.tobytes() for w in first)).hexdigest()
print(json.dumps(result))
