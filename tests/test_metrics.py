"""The field's measures: precision/recall, density/coverage, the Inception Score, reference
statistics, and mode coverage on stacked digits, each against hand-computed values."""

import json
import math
import os

import numpy as np
import pytest

import keras_wgangp as kw
from keras_wgangp import evaluation as ev

LINE = np.array([[0.0], [1.0], [2.0], [3.0]])


# ----------------------------------------------------------- precision/recall
def test_precision_recall_hand_computed():
    # Real balls (k=1): radius 1 around 0, 1, 2, 3. Fake balls: radius 0.5 around each fake.
    fake = np.array([[0.0], [0.5], [1.0], [9.0], [9.5]])
    assert ev.precision_recall(LINE, fake, k=1) == {"precision": 0.6, "recall": 0.5}
    # k=2: real radii 2, 1, 1, 2; fake radii 1, 0.5, 1, 8, 8.5: every real inside some fake ball.
    assert ev.precision_recall(LINE, fake, k=2) == {"precision": 0.6, "recall": 1.0}


def test_precision_recall_of_a_set_against_itself_and_a_far_copy():
    x = np.random.default_rng(0).normal(size=(300, 8))
    assert ev.precision_recall(x, x) == {"precision": 1.0, "recall": 1.0}
    assert ev.precision_recall(x, x + 100.0) == {"precision": 0.0, "recall": 0.0}


# ----------------------------------------------------------- density/coverage
def test_density_coverage_hand_computed():
    # Real balls (k=1, radius 1): 0 holds fakes 0, 0.5; 1 holds 0, 0.5; 2 and 3 hold none.
    result = ev.density_coverage(LINE, np.array([[0.0], [0.5], [9.0]]), k=1)
    assert result["density"] == pytest.approx(4 / 3) and result["coverage"] == 0.5


def test_density_coverage_of_a_set_against_itself_and_a_far_copy():
    x = np.random.default_rng(1).normal(size=(300, 8))  # distinct distances: no ties at the radius
    for k in (1, 5):
        # Each real ball holds its own centre and its k nearest neighbours: k + 1 of the M fakes.
        result = ev.density_coverage(x, x, k=k)
        assert result["density"] == pytest.approx((k + 1) / k) and result["coverage"] == 1.0
    assert ev.density_coverage(x, x + 100.0) == {"density": 0.0, "coverage": 0.0}


@pytest.mark.parametrize("measure", [ev.precision_recall, ev.density_coverage])
def test_k_must_be_smaller_than_the_set(measure):
    with pytest.raises(ValueError, match=r"k=4 needs more than 4 points.*has 4"):
        measure(LINE, LINE, k=4)


def test_neighbour_balls_are_computed_in_chunks(monkeypatch):
    # A tiny working memory forces many chunks; the counts must not change.
    x = np.random.default_rng(2).normal(size=(500, 4))
    y = np.random.default_rng(3).normal(size=(400, 4))
    expected = ev.precision_recall(x, y)
    monkeypatch.setattr(kw.evaluation.neighbours, "WORKING_MEMORY_MB", 0.05)
    assert ev.precision_recall(x, y) == expected


# ------------------------------------------------------------- inception score
def test_inception_score_closed_forms():
    assert ev.inception_score(np.full((100, 10), 0.1))[0] == pytest.approx(1.0)
    for k in (2, 4, 10):
        mean, std = ev.inception_score(np.eye(k)[np.arange(20 * k) % k])
        assert mean == pytest.approx(k) and std == pytest.approx(0.0, abs=1e-9)
    # p(y) = (0.75, 0.25): KL = log(4/3) and ½ log(2/3) + ½ log 2, averaged, then exp.
    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    expected = math.exp((math.log(4 / 3) + 0.5 * math.log(2 / 3) + 0.5 * math.log(2)) / 2)
    assert ev.inception_score(p, num_splits=1)[0] == pytest.approx(expected, rel=1e-12)


def test_inception_score_errors():
    with pytest.raises(ValueError, match="sum to 1"):
        ev.inception_score(np.ones((4, 3)))
    with pytest.raises(ValueError, match="num_splits"):
        ev.inception_score(np.full((4, 2), 0.5), num_splits=5)
    with pytest.raises(ValueError, match="images"):
        ev.inception_score()


def test_inception_score_of_real_digits_through_the_classifier():
    _, _, x_test, _ = kw.data.digits_split(16)
    mean, _ = ev.inception_score(images=x_test, classifier=ev.digits_classifier(16), num_splits=4)
    assert 8.0 < mean <= 10.0  # ten classes, recognised confidently


# ---------------------------------------------------------- reference statistics
def test_frechet_distance_takes_saved_statistics(tmp_path):
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(400, 6)), rng.normal(size=(300, 6)) + 0.5
    path = ev.feature_statistics(a).save(str(tmp_path / "real"))
    assert path.endswith(".npz")
    loaded = ev.load_statistics(path)
    assert loaded.count == 400
    assert ev.frechet_distance(loaded, b) == pytest.approx(ev.frechet_distance(a, b), rel=1e-12)
    assert ev.frechet_distance(b, loaded) == pytest.approx(ev.frechet_distance(b, a), rel=1e-12)
    (tmp_path / "bad.npz").write_bytes(b"not a file")
    with pytest.raises(ValueError, match="not a statistics file"):
        ev.load_statistics(str(tmp_path / "bad.npz"))


def test_feature_statistics_through_an_extractor():
    stats = ev.feature_statistics(
        np.ones((3, 2, 2, 1)), extractor=lambda images: images.reshape(len(images), -1)
    )
    assert stats.mean.tolist() == [1.0] * 4 and stats.covariance.shape == (4, 4)


# --------------------------------------------------------------- stacked digits
def test_stacked_digits_stack_three_digits_of_one_split():
    x_train, y_train, x_test, _ = kw.data.digits_split(8)
    images, labels = kw.data.stacked_digits(50, image_size=8, seed=1)
    assert images.shape == (50, 8, 8, 3) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0
    train = {x.tobytes(): y for x, y in zip(x_train[..., 0], y_train, strict=True)}
    test = {x.tobytes() for x in x_test[..., 0]}
    for image, label in zip(images, labels, strict=True):
        digits = [train[image[..., c].tobytes()] for c in range(3)]  # each channel a training digit
        assert label == 100 * digits[0] + 10 * digits[1] + digits[2]
    held_out, _ = kw.data.stacked_digits(50, image_size=8, seed=1, split="test")
    assert all(held_out[i, ..., c].tobytes() in test for i in range(50) for c in range(3))


def test_stacked_digits_stream_is_endless_and_seeded():
    first = next(iter(kw.data.stacked_digits_dataset(8, image_size=8, seed=3)))
    again = next(iter(kw.data.stacked_digits_dataset(8, image_size=8, seed=3)))
    np.testing.assert_array_equal(first.numpy(), again.numpy())
    assert tuple(first.shape) == (8, 8, 8, 3)


class Fixed:
    """A stand-in digits classifier: predicts the digit given per call, in turn."""

    def __init__(self, digits):
        self.digits = np.asarray(digits)

    def predict(self, x, verbose=0, batch_size=None):
        return np.eye(10)[self.digits[: len(x)]]


def test_stacked_mode_coverage_hand_computed():
    # 4 samples: channels R (first block), G, B; modes 123, 123, 456, 456.
    digits = [1, 1, 4, 4] + [2, 2, 5, 5] + [3, 3, 6, 6]
    result = ev.stacked_mode_coverage(np.zeros((4, 8, 8, 3)), classifier=Fixed(digits))
    assert result["modes_covered"] == 2 and result["kl"] == pytest.approx(math.log(500))
    with pytest.raises(ValueError, match="1000 modes"):
        ev.stacked_mode_coverage(np.zeros((4, 8, 8, 3)), num_modes=100, classifier=Fixed(digits))
    with pytest.raises(ValueError, match=r"\(n, s, s, 3\)"):
        ev.stacked_mode_coverage(np.zeros((4, 8, 8, 1)))


def test_real_stacked_digits_cover_every_mode():
    images, labels = kw.data.stacked_digits(ev.STACKED_SAMPLES, 16, seed=0, split="test")
    result = ev.stacked_mode_coverage(images)
    assert result["modes_covered"] == 1000
    # 26,000 uniform draws over 1,000 modes alone give E[KL] ≈ 999 / 52,000 ≈ 0.019.
    assert result["kl"] < 0.05, result
    # The classifier's per-channel accuracy on held-out stacked digits (documented).
    classifier = ev.digits_classifier(16)
    truth = np.stack([labels // 100, labels // 10 % 10, labels % 10], axis=1)
    for c in range(3):
        predicted = classifier.predict(images[:2000, ..., c : c + 1], verbose=0).argmax(axis=1)
        assert np.mean(predicted == truth[:2000, c]) > 0.93  # 0.958-0.960 on all 26,000


def test_stacked_digits_evaluate_and_train_commands(tmp_path, capsys):
    from keras_wgangp.cli import main

    out = tmp_path / "run"
    argv = ["train", "--dataset", "stacked_digits", "--steps", "4", "--epochs", "2", "--width", "8"]
    assert main(argv + ["--batch-size", "16", "--output", str(out), "--verbose", "0"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mode_coverage"]["num_modes"] == 1000
    assert {"kl", "modes_covered"} <= set(summary["mode_coverage"]) and summary["fid"] > 0
    assert summary["evaluations"]["epoch"] == [1, 2] and len(summary["evaluations"]["kl"]) == 2
    capsys.readouterr()
    argv = ["evaluate", "--model", str(out / "model.keras"), "--dataset", "stacked_digits", "--num", "300"]
    assert main(argv + ["--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"modes_covered", "kl", "fid", "precision", "recall", "density", "coverage"} <= set(result)
    assert result["num_samples"] == 300 and os.path.exists(out / "losses.png")


@pytest.mark.backends
def test_evaluate_every_writes_its_measures_into_the_logs_on_its_epochs():
    import keras

    gan = kw.WGANGP(
        kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8), critic_steps=1
    )
    gan.compile()
    calls = []

    def measure(model):
        calls.append(1)
        return {"modes_covered": ev.mode_coverage(model.generate(200, seed=0), "8gaussians")["modes_covered"]}

    watch = kw.callbacks.EvaluateEvery(measure, every_n_epochs=2)
    named = kw.callbacks.EvaluateEvery(["high_quality_fraction"], dataset="8gaussians", num_samples=200)
    stop = keras.callbacks.EarlyStopping(monitor="high_quality_fraction", mode="max", patience=100)
    history = gan.fit(kw.data.toy_samples("8gaussians", 256, seed=0), batch_size=64, epochs=4, verbose=0,
                      callbacks=[watch, named, stop]).history  # fmt: skip
    assert len(calls) == 2 and watch.record["epoch"] == [2, 4]
    assert len(history["modes_covered"]) == 2  # only the measured epochs carry a value
    assert (
        named.record["epoch"] == [1, 2, 3, 4]
        and history["high_quality_fraction"] == named.record["high_quality_fraction"]
    )
    bad = kw.callbacks.EvaluateEvery(["fid"], dataset="8gaussians", num_samples=50)
    bad.set_model(gan)
    with pytest.raises(ValueError, match="has no measure 'fid'"):
        bad.measure()
