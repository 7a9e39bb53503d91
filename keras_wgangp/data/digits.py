"""scikit-learn's 1,797 real 8×8 handwritten digits: the offline image default.

`load_digits` resizes them, `digits_split` is their fixed train/test split
(training, and the held-out digits every digits FID is measured against),
and `stacked_digits` stacks three of them as RGB channels, the 1,000-mode
Stacked-MNIST protocol.
"""

from __future__ import annotations

import numpy as np

from keras_wgangp.data.stacking import stack_channels, stacked_stream

__all__ = ["DIGITS_SIZES", "digits_split", "load_digits", "stacked_digits", "stacked_digits_dataset"]

DIGITS_SIZES = (8, 16, 32)


def load_digits(image_size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Returns scikit-learn's 1,797 handwritten digits as images in [-1, 1].

    The 8×8 originals (16 grey levels, white strokes on black) are resized
    bilinearly to `image_size` × `image_size`.

    Args:
        image_size: 8, 16 or 32.

    Returns:
        `(images, labels)`: float32 of shape `(1797, image_size, image_size, 1)`
        in [-1, 1], and int64 labels 0–9.

    Examples:
        >>> images, labels = load_digits(16)
        >>> images.shape, float(images.min()), float(images.max())
        ((1797, 16, 16, 1), -1.0, 1.0)
    """
    if image_size not in DIGITS_SIZES:
        raise ValueError(f"image_size must be one of {DIGITS_SIZES}, got {image_size!r}.")
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    images = (digits.images.astype("float32") / 16.0)[..., None]  # [0, 1]
    if image_size != 8:
        import tensorflow as tf

        images = tf.image.resize(images, (image_size, image_size), method="bilinear").numpy()
    images = np.clip(images * 2.0 - 1.0, -1.0, 1.0).astype("float32")
    return images, digits.target.astype("int64")


def digits_split(image_size: int = 16, test_fraction: float = 0.2, seed: int = 0):
    """A fixed train/test split of scikit-learn's digits, stratified by class.

    Args:
        image_size: 8, 16 or 32 (see `keras_wgangp.data.load_digits`).
        test_fraction: Share of each class held out.
        seed: Seed of the split (fixed so cached classifiers stay valid).

    Returns:
        `(x_train, y_train, x_test, y_test)`.

    Examples:
        >>> x_train, y_train, x_test, y_test = digits_split(8)
        >>> len(x_train) + len(x_test)
        1797
    """
    images, labels = load_digits(image_size)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        test[rng.choice(members, int(round(test_fraction * len(members))), replace=False)] = True
    return images[~test], labels[~test], images[test], labels[test]


def _digit_split(image_size: int, split: str):
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    x_train, y_train, x_test, y_test = digits_split(image_size)
    return (x_train, y_train) if split == "train" else (x_test, y_test)


def stacked_digits(
    num_samples: int, image_size: int = 16, seed: int = 0, split: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Stacked digits: the Stacked-MNIST protocol on scikit-learn's digits.

    Each image stacks three digits, drawn independently and uniformly from
    one split of `digits_split`, as its red, green and blue channels, so the
    data has 10³ = 1,000 modes (Srivastava et al. 2017, VEEGAN; Lin et al.
    2018, PacGAN). The training and test images come from disjoint digits.

    Args:
        num_samples: How many images.
        image_size: 8, 16 or 32.
        seed: Seed of the draws.
        split: `"train"` (the 1,437 training digits) or `"test"` (the 360 held-out ones).

    Returns:
        `(images, labels)`: float32 `(n, s, s, 3)` in [−1, 1] and int64
        labels `100·d_R + 10·d_G + d_B` in [0, 1000).

    Examples:
        >>> images, labels = stacked_digits(5, image_size=8, seed=0)
        >>> images.shape, images.dtype.name, int(labels.max()) < 1000
        ((5, 8, 8, 3), 'float32', True)
    """
    images, labels = _digit_split(image_size, split)
    return stack_channels(images, labels, num_samples, seed)


def stacked_digits_dataset(batch_size: int, image_size: int = 16, seed: int = 0, labels: bool = False):
    """An endless `tf.data` stream of fresh stacked training digits, in batches.

    Every batch draws new triples from the training split (1,437³ possible
    images), so a long run never sees a fixed sample twice.

    Args:
        batch_size: Images per batch.
        image_size: 8, 16 or 32.
        seed: Seed of the draws.
        labels: Also yield the int64 labels, as `(images, labels)`.

    Returns:
        A `tf.data.Dataset` of float32 `(batch, s, s, 3)` batches.

    Examples:
        >>> batch = next(iter(stacked_digits_dataset(4, image_size=8)))
        >>> tuple(batch.shape)
        (4, 8, 8, 3)
    """
    images, digit_labels = _digit_split(image_size, "train")
    return stacked_stream(images, digit_labels, batch_size, seed, labels)
