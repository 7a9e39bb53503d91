"""GAN: pluggable losses and penalties, WGANGP as its preset, lazy penalties, BEGAN."""

import ast
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import weights

import keras_wgangp as kw
from keras_wgangp import losses, penalties

LOSS_NAMES = sorted(losses._LOSSES)
DATA = kw.data.toy_samples("8gaussians", 512, seed=0)


def networks(loss="wasserstein", units=16):
    generator = kw.architectures.mlp_generator(units=units, depth=2)
    if loss == "began":
        return generator, kw.architectures.began_critic((2,), units=units, depth=1, code_dim=4)
    return generator, kw.architectures.mlp_critic(units=units, depth=2)


def sgd_pair():
    return keras.optimizers.SGD(0.01), keras.optimizers.SGD(0.01)


def test_wgangp_is_the_gan_preset():
    keras.utils.set_random_seed(0)
    preset = kw.WGANGP(*networks(), seed=5)
    keras.utils.set_random_seed(0)
    general = kw.GAN(
        *networks(),
        loss="wasserstein",
        penalty=penalties.GradientPenalty(weight=10.0),
        critic_steps=5,
        seed=5,
    )
    assert isinstance(preset, kw.GAN)
    assert preset.critic_steps == general.critic_steps == 5
    assert preset.adversarial_loss == losses.Wasserstein()
    assert preset.penalties == [penalties.GradientPenalty(weight=10.0, target=1.0)]
    for gan in (preset, general):
        gan.compile(*sgd_pair())
        keras.utils.set_random_seed(1)
        gan.fit(DATA, batch_size=32, epochs=1, verbose=0)
    for a, b in zip(preset.get_weights(), general.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_wgangp_config_keeps_its_constructor_keys():
    config = kw.WGANGP(*networks(), gp_weight=3.0, target_norm=0.5).get_config()
    assert set(config) == {
        "name",
        "trainable",
        "generator",
        "critic",
        "latent_dim",
        "critic_steps",
        "gp_weight",
        "target_norm",
        "seed",
        "clip_value",
        "ema_decay",
        # GAN options that WGANGP passes through (conditional, ACGAN, InfoGAN)
        "num_classes",
        "classifier_weight",
        "latent_codes",
        "info_weight",
        "pack",
        "augment",  # from 0.6.0: None, or the augmentation's config
    }
    restored = kw.WGANGP.from_config(config)
    assert restored.penalties == [penalties.GradientPenalty(weight=3.0, target=0.5)]


def test_default_optimizers_are_dcgan_adam_and_separate():
    gan = kw.GAN(*networks(), loss="hinge")
    gan.compile()
    g, c = gan.generator_optimizer, gan.critic_optimizer
    assert g is not c
    for optimizer in (g, c):
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert float(optimizer.learning_rate) == pytest.approx(2e-4)
        assert (optimizer.beta_1, optimizer.beta_2) == (0.5, 0.999)
    paper = kw.WGANGP(*networks())
    paper.compile()
    assert (paper.generator_optimizer.beta_1, paper.generator_optimizer.beta_2) == (0.0, 0.9)


def test_loss_and_penalty_arguments_resolve_and_are_owned_by_the_model():
    r1 = penalties.R1(gamma=2.0)
    gan = kw.GAN(*networks(), loss="least_squares", penalty=[r1, "gp"])
    assert gan.adversarial_loss == losses.LeastSquares()
    assert gan.penalties == [r1, penalties.GradientPenalty()]
    assert gan.penalties[0] is not r1  # a copy: BEGAN's k must not be shared between models
    assert kw.GAN(*networks()).penalties == []
    assert kw.GAN(*networks(), penalty="r2").penalties == [penalties.R2()]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"loss": "wgan"}, ValueError, "Unknown loss 'wgan'; valid names: began, hinge"),
        ({"loss": 3}, TypeError, "A loss must be a name"),
        ({"penalty": "r3"}, ValueError, "Unknown penalty 'r3'"),
        ({"penalty": [penalties.R1(), 1.5]}, TypeError, "A penalty must be a name"),
        ({"critic_steps": 0}, ValueError, "critic_steps"),
    ],
)
def test_bad_loss_and_penalty_arguments_are_rejected_up_front(kwargs, error, match):
    with pytest.raises(error, match=match):
        kw.GAN(*networks(), **kwargs)


@pytest.mark.parametrize("every", [0, -1, 1.5, True])
def test_every_must_be_a_positive_integer(every):
    with pytest.raises(ValueError, match="`every` must be an integer >= 1"):
        penalties.R1(every=every)


@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_each_loss_logs_its_metrics(loss):
    gan = kw.GAN(*networks(loss), loss=loss, penalty="r1", critic_steps=2, seed=0)
    gan.compile(*sgd_pair())
    history = gan.fit(DATA, batch_size=32, epochs=2, verbose=0).history
    expected = {"loss", "critic_loss", "generator_loss", "r1", *gan.adversarial_loss.metric_names}
    assert set(history) == expected
    assert history["loss"] == history["critic_loss"]
    for values in history.values():
        assert np.isfinite(values).all() and len(values) == 2
    assert {"wasserstein": {"wasserstein_estimate"}, "began": {"k", "convergence"}}.get(
        loss, {"real_score", "fake_score"}
    ) == set(gan.adversarial_loss.metric_names)


def test_repeated_penalty_metrics_get_unique_names():
    gan = kw.GAN(*networks(), penalty=["gp", penalties.GradientPenalty(weight=1.0, one_sided=True), "dragan"])
    names = [metric.name for metric in gan.metrics]
    assert names == [
        "critic_loss",
        "generator_loss",
        "gradient_penalty",
        "gradient_norm",
        "gradient_penalty_2",
        "gradient_norm_2",
        "dragan",
        "dragan_gradient_norm",
        "wasserstein_estimate",
    ]


class CountingPenalty(penalties.Penalty):
    """A constant term (3.0) that counts how often it is computed."""

    name = "counting"
    metric_names = ("counting",)

    def __init__(self, every=1):
        super().__init__(every)
        self.calls = tf.Variable(0, trainable=False)

    def compute(self, critic, real, fake, seed=None):
        self.calls.assign_add(1)
        value = tf.constant(3.0)
        return value, {"counting": value}


@pytest.mark.parametrize("every", [1, 2, 4])
def test_lazy_penalty_runs_on_exactly_one_in_every_critic_updates(every):
    # 3 critic steps x 4 generator steps = 12 critic updates, numbered 0..11.
    gan = kw.GAN(*networks(), penalty=CountingPenalty(every=every), critic_steps=3, seed=0)
    gan.compile(*sgd_pair())
    history = gan.fit(DATA[: 4 * 3 * 32], batch_size=32, epochs=1, verbose=0).history
    assert int(gan.critic_optimizer.iterations) == 12
    assert int(gan.penalties[0].calls.numpy()) == 12 // every
    assert history["counting"] == [pytest.approx(3.0)]  # averaged over the updates where it ran


@pytest.mark.parametrize("every", [1, 4])
def test_lazy_penalty_is_weighted_by_every_where_it_runs(every):
    gan = kw.GAN(*networks(), penalty=CountingPenalty(every=every), seed=0)
    gan.compile(*sgd_pair())
    real = fake = tf.zeros((4, 2))
    for iteration in range(2 * every):
        gan.critic_optimizer.iterations.assign(iteration)
        batch = kw.objective.Batch(
            real, fake, None, critic=gan.critic, seed=gan.seed_generator, iteration=iteration
        )
        term, logs = kw.objective.PenaltyTerm(gan.penalties[0]).critic(batch)
        value, ran = logs["counting"] if every > 1 else (logs["counting"], 1.0)
        values = [value]
        runs = iteration % every == 0
        assert float(term) == (3.0 * every if runs else 0.0)
        assert float(ran) == float(runs)
        assert float(values[0]) == (3.0 if runs else 0.0)


def test_lazy_gradient_penalty_trains_and_round_trips(tmp_path):
    gan = kw.GAN(*networks(), penalty=penalties.GradientPenalty(every=4), critic_steps=5, seed=0)
    gan.compile(*sgd_pair())
    history = gan.fit(DATA, batch_size=32, epochs=1, verbose=0).history
    assert np.isfinite(history["gradient_penalty"]).all()
    path = str(tmp_path / "lazy.keras")
    gan.save(path)
    assert kw.load_model(path).penalties[0].every == 4


@keras.saving.register_keras_serializable(package="keras_wgangp_tests")
class RecordingBEGAN(kw.GAN):
    """Records the critic scores of each critic update (needs run_eagerly)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scores = []

    def critic_loss(self, batch):
        real_out, fake_out = batch.real_scores, batch.fake_scores
        self.scores.append((real_out.score.numpy().mean(), fake_out.score.numpy().mean()))
        return super().critic_loss(batch)


def test_began_k_follows_its_update_rule_and_is_saved(tmp_path):
    loss = losses.BEGAN(gamma=0.7, lambda_k=0.05)
    gan = RecordingBEGAN(*networks("began"), loss=loss, critic_steps=2, seed=0)
    gan.compile(*sgd_pair(), run_eagerly=True)
    assert float(gan.adversarial_loss.k) == 0.0
    history = gan.fit(DATA[:256], batch_size=32, epochs=1, verbose=0).history
    k, ks, convergence = 0.0, [], []
    for real, fake in gan.scores:
        k = float(np.clip(k + 0.05 * (0.7 * real - fake), 0.0, 1.0))
        ks.append(k)
        convergence.append(real + abs(0.7 * real - fake))
    assert float(gan.adversarial_loss.k) == pytest.approx(k, rel=1e-5, abs=1e-7)
    assert history["k"] == [pytest.approx(np.mean(ks), rel=1e-5, abs=1e-7)]
    assert history["convergence"] == [pytest.approx(np.mean(convergence), rel=1e-5)]
    assert k > 0
    path = str(tmp_path / "began.keras")
    gan.save(path)
    restored = kw.load_model(path)  # a registered subclass of GAN loads too
    assert type(restored) is RecordingBEGAN
    assert restored.adversarial_loss == loss
    assert float(restored.adversarial_loss.k) == pytest.approx(k, rel=1e-6)


def test_began_losses_and_k_clipping():
    loss = losses.BEGAN(gamma=0.5, lambda_k=1.0)
    loss.build()
    real, fake = tf.constant([0.2, 0.4]), tf.constant([0.1, 0.1])  # means 0.3, 0.1
    assert float(loss.critic_loss(real, fake)) == pytest.approx(0.3)
    assert float(loss.generator_loss(fake)) == pytest.approx(0.1)
    loss.k.assign(0.5)
    assert float(loss.critic_loss(real, fake)) == pytest.approx(0.3 - 0.05)
    assert float(loss.after_critic_update(real, fake)["k"]) == pytest.approx(0.55)
    assert float(loss.after_critic_update(real, tf.constant([5.0]))["k"]) == 0.0  # clipped below
    assert float(loss.after_critic_update(tf.constant([9.0]), fake)["k"]) == 1.0  # clipped above


def test_began_critic_scores_are_reconstruction_errors():
    critic = kw.architectures.began_critic((8, 8, 1), units=4, code_dim=4)
    x = np.random.default_rng(0).uniform(-1, 1, (3, 8, 8, 1)).astype("float32")
    reconstruction = keras.Model(critic.input, critic.get_layer("reconstruction").output)(x)
    np.testing.assert_allclose(
        critic(x).numpy(), np.abs(x - reconstruction.numpy()).mean(axis=(1, 2, 3)), rtol=1e-5, atol=1e-6
    )


def test_relativistic_generator_update_uses_real_scores():
    class Recording(losses.RelativisticAverage):
        seen = []

        def generator_loss(self, fake_scores, real_scores=None):
            Recording.seen.append(real_scores is not None)
            return super().generator_loss(fake_scores, real_scores)

    gan = kw.GAN(*networks(), loss=Recording(), seed=0)
    gan.compile(*sgd_pair())
    history = gan.fit(DATA[:64], batch_size=32, epochs=1, verbose=0).history
    assert Recording.seen and all(Recording.seen)
    assert np.isfinite(history["generator_loss"]).all()


@pytest.mark.slow
@pytest.mark.parametrize("penalty", [None, "gp", "r1"])
@pytest.mark.parametrize("loss", LOSS_NAMES)
def test_smoke_grid_trains_round_trips_and_exports(tmp_path, loss, penalty):
    gan = kw.GAN(*networks(loss), loss=loss, penalty=penalty, critic_steps=2, seed=1, ema_decay=0.9)
    gan.compile(*sgd_pair())
    history = gan.fit(DATA[:256], batch_size=32, epochs=1, verbose=0).history
    for name, values in history.items():
        assert np.isfinite(values).all(), name
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    restored = kw.load_model(path)
    assert type(restored) is kw.GAN
    assert restored.adversarial_loss == gan.adversarial_loss
    assert restored.penalties == gan.penalties
    assert int(restored.critic_optimizer.iterations) == int(gan.critic_optimizer.iterations) == 8
    assert int(restored.generator_optimizer.iterations) == 4
    np.testing.assert_array_equal(restored.generate(5, seed=3), gan.generate(5, seed=3))
    restored.export(str(tmp_path / "export"), verbose=False)
    served = tf.saved_model.load(str(tmp_path / "export"))
    np.testing.assert_allclose(
        served.sample(tf.constant(5), tf.constant(3, tf.int64)).numpy(),
        gan.generate(5, seed=3),
        rtol=1e-5,
        atol=1e-6,
    )


def test_bad_data_leaves_the_weights_unchanged():
    gan = kw.GAN(*networks(), loss="hinge", penalty="r1")
    gan.compile(*sgd_pair())
    before = weights(gan)
    with pytest.raises(TypeError, match="floating-point data"):
        gan.fit(np.zeros((64, 2), "int32"), batch_size=32, verbose=0)
    with pytest.raises(ValueError, match="generator outputs examples of shape"):
        gan.fit(np.zeros((64, 3), "float32"), batch_size=32, verbose=0)
    for a, b in zip(before, weights(gan), strict=True):
        np.testing.assert_array_equal(a, b)


def test_package_modules_import_without_cycles():
    package = os.path.dirname(kw.__file__)
    graph = {}
    for filename in os.listdir(package):
        if not filename.endswith(".py") or filename == "__init__.py":
            continue
        module = filename[:-3]
        tree = ast.parse(open(os.path.join(package, filename)).read())
        imports = set()
        for node in ast.walk(tree):  # lazy (function-level) imports count too
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("keras_wgangp"):
                if node.module == "keras_wgangp":
                    imports |= {alias.name for alias in node.names}
                else:
                    imports.add(node.module.split(".")[1])
        graph[module] = imports & {f[:-3] for f in os.listdir(package) if f.endswith(".py")}

    def visit(module, stack):
        assert module not in stack, "import cycle: " + " -> ".join([*stack, module])
        for child in graph.get(module, ()):
            visit(child, [*stack, module])

    for module in graph:
        visit(module, [])
    assert "saving" not in graph["gan"] and "gan" in graph["saving"]


@pytest.mark.parametrize("loss", ["hinge", "began"])
def test_mixed_float16_trains_with_finite_float32_metrics(loss):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        gan = kw.GAN(*networks(loss), loss=loss, penalty=penalties.R1(gamma=1.0, every=2), critic_steps=2)
        gan.compile()
        assert isinstance(gan.critic_optimizer, keras.optimizers.LossScaleOptimizer)
        history = gan.fit(DATA[:256], batch_size=32, epochs=1, verbose=0).history
    finally:
        keras.mixed_precision.set_global_policy("float32")
    for name, values in history.items():
        assert np.isfinite(values).all(), name
    assert gan.generate(4).dtype == np.float32


@pytest.mark.parametrize("n, sizes", [(12, [6, 6]), (10, [6, 4])])
def test_groups_get_a_static_size_where_no_partial_last_group_exists(n, sizes):
    # A static group size lets the step cut its critic batches as static slices (no gathers).
    from keras_wgangp import pipeline

    x = np.arange(2 * n, dtype="float32").reshape(n, 2)
    dataset, _ = pipeline.make_dataset(x, 2, critic_steps=3, shuffle=False)
    assert dataset.element_spec.shape[0] == (6 if n % 6 == 0 else None)
    groups = list(dataset.as_numpy_iterator())
    assert [len(group) for group in groups] == sizes
    np.testing.assert_array_equal(np.concatenate(groups), x)
    endless = tf.data.Dataset.from_tensor_slices(x).batch(2).repeat()
    assert pipeline.make_dataset(endless, None, critic_steps=3, shuffle=False)[0].element_spec.shape[0] == 6
    finite = tf.data.Dataset.from_tensor_slices(x).batch(2)
    assert pipeline.make_dataset(finite, None, critic_steps=3, shuffle=False)[0].element_spec.shape[0] is None
