"""The conditional measures: `conditional_accuracy`, `mode_classifier` and `intra_class_fid`."""

import keras
import numpy as np
import pytest

import keras_wgangp as kw
from keras_wgangp import evaluation
from keras_wgangp.data import toy_modes, toy_samples

CENTRES, STD = toy_modes("8gaussians")


class ModeGAN:
    """A stand-in conditional model: label c draws at mode `mapping[c]` of 8gaussians, exactly.

    With `miss=k`, the first k samples of every class land at the origin, far from every mode.
    """

    num_classes = 8

    def __init__(self, mapping=tuple(range(8)), miss=0):
        self.mapping, self.miss, self.calls = mapping, miss, []

    def generate(self, n, labels=None, seed=0):
        self.calls.append((n, labels, seed))
        points = np.repeat(CENTRES[[self.mapping[labels]]], n, axis=0)
        points[: self.miss] = 0.0
        return points


class Unconditional:
    num_classes = None

    def generate(self, n, labels=None, seed=0):
        return np.zeros((n, 2), "float32")


# ------------------------------------------------------- conditional_accuracy
def test_conditional_accuracy_exact_values():
    classify = evaluation.mode_classifier("8gaussians")
    gan = ModeGAN()
    assert evaluation.conditional_accuracy(gan, classify, 10, seed=5) == {
        "overall": 1.0,
        "per_class": [1.0] * 8,
        "num_per_class": 10,
    }
    assert gan.calls == [(10, c, 5 + c) for c in range(8)]  # class c, seed + c
    swapped = evaluation.conditional_accuracy(ModeGAN([1, 0, 2, 3, 4, 5, 6, 7]), classify, 10)
    assert swapped["per_class"] == [0.0, 0.0] + [1.0] * 6 and swapped["overall"] == 0.75
    # 3 of 10 per class at the origin: "none" (−1) counts as wrong.
    missed = evaluation.conditional_accuracy(ModeGAN(miss=3), classify, 10)
    assert missed["per_class"] == [0.7] * 8 and missed["overall"] == pytest.approx(0.7)


def test_conditional_accuracy_takes_probabilities_ids_and_keras_models():
    classify = evaluation.mode_classifier("8gaussians")

    def probabilities(points):  # (n, K) one-hot; a "none" row (−1) lands on class 7
        return np.eye(8)[classify(points)]

    assert evaluation.conditional_accuracy(ModeGAN(), probabilities, 5)["overall"] == 1.0
    as_floats = evaluation.conditional_accuracy(ModeGAN(), lambda p: classify(p).astype("float32"), 5)
    assert as_floats["overall"] == 1.0
    column = evaluation.conditional_accuracy(ModeGAN(), lambda p: classify(p)[:, None], 5)
    assert column["overall"] == 1.0
    # A Keras model goes through predict: logits x·centre_k peak at the point's own mode
    # (all modes have the same norm).
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, use_bias=False)])
    model.layers[0].set_weights([CENTRES.T])
    result = evaluation.conditional_accuracy(ModeGAN([1, 0, 2, 3, 4, 5, 6, 7]), model, 4)
    assert result["per_class"] == [0.0, 0.0] + [1.0] * 6


def test_conditional_accuracy_errors():
    classify = evaluation.mode_classifier("8gaussians")
    for gan in (Unconditional(), object()):
        with pytest.raises(ValueError, match="not a conditional model"):
            evaluation.conditional_accuracy(gan, classify)
    with pytest.raises(ValueError, match="num_per_class must be an integer >= 1"):
        evaluation.conditional_accuracy(ModeGAN(), classify, 0)
    with pytest.raises(ValueError, match=r"probabilities \(n, K\) or integer class ids"):
        evaluation.conditional_accuracy(ModeGAN(), lambda p: np.full(len(p), 0.5), 4)
    with pytest.raises(ValueError, match="returned 1 predictions for 4 samples"):
        evaluation.conditional_accuracy(ModeGAN(), lambda p: np.zeros(1, "int32"), 4)
    with pytest.raises(TypeError, match="Keras model or a function"):
        evaluation.conditional_accuracy(ModeGAN(), "classifier", 4)


def test_conditional_accuracy_of_a_real_conditional_model():
    gan = kw.WGANGP(
        kw.architectures.mlp_generator(units=8, num_classes=8),
        kw.architectures.mlp_critic(units=8, num_classes=8),
        num_classes=8,
    )
    classify = evaluation.mode_classifier("8gaussians")
    result = evaluation.conditional_accuracy(gan, classify, 20, seed=3)
    assert len(result["per_class"]) == 8 and 0.0 <= result["overall"] <= 1.0
    assert result == evaluation.conditional_accuracy(gan, classify, 20, seed=3)  # seeded


# ------------------------------------------------------------ mode_classifier
@pytest.mark.parametrize("name", ["8gaussians", "25gaussians"])
def test_mode_classifier_on_centres_and_far_points(name):
    centres, std = toy_modes(name)
    classify = evaluation.mode_classifier(name)
    ids = classify(centres)
    assert ids.dtype == np.int32 and ids.tolist() == list(range(len(centres)))
    far = np.array([[10.0, 10.0], [-7.0, 0.0]])
    if name == "8gaussians":
        far = np.concatenate([far, [[0.0, 0.0]]])  # the middle of the ring
    assert classify(far).tolist() == [-1] * len(far)
    assert classify(np.zeros((0, 2))).shape == (0,)


def test_mode_classifier_uses_the_three_sigma_radius():
    centres, std = toy_modes("25gaussians")
    points = np.stack([centres[7] + [2.9 * std, 0], centres[7] + [3.1 * std, 0], centres[7] + [0, 1.5 * std]])
    assert evaluation.mode_classifier("25gaussians")(points).tolist() == [7, -1, 7]
    assert evaluation.mode_classifier("25gaussians", num_std=1.0)(points).tolist() == [-1, -1, -1]


def test_mode_classifier_agrees_with_mode_coverage():
    x, y = toy_samples("8gaussians", 2000, seed=0, return_labels=True)
    x[::7] += 0.05  # push some points out of the 3σ discs
    ids = evaluation.mode_classifier("8gaussians")(x)
    assert np.mean(ids >= 0) == evaluation.mode_coverage(x, "8gaussians")["high_quality_fraction"]
    np.testing.assert_array_equal(ids[ids >= 0], y[ids >= 0])


def test_mode_classifier_errors():
    with pytest.raises(ValueError, match="no discrete modes"):
        evaluation.mode_classifier("swissroll")
    with pytest.raises(ValueError, match="num_std must be > 0"):
        evaluation.mode_classifier("8gaussians", num_std=0)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        evaluation.mode_classifier("8gaussians")(np.zeros((4, 3)))


# ------------------------------------------------------------ intra_class_fid
REAL = np.random.default_rng(0).normal(size=(60, 3))
LABELS = np.repeat([0, 1, 2], 20)


class Replay:
    """Returns the first n real examples of the asked class, plus `shift`, from class `mapping[c]`."""

    num_classes = 3

    def __init__(self, shift=0.0, mapping=(0, 1, 2)):
        self.shift, self.mapping, self.calls = shift, mapping, []

    def generate(self, n, labels=None, seed=0):
        self.calls.append((n, labels, seed))
        return REAL[LABELS == self.mapping[labels]][:n] + self.shift


def identity(x):
    return np.asarray(x, "float64")


def test_intra_class_fid_exact_values():
    gan = Replay()
    same = evaluation.intra_class_fid(gan, REAL, LABELS, identity, seed=2)
    assert same["intra_class_fid"] == pytest.approx(0.0, abs=1e-6)
    assert same["per_class"] == pytest.approx([0.0] * 3, abs=1e-6)
    assert gan.calls == [(20, c, 2 + c) for c in range(3)]  # as many as the real examples; seed + c
    assert same["num_real_per_class"] == [20, 20, 20]
    # A shift by 1 in each of 3 features adds ‖μa − μb‖² = 3 and leaves the covariances equal.
    shifted = evaluation.intra_class_fid(Replay(shift=1.0), REAL, LABELS, identity)
    assert shifted["intra_class_fid"] == pytest.approx(3.0, abs=1e-6)
    # Right images, wrong labels: each class is compared with another class's examples.
    swapped = evaluation.intra_class_fid(Replay(mapping=(1, 0, 2)), REAL, LABELS, identity)
    between = evaluation.frechet_distance(REAL[LABELS == 0], REAL[LABELS == 1])
    assert swapped["per_class"] == pytest.approx([between, between, 0.0], abs=1e-6)
    assert swapped["intra_class_fid"] == pytest.approx(2 * between / 3, abs=1e-6)


def test_intra_class_fid_counts_and_real_halves():
    gan = Replay()
    result = evaluation.intra_class_fid(gan, REAL, LABELS, identity, num_per_class=10, seed=1)
    assert [n for n, _, _ in gan.calls] == [10, 10, 10]
    # Real examples go to the extractor as float32, hence the tolerance.
    expected = evaluation.frechet_distance(REAL[:10], REAL[:20])
    assert result["per_class"][0] == pytest.approx(expected, abs=1e-6)
    halves = result["real_halves_fid_per_class"]
    assert len(halves) == 3 and all(f > 0 for f in halves)
    assert result["real_halves_fid"] == pytest.approx(np.mean(halves))
    again = evaluation.intra_class_fid(Replay(), REAL, LABELS, identity, num_per_class=10, seed=1)
    assert again["real_halves_fid_per_class"] == halves  # the halves follow the seed


def test_intra_class_fid_through_a_feature_extractor():
    images = np.random.default_rng(1).normal(size=(24, 2, 2, 1)).astype("float32")
    labels = np.repeat([0, 1], 12)

    class ImageReplay:
        num_classes = 2

        def generate(self, n, labels=None, seed=0):
            return images[np.repeat([0, 1], 12) == labels][:n]

    flatten = evaluation.FeatureExtractor(keras.Sequential([keras.Input((2, 2, 1)), keras.layers.Flatten()]))
    result = evaluation.intra_class_fid(ImageReplay(), images, labels, flatten)
    assert result["intra_class_fid"] == pytest.approx(0.0, abs=1e-4)


def test_intra_class_fid_errors():
    class Unlabelled(Replay):
        num_classes = None

    with pytest.raises(ValueError, match="not a conditional model"):
        evaluation.intra_class_fid(Unlabelled(), REAL, LABELS, identity)
    with pytest.raises(ValueError, match="60 real examples but 59 labels"):
        evaluation.intra_class_fid(Replay(), REAL, LABELS[:-1], identity)
    with pytest.raises(ValueError, match=r"must lie in \[0, 3\); found 3"):
        evaluation.intra_class_fid(Replay(), REAL, np.where(LABELS == 2, 3, LABELS), identity)
    with pytest.raises(ValueError, match="integer class ids"):
        evaluation.intra_class_fid(Replay(), REAL, LABELS + 0.5, identity)
    few = LABELS.copy()
    few[20:37] = 0  # class 1 keeps 3 examples
    with pytest.raises(ValueError, match="Class 1 has 3 real examples; .* at least 4"):
        evaluation.intra_class_fid(Replay(), REAL, few, identity)
    with pytest.raises(ValueError, match="num_per_class must be an integer >= 2"):
        evaluation.intra_class_fid(Replay(), REAL, LABELS, identity, num_per_class=1)
