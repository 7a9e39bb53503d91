"""Labelled toy data and image folders (`toy_samples(..., return_labels=True)`, `load_image_folder`)."""

import json
import os

import numpy as np
import pytest
from matplotlib.image import imsave
from PIL import Image

import keras_wgangp as kw
from keras_wgangp.data import load_image_folder, toy_modes, toy_samples


# ---------------------------------------------------------------- toy labels
@pytest.mark.parametrize("name", ["8gaussians", "25gaussians"])
def test_toy_labels_are_the_nearest_mode_and_points_are_unchanged(name):
    x, y = toy_samples(name, 5000, seed=4, return_labels=True)
    np.testing.assert_array_equal(x, toy_samples(name, 5000, seed=4))
    centres, _ = toy_modes(name)
    # σ is far below half the distance between modes, so the drawn mode is the nearest one.
    nearest = np.argmin(((x[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    np.testing.assert_array_equal(y, nearest)
    assert y.dtype == np.int32 and y.shape == (5000,)
    assert set(y.tolist()) == set(range(len(centres)))


def test_toy_labels_follow_the_seed():
    _, a = toy_samples("8gaussians", 50, seed=1, return_labels=True)
    _, b = toy_samples("8gaussians", 50, seed=1, return_labels=True)
    _, c = toy_samples("8gaussians", 50, seed=2, return_labels=True)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    x, y = toy_samples("25gaussians", 0, seed=0, return_labels=True)
    assert x.shape == (0, 2) and y.shape == (0,)


def test_swissroll_has_no_labels():
    with pytest.raises(ValueError, match="no discrete modes"):
        toy_samples("swissroll", 10, return_labels=True)
    assert toy_samples("swissroll", 10, seed=0).shape == (10, 2)  # still fine without labels


# ------------------------------------------------------------ image folders
GREY = {"apples": 64, "pears": 192}


def write_folder(root, rgb_class=None, sizes=((12, 12), (20, 16), (9, 30))):
    """Two classes of 8-bit grayscale PNGs, apples (64) and pears (192), of mixed sizes;
    `rgb_class` gets random colour PNGs instead."""
    rng = np.random.default_rng(0)
    for name in ["apples", "pears"]:
        os.makedirs(os.path.join(root, name))
        for i, (h, w) in enumerate(sizes):
            if name == rgb_class:
                image = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
            else:
                image = Image.fromarray(np.full((h, w), GREY[name], np.uint8))
            image.save(os.path.join(root, name, f"{i}.png"))
    return str(root)


def test_load_image_folder_grayscale(tmp_path):
    images, labels, names = load_image_folder(write_folder(tmp_path), image_size=8)
    assert images.shape == (6, 8, 8, 1) and images.dtype == np.float32
    assert labels.tolist() == [0, 0, 0, 1, 1, 1] and labels.dtype == np.int32
    assert names == ["apples", "pears"]
    np.testing.assert_allclose(images[labels == 0], 64 / 127.5 - 1, atol=1e-6)  # x / 127.5 − 1
    np.testing.assert_allclose(images[labels == 1], 192 / 127.5 - 1, atol=1e-6)


def test_load_image_folder_rgb_and_forced_channels(tmp_path):
    root = write_folder(tmp_path, rgb_class="pears")
    images, labels, _ = load_image_folder(root, image_size=16)
    assert images.shape == (6, 16, 16, 3) and images.min() >= -1 and images.max() <= 1
    assert not np.allclose(images[labels == 1][..., 0], images[labels == 1][..., 1])
    gray, _, _ = load_image_folder(root, image_size=16, channels=1)
    assert gray.shape == (6, 16, 16, 1)
    # Grey images keep their exact value; colour ones become their luma.
    np.testing.assert_allclose(gray[labels == 0], 64 / 127.5 - 1, atol=1e-6)
    luma = (images[labels == 1] + 1) * 127.5 @ np.array([0.2989, 0.587, 0.114])
    np.testing.assert_allclose(gray[labels == 1][..., 0], luma / 127.5 - 1, atol=1e-3)
    rgb, _, _ = load_image_folder(write_folder(tmp_path / "grey"), image_size=8, channels=3)
    assert rgb.shape == (6, 8, 8, 3)
    np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])


def test_load_image_folder_reads_every_format_and_the_full_range(tmp_path):
    halves = np.zeros((8, 8), np.uint8)
    halves[:, 4:] = 255  # black | white
    folder = tmp_path / "formats"
    folder.mkdir()
    for ext in ("png", "bmp", "gif", "jpg", "JPEG"):
        Image.fromarray(halves).convert("RGB").save(folder / f"img.{ext}")
    images, labels, names = load_image_folder(folder, image_size=8, channels=1)  # a pathlib.Path
    assert images.shape == (5, 8, 8, 1) and labels.tolist() == [0] * 5 and names == ["formats"]
    # Sorted names: img.JPEG, img.bmp, img.gif, img.jpg, img.png; the lossless ones are exact.
    lossless = images[[1, 2, 4], ..., 0]
    np.testing.assert_array_equal(lossless[:, :, :4], -1.0)
    np.testing.assert_array_equal(lossless[:, :, 4:], 1.0)
    np.testing.assert_allclose(images[[0, 3], ..., 0], lossless[:2], atol=0.1)


def test_resizing_averages_areas_when_shrinking_and_is_bilinear_when_enlarging(tmp_path):
    # A 4×4 grey image of 2×2 blocks shrinks to the blocks' means; a 2×2 one enlarges bilinearly
    # (half-pixel centres: edge rows repeat, the middle ones are 1/4-3/4 blends).
    blocks = np.array([[0, 100, 50, 50], [100, 200, 50, 50], [255, 255, 10, 30], [255, 255, 20, 40]])
    os.makedirs(tmp_path / "big")
    Image.fromarray(blocks.astype("uint8")).save(tmp_path / "big" / "a.png")
    means = np.array([[100.0, 50.0], [255.0, 25.0]])
    images, _, _ = load_image_folder(tmp_path / "big", image_size=2)
    np.testing.assert_allclose(images[0, ..., 0], means / 127.5 - 1.0, atol=1e-6)
    os.makedirs(tmp_path / "small")
    Image.fromarray(np.array([[0, 200], [100, 40]], "uint8")).save(tmp_path / "small" / "a.png")
    row = lambda a, b: [a, 0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b, b]  # noqa: E731
    top, bottom = np.array(row(0, 200)), np.array(row(100, 40))
    enlarged = np.array(row(top, bottom))
    images, _, _ = load_image_folder(tmp_path / "small", image_size=4)
    np.testing.assert_allclose(images[0, ..., 0], enlarged / 127.5 - 1.0, atol=1e-5)
    # A folder of both: the stream decides per image, as the in-memory loader does.
    os.rename(tmp_path / "small" / "a.png", tmp_path / "big" / "b.png")
    images, _, _ = load_image_folder(tmp_path / "big", image_size=3)
    stream = kw.data.image_folder_dataset(tmp_path / "big", 3, shuffle_seed=None)
    np.testing.assert_array_equal(np.concatenate(list(stream.as_numpy_iterator())), images)


def test_load_image_folder_without_subfolders_is_one_class(tmp_path):
    imsave(str(tmp_path / "a.png"), np.zeros((8, 8)), cmap="gray")
    images, labels, names = load_image_folder(str(tmp_path), image_size=8)
    assert images.shape == (1, 8, 8, 1) and labels.tolist() == [0] and names == [tmp_path.name]


def test_load_image_folder_layout_rules(tmp_path):
    root = write_folder(tmp_path / "data")
    nested = os.path.join(root, "pears", "more")
    os.makedirs(nested)
    imsave(os.path.join(nested, "x.png"), np.full((5, 5), 0.75), cmap="gray", vmin=0, vmax=1)
    os.makedirs(os.path.join(root, "notes"))  # no images: not a class
    (tmp_path / "data" / "notes" / "readme.txt").write_text("not an image")
    os.makedirs(os.path.join(root, ".cache"))  # hidden: skipped
    imsave(os.path.join(root, ".cache", "y.png"), np.zeros((5, 5)), cmap="gray")
    with open(os.path.join(root, "apples", "._0.png"), "wb") as handle:  # macOS metadata, not a PNG
        handle.write(b"\x00\x05\x16\x07")
    images, labels, names = load_image_folder(root, 8)
    assert names == ["apples", "pears"] and labels.tolist() == [0, 0, 0, 1, 1, 1, 1]
    # matplotlib writes grey as RGBA with equal R, G and B: still grayscale.
    assert images.shape == (7, 8, 8, 1)
    imsave(os.path.join(root, "loose.png"), np.zeros((5, 5)), cmap="gray")
    with pytest.raises(ValueError, match=r"both images \('loose.png'.*class subfolders \(apples, pears\)"):
        load_image_folder(root, 8)


def test_load_image_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No image folder .*does not exist"):
        load_image_folder(str(tmp_path / "missing"), 8)
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("no images")
    with pytest.raises(ValueError, match=r"No images in .*accepted: \.bmp, .*\.png.*only \.txt files"):
        load_image_folder(str(tmp_path / "empty"), 8)
    root = write_folder(tmp_path / "bad")
    with pytest.raises(FileNotFoundError, match="is a file, not a folder"):
        load_image_folder(os.path.join(root, "pears", "0.png"), 8)
    broken = os.path.join(root, "pears", "1.png")
    with open(broken, "wb") as handle:
        handle.write(b"not a png at all")
    with pytest.raises(ValueError, match=r"Could not read the image .*pears/1\.png.*Replace or remove"):
        load_image_folder(root, 8)
    for size in (0, -8, 8.0, True, "32"):
        with pytest.raises(ValueError, match="image_size must be a positive integer"):
            load_image_folder(root, size)
    for channels in (2, 4, True, "rgb"):
        with pytest.raises(ValueError, match="channels must be 1"):
            load_image_folder(root, 8, channels=channels)


# --------------------------------------------------- training on a folder (CLI)
@pytest.mark.slow
@pytest.mark.parametrize("conditional", [False, True])
def test_train_on_a_folder(tmp_path, conditional):
    from keras_wgangp.cli import main

    root = write_folder(tmp_path / "data", rgb_class="apples", sizes=[(16, 16)] * 5)
    out = tmp_path / "out"
    argv = ["train", "--dataset", root, "--steps", "3", "--epochs", "1", "--width", "4", "--latent-dim", "8"]
    argv += ["--batch-size", "2", "--critic-steps", "2", "--output", str(out), "--verbose", "0"]
    # The conditional run also takes the R3GAN recipe (RpGAN + R1 + R2, cosine schedules, ADA).
    extra = ["--conditional", "--recipe", "r3gan"] if conditional else []
    assert main(argv + extra) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generator_steps"] == 3 and summary["critic_steps"] == 6
    assert summary["settings"]["augment"] == ("ada" if conditional else "none")
    if conditional:
        assert summary["objective"] == "relativistic_pairing + r1+r2"
        assert {"r1_gamma", "r2_gamma", "augment_p"} <= set(summary["final_metrics"])
    assert summary["num_classes"] == (2 if conditional else None)
    assert summary["class_names"] == (["apples", "pears"] if conditional else None)
    gan = kw.load_model(str(out / "model.keras"))
    assert gan.generate(2, labels=1 if conditional else None).shape == (2, 16, 16, 3)
    assert os.path.exists(summary["files"]["samples"])


def test_train_rejects_unknown_dataset_and_unlabelled_conditional(capsys):
    from keras_wgangp.cli import main

    assert main(["train", "--dataset", "/no/such/folder"]) == 2
    assert "neither a built-in dataset" in capsys.readouterr().err
    assert main(["train", "--dataset", "swissroll", "--conditional"]) == 2
    assert "needs labelled data" in capsys.readouterr().err
