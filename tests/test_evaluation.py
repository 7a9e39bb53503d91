"""Metrics against reference computations; EMA and weight clipping; the evaluate command."""

import json

import keras
import numpy as np
import pytest
import scipy.linalg
import scipy.stats
from helpers import tiny_gan

import keras_wgangp as kw
from keras_wgangp import evaluation as ev


def reference_fid(a, b):
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a + s_b - 2 * scipy.linalg.sqrtm(s_a @ s_b).real))


def test_frechet_distance_matches_direct_computation():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 6))
    b = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)) * 0.5 + 0.3
    assert ev.frechet_distance(a, b) == pytest.approx(reference_fid(a, b), rel=1e-8)
    assert ev.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_closed_form_for_gaussians():
    # Two 1-D Gaussians: FID = (μa − μb)² + (σa − σb)².
    rng = np.random.default_rng(1)
    a = rng.normal(2.0, 1.0, size=(200_000, 1))
    b = rng.normal(-1.0, 3.0, size=(200_000, 1))
    assert ev.frechet_distance(a, b) == pytest.approx(9.0 + 4.0, rel=0.01)


def test_frechet_distance_survives_singular_covariance():
    rng = np.random.default_rng(2)
    a = np.concatenate([rng.normal(size=(50, 3)), np.zeros((50, 5))], axis=1)  # rank 3 of 8
    b = a + 0.1
    value = ev.frechet_distance(a, b)
    assert np.isfinite(value) and value == pytest.approx(8 * 0.01, abs=1e-3)


def reference_mmd2(x, y):
    d = x.shape[1]
    k = lambda u, v: (u @ v.T / d + 1.0) ** 3  # noqa: E731
    m = len(x)
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    total = 0.0
    for i in range(m):
        for j in range(m):
            if i != j:
                total += kxx[i, j] + kyy[i, j]
    return total / (m * (m - 1)) - 2 * kxy.mean()


def test_kid_matches_direct_computation():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(40, 5)), rng.normal(size=(40, 5)) + 0.5
    mean, std = ev.kernel_inception_distance(x, y, num_subsets=3, subset_size=40)
    assert mean == pytest.approx(reference_mmd2(x, y), rel=1e-9)
    assert std == pytest.approx(0.0, abs=1e-12)  # every subset is the whole set


def test_kid_is_near_zero_for_the_same_distribution():
    rng = np.random.default_rng(4)
    mean, _ = ev.kernel_inception_distance(
        rng.normal(size=(2000, 8)), rng.normal(size=(2000, 8)), num_subsets=10
    )
    assert abs(mean) < 0.01


@pytest.mark.parametrize("sizes", [(500, 500), (300, 700)])
def test_sliced_wasserstein_is_exact_in_one_dimension(sizes):
    rng = np.random.default_rng(5)
    u, v = rng.normal(size=sizes[0]), rng.exponential(size=sizes[1]) + 1
    expected = scipy.stats.wasserstein_distance(u, v)
    assert ev.sliced_wasserstein_distance(u, v) == pytest.approx(expected, rel=1e-9)


def test_sliced_wasserstein_projects_shifts():
    # A shift s along x gives per-direction W1 = |s·θx|; the mean over uniform θ is 2|s|/π.
    rng = np.random.default_rng(6)
    a = rng.normal(size=(4000, 2))
    b = a + np.array([1.0, 0.0])
    assert ev.sliced_wasserstein_distance(a, b, num_projections=4000) == pytest.approx(2 / np.pi, rel=0.03)
    assert ev.sliced_wasserstein_distance(a, a) == 0.0


def test_mode_coverage_swissroll():
    real = kw.data.toy_samples("swissroll", 4000, seed=0)
    result = ev.mode_coverage(real, "swissroll")
    assert result["num_modes"] == 20 and result["modes_covered"] == 20
    assert result["high_quality_fraction"] > 0.97
    assert ev.mode_coverage(np.repeat(real[:1], 500, axis=0), "swissroll")["modes_covered"] == 1


def test_feature_extractor_batches_any_keras_model():
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    x = np.random.rand(10, 4, 4, 1).astype("float32")
    out = ev.FeatureExtractor(model, batch_size=3)(x)
    np.testing.assert_allclose(out, model.predict(x, verbose=0), rtol=1e-5)


def test_inception_features_preprocess_and_shape():
    extractor = ev.InceptionV3Features(weights=None, batch_size=2)
    gray = np.linspace(-1, 1, 3 * 8 * 8).reshape(3, 8, 8, 1).astype("float32")
    batch = np.asarray(extractor.preprocess(gray))
    assert batch.shape == (3, 299, 299, 3)
    np.testing.assert_allclose(batch[..., 0], batch[..., 2])  # grayscale repeated to RGB
    assert extractor(gray).shape == (3, 2048)


def test_inception_without_weights_says_how_to_supply_them(monkeypatch, tmp_path):
    with pytest.raises(FileNotFoundError, match="weights="):
        ev.InceptionV3Features(weights=str(tmp_path / "missing.h5"))

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    monkeypatch.setattr("keras.src.applications.inception_v3.file_utils.get_file", offline)
    with pytest.raises(RuntimeError, match="inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        ev.InceptionV3Features(weights="imagenet")


def test_classifier_features_and_fid_floor():
    extractor = ev.classifier_features("digits", image_size=8)
    x_train, _, x_test, _ = ev.digits_split(8)
    features = extractor(x_test)
    assert features.shape == (len(x_test), 64)
    floor = ev.frechet_inception_distance(x_train, x_test, extractor)
    noise = np.random.default_rng(0).uniform(-1, 1, x_test.shape).astype("float32")
    assert floor < ev.frechet_inception_distance(noise, x_test, extractor) / 10
    mean, _ = ev.kid(x_train, x_test, extractor, num_subsets=5, subset_size=200)
    noise_kid, _ = ev.kid(noise, x_test, extractor, num_subsets=5, subset_size=200)
    assert abs(mean) < noise_kid / 20


def test_digits_classifier_is_accurate_and_cached():
    clf = ev.digits_classifier(8)
    _, _, x_test, y_test = ev.digits_split(8)
    accuracy = (clf.predict(x_test, verbose=0).argmax(1) == y_test).mean()
    assert accuracy > 0.93
    again = ev.digits_classifier(8)  # from the cache: same weights
    for a, b in zip(clf.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------- EMA, clipping
def test_ema_tracks_the_generator_and_is_saved(tmp_path):
    gan = tiny_gan(critic_steps=1, ema_decay=0.9)
    for a, b in zip(gan.generator.get_weights(), gan.generator_ema.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    before = [w.copy() for w in gan.generator_ema.get_weights()]
    gan.compile()
    gan.fit(kw.data.toy_samples("8gaussians", 64, seed=0), batch_size=64, epochs=1, verbose=0)
    # One generator step at t = 0: decay = min(0.9, 1/10) = 0.1.
    for old, new_raw, ema in zip(
        before, gan.generator.get_weights(), gan.generator_ema.get_weights(), strict=True
    ):
        np.testing.assert_allclose(ema, 0.1 * old + 0.9 * new_raw, rtol=1e-5, atol=1e-7)
    z = np.random.randn(5, 2).astype("float32")
    np.testing.assert_allclose(
        gan.generate(5, seed=1), gan.generator_ema(keras.random.normal((5, 2), seed=1)).numpy()
    )
    np.testing.assert_allclose(gan(z).numpy(), gan.generator(z).numpy())  # call() stays the raw generator
    gan.save(str(tmp_path / "ema.keras"))
    loaded = kw.load_model(str(tmp_path / "ema.keras"))
    assert loaded.ema_decay == 0.9
    for a, b in zip(gan.generator_ema.get_weights(), loaded.generator_ema.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not loaded.generator_ema.trainable


def test_weight_clipping_bounds_every_critic_weight():
    gan = tiny_gan(critic_steps=2, clip_value=0.01, gp_weight=0.0)
    gan.compile(keras.optimizers.RMSprop(5e-5), keras.optimizers.RMSprop(5e-5))
    gan.fit(kw.data.toy_samples("8gaussians", 256, seed=0), batch_size=32, epochs=1, verbose=0)
    for weight in gan.critic.get_weights():
        assert np.abs(weight).max() <= 0.01 + 1e-7


def test_bad_ema_and_clip_values():
    with pytest.raises(ValueError, match="ema_decay"):
        tiny_gan(ema_decay=1.0)
    with pytest.raises(ValueError, match="clip_value"):
        tiny_gan(clip_value=0.0)


# ------------------------------------------------------------ evaluate command
def test_evaluate_command_table_and_json(tmp_path, capsys):
    from keras_wgangp.cli import main

    gan = tiny_gan(critic_steps=1)
    gan.compile()
    gan.fit(kw.data.toy_samples("8gaussians", 128, seed=0), batch_size=64, epochs=1, verbose=0)
    path = str(tmp_path / "toy.keras")
    gan.save(path)
    assert main(["evaluate", "--model", path, "--dataset", "8gaussians", "--num", "500"]) == 0
    table = capsys.readouterr().out
    assert "modes_covered" in table and "sliced_wasserstein" in table
    assert main(["evaluate", "--model", path, "--dataset", "8gaussians", "--num", "500", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["num_modes"] == 8 and 0.0 <= result["high_quality_fraction"] <= 1.0
    assert result["sliced_wasserstein"] > 0


def test_evaluate_command_on_digits(tmp_path, capsys):
    from keras_wgangp.cli import main

    out = tmp_path / "d"
    assert main(["train", "--dataset", "digits", "--image-size", "8", "--epochs", "1", "--steps", "2",
                 "--width", "4", "--output", str(out), "--verbose", "0"]) == 0  # fmt: skip
    capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text())
    # 1,000 samples against the held-out split, beside the real floor at the same count.
    assert summary["fid"] > summary["fid_real_train_vs_test"] > 0
    assert main(["evaluate", "--model", str(out / "model.keras"), "--dataset", "digits", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fid_real_train_vs_test"] < result["fid"]
    assert {"kid", "classes_covered"} <= set(result)
