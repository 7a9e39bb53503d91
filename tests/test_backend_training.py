"""GAN training, conditioning, EMA, seeding and .keras files on the active backend.

Marked `backends`: `test_backends.py` runs this module under JAX and
PyTorch as well as here under TensorFlow.
"""

import keras
import numpy as np
import pytest

import keras_wgangp as kw

pytestmark = pytest.mark.backends
DATA = kw.data.toy_samples("8gaussians", 256, seed=0)


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def iterations(optimizer) -> int:
    return int(to_numpy(optimizer.iterations))


def small_gan(loss="wasserstein", penalty="gp", **kwargs):
    generator = kw.architectures.mlp_generator(units=16, depth=2)
    if loss == "began":
        critic = kw.architectures.began_critic((2,), units=16, depth=1, code_dim=4)
    else:
        critic = kw.architectures.mlp_critic(units=16, depth=2)
    return kw.GAN(generator, critic, loss=loss, penalty=penalty, seed=3, **kwargs)


@pytest.mark.parametrize(
    "loss, penalty",
    [
        ("wasserstein", "gp"),
        ("wasserstein", "one_sided_gradient_penalty"),
        ("non_saturating", "r1"),
        ("hinge", "r2"),
        ("minimax", "dragan"),
        ("least_squares", None),
        ("relativistic_average", "r1"),
        ("began", None),
    ],
)
def test_every_loss_and_penalty_trains(loss, penalty):
    gan = small_gan(loss, penalty, critic_steps=2)
    gan.compile()
    before = [to_numpy(v) for v in gan.critic.trainable_variables]
    history = gan.fit(DATA, batch_size=32, epochs=1, verbose=0).history
    assert all(np.isfinite(values[-1]) for values in history.values()), history
    # 256 examples in groups of 2 x 32: 4 generator and 8 critic updates.
    assert iterations(gan.generator_optimizer) == 4 and iterations(gan.critic_optimizer) == 8
    after = [to_numpy(v) for v in gan.critic.trainable_variables]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_gradient_penalty_inside_the_step_is_the_closed_form():
    # A linear critic D(x) = w·x, frozen by SGD(0): the logged norm is ‖w‖
    # and the logged penalty (‖w‖ − 1)², whatever the batch.
    w = np.array([[0.6], [-1.7]], "float32")
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=False)])
    critic.layers[0].kernel.assign(w)
    gan = kw.WGANGP(kw.architectures.mlp_generator(units=8, depth=1), critic, critic_steps=3, seed=0)
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    history = gan.fit(DATA, batch_size=32, epochs=1, verbose=0).history
    norm = float(np.linalg.norm(w))
    np.testing.assert_allclose(history["gradient_norm"][-1], norm, rtol=1e-5)
    np.testing.assert_allclose(history["gradient_penalty"][-1], (norm - 1) ** 2, rtol=1e-5)


def test_lazy_penalty_runs_on_one_update_in_every():
    gan = small_gan("hinge", kw.penalties.R1(gamma=1.0, every=2), critic_steps=2)
    gan.compile()
    gan.fit(DATA, batch_size=32, epochs=1, verbose=0)
    # The tracker counts the updates where the penalty ran: 0, 2, 4, 6 of 8.
    tracker = next(metric for metric in gan.metrics if metric.name == "r1")
    assert float(to_numpy(tracker.count)) == 4.0


def test_ema_follows_its_update_rule():
    # A frozen generator (SGD(0)): its EMA stays equal to it at every step.
    gan = small_gan("non_saturating", "r1", ema_decay=0.9)
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.Adam(1e-3))
    gan.fit(DATA, batch_size=64, epochs=1, verbose=0)
    for average, weight in zip(gan.generator_ema.weights, gan.generator.weights, strict=True):
        np.testing.assert_allclose(to_numpy(average), to_numpy(weight), rtol=1e-6)
    # A training generator: after 4 updates the EMA lags behind it.
    gan = small_gan("non_saturating", "r1", ema_decay=0.9)
    gan.compile()
    gan.fit(DATA, batch_size=64, epochs=1, verbose=0)
    assert not np.allclose(to_numpy(gan.generator_ema.weights[0]), to_numpy(gan.generator.weights[0]))


def test_seeded_runs_repeat():
    results = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        gan = small_gan("wasserstein", "gp", critic_steps=2)
        gan.compile()
        gan.fit(DATA, batch_size=32, epochs=1, verbose=0)
        results.append(gan.generate(8, seed=1))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-7)


def test_conditional_gan_trains_and_generates_per_label():
    x, y = kw.data.toy_samples("8gaussians", 256, seed=0, return_labels=True)
    gan = kw.WGANGP(
        kw.architectures.mlp_generator(units=16, depth=2, num_classes=8),
        kw.architectures.mlp_critic(units=16, depth=2, num_classes=8),
        num_classes=8,
        critic_steps=2,
        seed=0,
    )
    gan.compile()
    history = gan.fit(x, y, batch_size=32, epochs=1, verbose=0).history
    assert np.isfinite(history["gradient_penalty"][-1])
    samples = gan.generate(6, seed=0, labels=[0, 1, 2, 3, 4, 5])
    assert samples.shape == (6, 2)


def test_keras_file_round_trip_keeps_weights_optimizer_state_and_samples(tmp_path):
    gan = small_gan("wasserstein", "gp", critic_steps=2, ema_decay=0.99)
    gan.compile()
    gan.fit(DATA, batch_size=32, epochs=1, verbose=0)
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = kw.load_model(path)
    assert iterations(loaded.critic_optimizer) == iterations(gan.critic_optimizer) == 8
    for a, b in zip(gan.critic_optimizer.variables, loaded.critic_optimizer.variables, strict=True):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    np.testing.assert_array_equal(loaded.generate(5, seed=2), gan.generate(5, seed=2))
    # Training resumes from the saved state on this backend.
    loaded.fit(DATA, batch_size=32, epochs=1, verbose=0)
    assert iterations(loaded.critic_optimizer) == 16


def test_export_serves_the_samples_of_generate(tmp_path):
    # TensorFlow traces the generator, JAX converts it with jax2tf, PyTorch
    # exports from a TensorFlow child process; the SavedModel is the same.
    import tensorflow as tf

    gan = kw.WGANGP(
        kw.architectures.mlp_generator(units=8, num_classes=3),
        kw.architectures.mlp_critic(units=8, num_classes=3),
        num_classes=3,
    )
    gan.compile()
    path = str(tmp_path / "generator")
    gan.export(path, verbose=False)
    served = tf.saved_model.load(path)
    assert {"serve", "sample", "num_classes"} <= set(served.signatures)
    sample = served.sample(tf.constant(4), tf.constant(3, tf.int64), tf.constant(2)).numpy()
    np.testing.assert_allclose(sample, gan.generate(4, seed=3, labels=2), atol=1e-5)
    z = np.random.default_rng(0).normal(size=(5, 2)).astype("float32")
    labels = np.array([0, 1, 2, 1, 0], "int32")
    np.testing.assert_allclose(
        served.serve(z, labels).numpy(), to_numpy(gan.generator([z, labels])), atol=1e-5
    )


def test_train_command_runs(tmp_path):
    import json

    from keras_wgangp.cli import main

    out = tmp_path / "run"
    args = ["train", "--steps", "4", "--epochs", "2", "--width", "8", "--batch-size", "16"]
    assert main(args + ["--output", str(out), "--verbose", "0"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generator_steps"] == 4 and summary["critic_steps"] == 4
    assert (out / "saved_model").is_dir() and (out / "model.keras").is_file()


def test_acgan_with_an_infogan_code_trains():
    x, y = kw.data.toy_samples("8gaussians", 256, seed=0, return_labels=True)
    gan = kw.WGANGP(
        kw.architectures.mlp_generator(2 + 3, units=16, depth=2, num_classes=8),
        kw.architectures.mlp_critic(units=16, depth=2, num_classes=8, auxiliary_classifier=True, q_outputs=3),
        num_classes=8,
        classifier_weight=1.0,
        latent_codes=[kw.codes.Categorical(3)],
        critic_steps=2,
        seed=0,
    )
    gan.compile()
    history = gan.fit(x, y, batch_size=32, epochs=1, verbose=0).history
    for name in ("classifier_loss", "classifier_accuracy", "info_loss", "gradient_penalty"):
        assert np.isfinite(history[name][-1]), name
    assert gan.generate(4, seed=0, labels=1, codes=[2]).shape == (4, 2)


@keras.saving.register_keras_serializable(package="keras_wgangp_tests")
class DriftGAN(kw.GAN):
    """The public hooks: ProGAN's drift term in the critic loss, a doubled generator loss."""

    def __init__(self, *args, drift=1e-3, **kwargs):
        super().__init__(*args, **kwargs)
        self.drift = drift
        self.drift_tracker = keras.metrics.Mean(name="drift")

    @property
    def metrics(self):
        return super().metrics + [self.drift_tracker]

    def critic_loss(self, batch):
        loss, logs = super().critic_loss(batch)
        drift = keras.ops.mean(keras.ops.square(batch.real_scores.score))
        return loss + self.drift * drift, {**logs, "drift": drift}

    def generator_loss(self, batch):
        loss, logs = super().generator_loss(batch)
        return 2.0 * loss, logs


def test_public_loss_hooks_change_the_objective_on_every_backend():
    # Frozen networks (SGD(0)) and one seed: both models draw the same fakes,
    # so the hooks' terms are exactly what separates their logs.
    histories, scores = [], None
    for cls in (kw.GAN, DriftGAN):
        generator = kw.architectures.mlp_generator(units=8, depth=1)
        critic = kw.architectures.mlp_critic(units=8, depth=1)
        generator.set_weights([np.full(w.shape, 0.1, "float32") for w in generator.get_weights()])
        critic.set_weights(
            [np.linspace(-1, 1, w.size, dtype="float32").reshape(w.shape) for w in critic.get_weights()]
        )
        gan = cls(generator, critic, penalty="gp", critic_steps=2, seed=3)
        gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
        histories.append(gan.fit(DATA[:128], batch_size=32, shuffle=False, verbose=0).history)
        scores = to_numpy(critic(DATA[:128])).reshape(4, 32)
    plain, drift = histories
    expected_drift = float(np.mean(np.mean(scores**2, axis=1)))  # 4 critic updates of 32
    np.testing.assert_allclose(drift["drift"][0], expected_drift, rtol=1e-5)
    np.testing.assert_allclose(
        drift["critic_loss"][0], plain["critic_loss"][0] + 1e-3 * expected_drift, rtol=1e-5
    )
    np.testing.assert_allclose(drift["generator_loss"][0], 2.0 * plain["generator_loss"][0], rtol=1e-5)


def test_a_log_without_a_metric_is_named():
    class Undeclared(kw.GAN):
        def critic_loss(self, batch):
            loss, logs = super().critic_loss(batch)
            return loss, {**logs, "drift": loss}

    gan = Undeclared(kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8))
    gan.compile()
    with pytest.raises(ValueError, match="'drift', which has no metric"):
        gan.fit(DATA[:64], batch_size=32, verbose=0)
