"""Saving, resuming and serving: .keras round trips, stock callbacks, SavedModel export."""

import os
import shutil
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from helpers import tiny_gan

import keras_wgangp as kw
from keras_wgangp.cli import main

DATA = kw.data.toy_samples("8gaussians", 640, seed=0)


def trained_gan(epochs=2, **kwargs):
    gan = tiny_gan(critic_steps=2, **kwargs)
    gan.compile()
    gan.fit(DATA, batch_size=32, epochs=epochs, verbose=0)
    return gan


def optimizer_state(optimizer):
    return {v.path: keras.ops.convert_to_numpy(v) for v in optimizer.variables}


def test_keras_round_trip_keeps_weights_hyperparameters_and_optimizer_state(tmp_path):
    gan = trained_gan(gp_weight=3.0)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = keras.models.load_model(path)  # no custom_objects needed
    assert isinstance(loaded, kw.WGANGP)
    assert (loaded.latent_dim, loaded.critic_steps, loaded.gp_weight) == (2, 2, 3.0)
    for a, b in zip(gan.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for name in ("generator_optimizer", "critic_optimizer"):
        saved, restored = optimizer_state(getattr(gan, name)), optimizer_state(getattr(loaded, name))
        assert saved.keys() == restored.keys()
        assert any("momentum" in k for k in saved) and any("velocity" in k for k in saved)
        for key in saved:
            np.testing.assert_array_equal(saved[key], restored[key], err_msg=f"{name} {key}")
    assert int(loaded.generator_optimizer.iterations) == 20  # 640 / (2 · 32) per epoch
    assert int(loaded.critic_optimizer.iterations) == 40
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(gan.seed_generator.state),
        keras.ops.convert_to_numpy(loaded.seed_generator.state),
    )
    np.testing.assert_array_equal(gan.generate(8, seed=3), loaded.generate(8, seed=3))

    # Training continues from the saved counters instead of restarting at 0.
    loaded.fit(DATA, batch_size=32, epochs=1, verbose=0)
    assert int(loaded.generator_optimizer.iterations) == 30
    assert int(loaded.critic_optimizer.iterations) == 60


def test_round_trip_keeps_learning_rate_schedules(tmp_path):
    # The CLI's toy recipe: each optimizer decays linearly over its own updates.
    def adam(rate, updates):
        schedule = keras.optimizers.schedules.PolynomialDecay(rate, updates, end_learning_rate=0.0)
        return keras.optimizers.Adam(schedule, beta_1=0.5, beta_2=0.9)

    gan = tiny_gan(critic_steps=1, seed=0)
    gan.compile(adam(1e-3, 20), adam(2e-3, 20))
    gan.fit(kw.data.toy_samples("8gaussians", 320, seed=0), batch_size=64, epochs=1, verbose=0)
    path = str(tmp_path / "scheduled.keras")
    gan.save(path)
    loaded = kw.load_model(path)
    for before, after, start in (
        (gan.generator_optimizer, loaded.generator_optimizer, 1e-3),
        (gan.critic_optimizer, loaded.critic_optimizer, 2e-3),
    ):
        schedule = after._learning_rate
        assert isinstance(schedule, keras.optimizers.schedules.PolynomialDecay)
        assert (schedule.initial_learning_rate, schedule.decay_steps) == (start, 20)
        assert int(after.iterations.numpy()) == int(before.iterations.numpy()) == 5
        # 5 of 20 updates done: the rate is 3/4 of its start on both sides.
        np.testing.assert_allclose(float(after.learning_rate), 0.75 * start, rtol=1e-6)
        np.testing.assert_allclose(float(after.learning_rate), float(before.learning_rate), rtol=1e-7)


def test_continued_training_matches_uninterrupted(tmp_path):
    # Saving after epoch 1 and training the reloaded model for epoch 2 gives the
    # same weights as two uninterrupted epochs (no shuffle, so data order is fixed).
    def run(split):
        keras.utils.set_random_seed(11)
        gan = tiny_gan(critic_steps=2, seed=4)
        gan.compile()
        if not split:
            gan.fit(DATA, batch_size=32, epochs=2, shuffle=False, verbose=0)
            return gan.get_weights()
        gan.fit(DATA, batch_size=32, epochs=1, shuffle=False, verbose=0)
        gan.save(str(tmp_path / "mid.keras"))
        loaded = keras.models.load_model(str(tmp_path / "mid.keras"))
        loaded.fit(DATA, batch_size=32, epochs=2, initial_epoch=1, shuffle=False, verbose=0)
        return loaded.get_weights()

    for a, b in zip(run(False), run(True), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


class Interrupt(keras.callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise RuntimeError("simulated crash")


@pytest.mark.parametrize("ema_decay", [None, 0.99], ids=["no_ema", "ema"])
def test_resume_with_backup_and_restore_equals_uninterrupted(tmp_path, op_determinism, ema_decay):
    data = kw.data.toy_samples("25gaussians", 960, seed=1)

    def fresh():
        keras.utils.set_random_seed(7)
        gan = tiny_gan(critic_steps=3, seed=2, ema_decay=ema_decay)
        gan.compile()
        return gan

    gan = fresh()
    gan.fit(data, batch_size=32, epochs=4, verbose=0)  # shuffled every epoch
    expected = gan.get_weights()

    backup = str(tmp_path / "backup")
    gan = fresh()
    with pytest.raises(RuntimeError, match="simulated crash"):
        gan.fit(
            data,
            batch_size=32,
            epochs=4,
            verbose=0,
            callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt(epoch=2, batch=3)],
        )
    gan = fresh()  # a new process would start exactly like this
    gan.fit(data, batch_size=32, epochs=4, verbose=0, callbacks=[keras.callbacks.BackupAndRestore(backup)])
    assert int(gan.generator_optimizer.iterations) == 40
    for a, b in zip(expected, gan.get_weights(), strict=True):  # generator_ema included
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("filename", ["ckpt_{epoch}.keras", "ckpt_{epoch}.weights.h5"])
def test_model_checkpoint(tmp_path, filename):
    gan = tiny_gan(critic_steps=2)
    gan.compile()
    pattern = str(tmp_path / filename)
    weights_only = filename.endswith(".weights.h5")  # as Keras requires for that suffix
    callback = keras.callbacks.ModelCheckpoint(pattern, save_weights_only=weights_only)
    gan.fit(DATA, batch_size=32, epochs=2, verbose=0, callbacks=[callback])
    last = pattern.format(epoch=2)
    assert os.path.exists(last)
    if last.endswith(".keras"):
        restored = kw.load_model(last)
    else:
        restored = tiny_gan(critic_steps=2)
        restored.compile()
        restored.load_weights(last)
    for a, b in zip(gan.get_weights(), restored.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(restored.critic_optimizer.iterations) == int(gan.critic_optimizer.iterations)


def test_model_checkpoint_best_on_loss(tmp_path):
    gan = tiny_gan(critic_steps=2)
    gan.compile()
    path = str(tmp_path / "best.keras")
    callback = keras.callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True)
    gan.fit(DATA, batch_size=32, epochs=2, verbose=0, callbacks=[callback])
    assert os.path.exists(path)


def test_terminate_on_nan_stops_training():
    gan = tiny_gan(critic_steps=2)
    gan.compile(critic_optimizer=keras.optimizers.SGD(learning_rate=1e30))
    history = gan.fit(
        DATA * 1e10, batch_size=32, epochs=5, verbose=0, callbacks=[keras.callbacks.TerminateOnNaN()]
    )
    assert len(history.history["loss"]) == 1  # stopped inside the first epoch
    assert int(gan.generator_optimizer.iterations) < 20


def test_csv_logger(tmp_path):
    gan = tiny_gan(critic_steps=2)
    gan.compile()
    path = tmp_path / "log.csv"
    gan.fit(DATA, batch_size=32, epochs=2, verbose=0, callbacks=[keras.callbacks.CSVLogger(str(path))])
    lines = path.read_text().splitlines()
    assert len(lines) == 3
    assert {"epoch", "critic_loss", "generator_loss", "gradient_penalty"} <= set(lines[0].split(","))


def test_tensorboard(tmp_path):
    gan = tiny_gan(critic_steps=2)
    gan.compile()
    logdir = tmp_path / "tb"
    gan.fit(DATA, batch_size=32, epochs=2, verbose=0, callbacks=[keras.callbacks.TensorBoard(str(logdir))])
    events = [f for _, _, files in os.walk(logdir) for f in files if f.startswith("events")]
    assert events


EXPORT_CHECK = textwrap.dedent(
    """
    import sys, json
    import numpy as np
    import tensorflow as tf
    served = tf.saved_model.load(sys.argv[1])
    out = {}
    for batch in (1, 5):
        z = tf.random.normal((batch, 2))
        out[f"serve_{batch}"] = list(served.signatures["serving_default"](z=z).values())[0].shape.as_list()
        out[f"serve_fn_{batch}"] = served.serve(z).shape.as_list()
    a = served.sample(tf.constant(6), tf.constant(3, tf.int64)).numpy()
    b = served.signatures["sample"](num_samples=tf.constant(6), seed=tf.constant(3, tf.int64))
    b = list(b.values())[0].numpy()
    c = served.sample(tf.constant(6), tf.constant(4, tf.int64)).numpy()
    np.save(sys.argv[2], a)
    out["same_seed_equal"] = bool(np.array_equal(a, b))
    out["other_seed_differs"] = bool(not np.allclose(a, c))
    out["keras_wgangp_imported"] = "keras_wgangp" in sys.modules
    out["keras_imported"] = "keras" in sys.modules
    print(json.dumps(out))
    """
)


def test_export_serves_without_keras_wgangp(tmp_path):
    import json

    gan = trained_gan(epochs=1)
    path = str(tmp_path / "exported")
    gan.export(path, verbose=False)
    script = tmp_path / "check.py"
    script.write_text(EXPORT_CHECK)
    result = subprocess.run(
        [sys.executable, str(script), path, str(tmp_path / "a.npy")],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["serve_1"] == [1, 2] and out["serve_5"] == [5, 2]
    assert out["serve_fn_1"] == [1, 2] and out["serve_fn_5"] == [5, 2]
    assert out["same_seed_equal"] and out["other_seed_differs"]
    assert not out["keras_wgangp_imported"]
    # The served `sample` draws the same latents as gan.generate.
    np.testing.assert_allclose(np.load(tmp_path / "a.npy"), gan.generate(6, seed=3), rtol=1e-5, atol=1e-6)


def test_saved_model_cli_lists_both_signatures(tmp_path):
    cli = shutil.which("saved_model_cli") or os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    if not os.path.exists(cli):
        pytest.skip("saved_model_cli is not installed next to this Python")
    path = str(tmp_path / "exported")
    tiny_gan().export(path, verbose=False)
    result = subprocess.run(
        [cli, "show", "--dir", path, "--all"], capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("serving_default", "serve", "sample"):
        assert f"signature_def['{name}']" in result.stdout


def test_export_refuses_non_empty_path_unless_overwrite(tmp_path):
    gan = tiny_gan()
    path = tmp_path / "out"
    path.mkdir()
    (path / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        gan.export(str(path), verbose=False)
    assert (path / "keep.txt").exists()
    gan.export(str(path), verbose=False, overwrite=True)
    assert (path / "saved_model.pb").exists() and not (path / "keep.txt").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    gan.export(str(empty), verbose=False)  # an empty folder is fine


def test_load_errors_name_the_path(tmp_path):
    missing = str(tmp_path / "nope.keras")
    with pytest.raises(FileNotFoundError, match="nope.keras"):
        kw.load_model(missing)

    gan = trained_gan(epochs=1)
    good = tmp_path / "gan.keras"
    gan.save(str(good))
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match="truncated.keras.*truncated or corrupt"):
        kw.load_model(str(truncated))

    other = tmp_path / "plain.keras"
    keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save(str(other))
    with pytest.raises(ValueError, match="plain.keras.*not a keras_wgangp WGANGP"):
        kw.load_model(str(other))

    exported = tmp_path / "exported"
    gan.export(str(exported), verbose=False)
    with pytest.raises(ValueError, match="SavedModel export"):
        kw.load_model(str(exported))


def test_sample_command_reads_keras_and_saved_model(tmp_path, capsys):
    gan = trained_gan(epochs=1)
    gan.save(str(tmp_path / "gan.keras"))
    gan.export(str(tmp_path / "exported"), verbose=False)
    outputs = []
    for source in ("gan.keras", "exported"):
        png, npy = tmp_path / f"{source}.png", tmp_path / f"{source}.npy"
        code = main(
            ["sample", "--model", str(tmp_path / source), "--num", "50", "--seed", "2",
             "--output", str(png), "--npy", str(npy)]
        )  # fmt: skip
        assert code == 0
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        outputs.append(np.load(npy))
    assert outputs[0].shape == (50, 2)
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-6)
    assert (
        main(["sample", "--model", str(tmp_path / "missing.keras"), "--output", str(tmp_path / "x.png")]) == 1
    )
    assert "missing.keras" in capsys.readouterr().err


def test_sample_command_draws_an_image_grid(tmp_path):
    generator = keras.Sequential([keras.Input((3,)), keras.layers.Dense(36), keras.layers.Reshape((6, 6, 1))])
    critic = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    gan = kw.WGANGP(generator, critic)
    gan.compile()
    gan.save(str(tmp_path / "img.keras"))
    assert (
        main(
            [
                "sample",
                "--model",
                str(tmp_path / "img.keras"),
                "--num",
                "10",
                "--output",
                str(tmp_path / "g.png"),
            ]
        )
        == 0
    )
    assert (tmp_path / "g.png").exists()
