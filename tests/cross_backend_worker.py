"""Child process for test_cross_backend: `save FOLDER` trains and saves a
model under $KERAS_BACKEND with its expected state; `check FOLDER` loads
every saved model under $KERAS_BACKEND and compares; `save,check FOLDER` does
both in one process. Prints one JSON line, the last command's result.
The test runs `save` and `check` of its own backend in its own process."""

import glob
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_wgangp as kw  # noqa: E402

BACKEND = keras.backend.backend()


def state(gan):
    optimizers = (gan.generator_optimizer, gan.critic_optimizer)
    return {
        "weights": [np.asarray(w) for w in gan.get_weights()],
        "optimizer": [keras.ops.convert_to_numpy(v) for opt in optimizers for v in opt.variables],
        "samples": gan.generate(6, seed=4, labels=[0, 1, 2, 0, 1, 2]),
    }


def save(folder):
    x, y = kw.data.toy_samples("8gaussians", 192, seed=0, return_labels=True)
    y = y % 3
    keras.utils.set_random_seed(0)
    gan = kw.WGANGP(
        kw.architectures.mlp_generator(units=16, depth=2, num_classes=3),
        kw.architectures.mlp_critic(units=16, depth=2, num_classes=3),
        num_classes=3,
        critic_steps=2,
        ema_decay=0.9,
        seed=1,
    )
    gan.compile()
    gan.fit(x, y, batch_size=32, epochs=1, verbose=0)
    gan.save(os.path.join(folder, f"{BACKEND}.keras"))
    expected = state(gan)
    np.savez(
        os.path.join(folder, f"{BACKEND}.npz"),
        samples=expected["samples"],
        **{f"w{i}": w for i, w in enumerate(expected["weights"])},
        **{f"o{i}": v for i, v in enumerate(expected["optimizer"])},
    )
    return {"saved": BACKEND}


def check(folder):
    report = {}
    x, y = kw.data.toy_samples("8gaussians", 192, seed=0, return_labels=True)
    for path in sorted(glob.glob(os.path.join(folder, "*.keras"))):
        source = os.path.basename(path)[: -len(".keras")]
        saved = np.load(os.path.join(folder, f"{source}.npz"))
        gan = kw.load_model(path)
        got = state(gan)
        weights = max(float(np.abs(a - saved[f"w{i}"]).max()) for i, a in enumerate(got["weights"]))
        optimizer = max(float(np.abs(a - saved[f"o{i}"]).max()) for i, a in enumerate(got["optimizer"]))
        samples = float(np.abs(got["samples"] - saved["samples"]).max())
        # Training resumes from the loaded optimizer state.
        gan.fit(x, y % 3, batch_size=32, epochs=1, verbose=0)
        iterations = int(keras.ops.convert_to_numpy(gan.critic_optimizer.iterations))
        report[source] = {
            "weights": weights,
            "optimizer": optimizer,
            "samples": samples,
            "optimizer_variables": len(got["optimizer"]),
            "expected_optimizer_variables": sum(k.startswith("o") for k in saved.files),
            "iterations_after_resume": iterations,
        }
    return report


if __name__ == "__main__":
    commands, folder = sys.argv[1].split(","), sys.argv[2]
    results = [{"save": save, "check": check}[command](folder) for command in commands]
    print(json.dumps(results[-1]))
