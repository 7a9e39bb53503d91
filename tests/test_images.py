"""Image GANs: digits and tfds data, reference architectures, image callbacks."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import keras_wgangp as kw
from keras_wgangp.architectures import IMAGE_SIZES
from keras_wgangp.callbacks import SampleImages
from keras_wgangp.plots import image_grid

A = kw.architectures


@pytest.mark.parametrize("size", [8, 16, 32])
def test_load_digits(size):
    images, labels = kw.data.load_digits(size)
    assert images.shape == (1797, size, size, 1) and images.dtype == np.float32
    assert images.min() == -1.0 and images.max() == 1.0
    assert sorted(np.unique(labels)) == list(range(10))


def test_load_digits_rejects_other_sizes():
    with pytest.raises(ValueError, match="8, 16, 32"):
        kw.data.load_digits(12)


@pytest.mark.parametrize(
    "name,image_size,shape",
    [("mnist", None, (28, 28, 1)), ("fashion_mnist", 16, (16, 16, 1)), ("cifar10", None, (32, 32, 3)),
     ("celeb_a", 64, (64, 64, 3))],
)  # fmt: skip
def test_load_tfds_through_the_real_code_path_with_mock_data(name, image_size, shape, tmp_path):
    with tfds.testing.mock_data(num_examples=12):
        ds = kw.data.load_tfds(name, image_size=image_size, batch_size=5, data_dir=str(tmp_path))
        batches = list(ds)
    assert [b.shape[0] for b in batches] == [5, 5, 2]
    assert tuple(batches[0].shape[1:]) == shape and batches[0].dtype == tf.float32
    values = np.concatenate([b.numpy().ravel() for b in batches])
    assert values.min() >= -1.0 and values.max() <= 1.0


def test_load_tfds_missing_data_says_how_to_prepare(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        kw.data.load_tfds("mnist", data_dir=str(tmp_path))
    message = str(info.value)
    assert "not available offline" in message and str(tmp_path) in message
    assert "download_and_prepare" in message and "data_dir" in message


def test_load_tfds_unknown_name():
    with pytest.raises(ValueError, match="Unknown tensorflow-datasets dataset"):
        kw.data.load_tfds("no_such_dataset_xyz")


@pytest.mark.parametrize("size", IMAGE_SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes_and_no_batchnorm_in_critic(size, channels):
    shape = (size, size, channels)
    generator = A.dcgan_generator(16, shape, filters=8)
    critic = A.dcgan_critic(shape, filters=8, normalization="layer")
    assert generator.output_shape == (None,) + shape
    assert critic.output_shape == (None, 1)
    assert generator.layers[-1].activation is keras.activations.tanh
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in critic.layers)
    assert any(isinstance(layer, keras.layers.LayerNormalization) for layer in critic.layers)
    images = generator(np.random.randn(2, 16).astype("float32")).numpy()
    assert np.abs(images).max() <= 1.0


@pytest.mark.parametrize("size", [16, 28, 32])
def test_resnet_shapes(size):
    shape = (size, size, 3)
    assert A.resnet_generator(32, shape, dim=8).output_shape == (None,) + shape
    critic = A.resnet_critic(shape, dim=8)
    assert critic.output_shape == (None, 1)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in critic.layers)


def test_resnet_matches_the_papers_cifar_size():
    # The paper's CIFAR-10 ResNet (DIM=128): about 1.2M generator and 1.0M critic weights.
    assert 1.1e6 < A.resnet_generator(128, (32, 32, 3)).count_params() < 1.3e6
    assert 0.95e6 < A.resnet_critic((32, 32, 3)).count_params() < 1.15e6


@pytest.mark.parametrize("bad", [(30, 30, 1), (32, 16, 3), (32, 32, 2), (32, 32), "img"])
def test_bad_image_shapes(bad):
    with pytest.raises(ValueError, match="image_shape"):
        A.dcgan_generator(8, bad)
    # A critic takes any channel count (PacGAN joins images along the channels), but not 0.
    with pytest.raises(ValueError, match="image_shape"):
        A.resnet_critic((32, 32, 0) if bad == (32, 32, 2) else bad)


def test_bad_normalization():
    with pytest.raises(ValueError, match="normalization"):
        A.dcgan_critic((16, 16, 1), normalization="batch")


def test_image_grid_layout_and_value_range():
    images = np.full((5, 4, 4, 3), -1.0, "float32")
    images[2] = 1.0
    grid = image_grid(images, value_range=(-1, 1), padding=1)
    assert grid.shape == (2 * 5 + 1, 3 * 5 + 1, 3)  # 5 images: 3 columns, 2 rows
    assert grid[1:5, 11:15].min() == 1.0  # the third image, first row, third column
    assert grid[1:5, 1:5].max() == 0.0
    assert grid[6:10, 6:10].max() == 0.0  # the fifth image
    assert grid[6:10, 11:15].min() == 1.0  # the empty sixth slot stays white


@pytest.mark.parametrize(("side", "scale"), [(28, 3), (16, 5), (64, 1)])
def test_saved_grids_are_enlarged_by_whole_factors_to_a_readable_size(tmp_path, side, scale):
    from PIL import Image

    from keras_wgangp.plots import save_image_grid

    images = np.linspace(-1, 1, 64 * side * side).reshape(64, side, side, 1)
    grid = image_grid(images)  # 8 x 8 tiles of side + 1 pixels, plus 1
    path = save_image_grid(grid, str(tmp_path / "g.png"))
    with Image.open(path) as png:
        assert png.size == (scale * (8 * (side + 1) + 1),) * 2  # 28x28 digits: 699 pixels, 84 per digit
        pixels = np.asarray(png.convert("L"), "float32")
    block = pixels[scale : 2 * scale, scale : 2 * scale]  # the first image's first pixel, enlarged
    assert block.min() == block.max()  # nearest-neighbour repetition: no blur


def test_sample_images_uses_fixed_latents_and_writes_tensorboard(tmp_path):
    gan = kw.WGANGP(
        A.dcgan_generator(8, (8, 8, 1), filters=4), A.dcgan_critic((8, 8, 1), filters=4), critic_steps=1
    )
    gan.compile()
    images, _ = kw.data.load_digits(8)
    callback = SampleImages(
        str(tmp_path / "s"), num_images=10, every_n_epochs=1, log_dir=str(tmp_path / "tb")
    )
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(callback.latents().copy())

    gan.fit(images[:128], batch_size=32, epochs=2, callbacks=[callback, Spy()], verbose=0)
    assert [os.path.basename(p) for p in callback.paths] == [
        "samples_epoch_0001.png",
        "samples_epoch_0002.png",
    ]
    np.testing.assert_array_equal(seen[0], seen[1])
    assert any(f.startswith("events") for f in os.listdir(tmp_path / "tb"))
    assert open(callback.paths[0], "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_sample_images_rgb(tmp_path):
    gan = kw.WGANGP(A.dcgan_generator(8, (8, 8, 3), filters=4), A.dcgan_critic((8, 8, 3), filters=4))
    gan.compile()
    callback = SampleImages(str(tmp_path), num_images=7)
    callback.set_model(gan)
    callback.on_epoch_end(0)
    assert os.path.exists(tmp_path / "samples_epoch_0001.png")


def test_train_digits_command(tmp_path):
    import json

    from keras_wgangp.cli import main

    out = tmp_path / "digits"
    # With held-out digits: the critic watch, ADA steered by it, and the copy check (< 2,000 images).
    code = main(["train", "--dataset", "digits", "--image-size", "8", "--epochs", "2", "--steps", "4",
                 "--width", "8", "--validation-split", "0.1", "--augment", "ada", "--output", str(out),
                 "--verbose", "0"])  # fmt: skip
    assert code == 0
    for name in ("samples/samples_epoch_0001.png", "samples/samples_epoch_0002.png", "losses.png",
                 "model.keras", "saved_model/saved_model.pb", "summary.json",
                 "nearest_neighbours.png"):  # fmt: skip
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert np.isfinite(summary["final_metrics"]["overfit_rv"]) and "augment_p" in summary["final_metrics"]
    assert 0.0 <= summary["copy_share"] <= 1.0
    assert summary["memorization"]["train_images"] == 1294  # 1,438 training digits less 144 held out


@pytest.mark.parametrize("name", ["tfds:mnist", "cifar10"])  # tfds:NAME, and an older bare name
def test_train_tfds_without_data_fails_cleanly(name, tmp_path, capsys):
    from keras_wgangp.cli import main

    code = main(["train", "--dataset", name, "--data-dir", str(tmp_path), "--output", str(tmp_path / "o")])
    assert code == 1
    assert "not available offline" in capsys.readouterr().err


def test_train_rejects_mismatched_architecture(capsys):
    from keras_wgangp.cli import main

    assert main(["train", "--dataset", "digits", "--architecture", "mlp"]) == 2
    assert main(["train", "--architecture", "dcgan"]) == 2


EXAMPLES = sorted(
    f for f in os.listdir(os.path.join(os.path.dirname(__file__), "..", "examples")) if f.endswith(".py")
)


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES)
def test_example_runs_in_quick_mode(script, tmp_path, monkeypatch):
    # In this process, as `python examples/SCRIPT` runs it (`__main__`), without a TensorFlow
    # start-up per example; the examples change no global Keras or TensorFlow setting.
    import runpy

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    quick = {"QUICK": "1", "MOCK_TFDS": "1", "STEPS": "10", "OUTPUT": str(tmp_path)}
    for name, value in quick.items():
        monkeypatch.setenv(f"WGANGP_EXAMPLE_{name}", value)
    monkeypatch.chdir(tmp_path)
    runpy.run_path(os.path.join(root, "examples", script), run_name="__main__")
