"""The copy check (authenticity), its figure, and held-out images for the critic watch."""

import os

import numpy as np
import pytest
from matplotlib.image import imsave

import keras_wgangp as kw
from keras_wgangp.evaluation import memorization, nearest_training_images


def test_copies_new_points_and_far_points_score_as_computed_by_hand():
    train = np.array([[0.0], [1.0], [3.0]])  # nearest-other distances 1, 1, 2
    assert memorization(train, train) == {
        "copy_share": 1.0,
        "authenticity": 0.0,
        "nearest_distance_ratio": 0.0,
    }
    # 0.2 is 0.2 < 1 from 0 (a copy), 2.5 is 0.5 < 2 from 3 (a copy), 10 is 7 > 2 from 3 (new).
    result = memorization(np.array([[0.2], [2.5], [10.0]]), train)
    assert result["copy_share"] == pytest.approx(2 / 3)
    assert result["nearest_distance_ratio"] == pytest.approx(0.25)  # the median of 0.2, 0.25, 3.5
    assert memorization(train + 100.0, train)["copy_share"] == 0.0


def test_images_training_set_held_out_digits_and_a_shifted_set():
    x_train, _, x_test, _ = kw.data.digits_split(16)
    assert memorization(x_train[:300], x_train)["copy_share"] == 1.0
    # Held-out real digits: about half land in a training digit's neighbour ball by chance
    # (0.496 in pixels); that, not 0, is what a generator that copies nothing scores.
    held_out = memorization(x_test, x_train)
    assert 0.35 < held_out["copy_share"] < 0.6 and 0.9 < held_out["nearest_distance_ratio"] < 1.1
    assert memorization(np.clip(x_test + 1.5, -1, 1) * -1, x_train)["copy_share"] == 0.0
    halves = memorization(x_test, x_train, features=lambda images: images.reshape(len(images), -1)[:, :128])
    assert 0.0 <= halves["copy_share"] <= 1.0  # any feature function


def test_bad_inputs_are_named():
    train = np.zeros((4, 8, 8, 1), "float32") + np.arange(4)[:, None, None, None]
    with pytest.raises(ValueError, match="at least 2 training images"):
        memorization(train[:1], train[:1])
    with pytest.raises(ValueError, match="differ in shape"):
        memorization(np.zeros((2, 4, 4, 1)), train)
    with pytest.raises(TypeError, match="features must be"):
        memorization(train, train, features=3)
    with pytest.raises(ValueError, match="not an image dataset"):
        memorization(train, train, features="cifar10")
    with pytest.raises(ValueError, match="k must be"):
        nearest_training_images(train, train, k=5)


def test_nearest_neighbours_figure_shows_the_nearest_training_images(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.uniform(-1, 1, (12, 8, 8, 3)).astype("float32")
    samples = train[[4, 7]] + 0.01
    _, indices = nearest_training_images(samples, train, k=3)
    assert indices[:, 0].tolist() == [4, 7]
    path = kw.plots.nearest_neighbours(samples, train, str(tmp_path / "nn.png"), k=3)
    assert os.path.getsize(path) > 0
    with pytest.raises(ValueError, match="one NHWC shape"):
        kw.plots.nearest_neighbours(samples[:, :4], train, str(tmp_path / "bad.png"))


def test_a_folder_holds_a_fixed_disjoint_validation_split_out(tmp_path):
    for i in range(10):
        imsave(str(tmp_path / f"{i}.png"), np.full((12, 12), i / 9), cmap="gray", vmin=0, vmax=1)
    stream = kw.data.image_folder_dataset(tmp_path, 8, batch_size=4, validation_split=0.2, shuffle_seed=1)
    assert len(stream.file_paths) == 8 and len(stream.validation_paths) == 2
    assert sorted(stream.file_paths + stream.validation_paths) == sorted(
        str(p) for p in tmp_path.glob("*.png")
    )
    again = kw.data.image_folder_dataset(tmp_path, 8, batch_size=4, validation_split=0.2, shuffle_seed=1)
    assert again.validation_paths == stream.validation_paths
    assert sum(len(batch) for batch in stream) == 8  # the stream holds the rest only
    held = kw.data.load_image_files(stream.validation_paths, 8, 1)
    assert held.shape == (2, 8, 8, 1) and held.min() >= -1 and held.max() <= 1
    for fraction in (1.0, -0.1, 0.95):
        with pytest.raises(ValueError, match="validation_split"):
            kw.data.image_folder_dataset(tmp_path, 8, validation_split=fraction)
