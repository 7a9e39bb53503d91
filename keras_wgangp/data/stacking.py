"""The Stacked-MNIST construction: three digits as the red, green and blue channels of one image.

Srivastava et al. 2017 (VEEGAN) and Lin et al. 2018 (PacGAN): each image
stacks three digits drawn independently and uniformly, so a data set of 10
classes gives 10³ = 1,000 modes, labelled `100·d_R + 10·d_G + d_B`. The
stacked digits (`kw.data.stacked_digits`) and stacked MNIST
(`kw.data.stacked_mnist`) both draw through these two functions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["stack_channels", "stacked_stream"]


def stack_channels(
    images: np.ndarray, labels: np.ndarray, num_samples: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Draws `num_samples` triples of single-channel images and stacks each as RGB.

    Args:
        images: float32 `(n, s, s, 1)`.
        labels: int class ids 0–9, `(n,)`.
        num_samples: How many stacked images.
        seed: Seed of the draws.

    Returns:
        `(images, labels)`: float32 `(num_samples, s, s, 3)` and int64
        labels `100·d_R + 10·d_G + d_B` in [0, 1000).

    Examples:
        >>> x = np.arange(3, dtype="float32").reshape(3, 1, 1, 1)
        >>> stacked, y = stack_channels(x, np.array([0, 1, 2]), 4, seed=0)
        >>> r, g, b = stacked[:, 0, 0, 0], stacked[:, 0, 0, 1], stacked[:, 0, 0, 2]
        >>> stacked.shape, bool(np.all(y == 100 * r + 10 * g + b))
        ((4, 1, 1, 3), True)
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 0:
        raise ValueError(f"num_samples must be an integer >= 0, got {num_samples!r}.")
    labels = np.asarray(labels).astype("int64")
    index = np.random.default_rng(seed).integers(0, len(images), size=(int(num_samples), 3))
    stacked = np.concatenate([images[index[:, c]] for c in range(3)], axis=-1)
    return stacked.astype("float32"), 100 * labels[index[:, 0]] + 10 * labels[index[:, 1]] + labels[
        index[:, 2]
    ]


def stacked_stream(
    images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int = 0, with_labels: bool = False
):
    """An endless seeded `tf.data` stream of fresh stacked images, in batches.

    Every batch draws new triples (n³ possible images), so a long run never
    sees a fixed sample twice.

    Args:
        images: float32 `(n, s, s, 1)`.
        labels: int class ids 0–9, `(n,)`.
        batch_size: Images per batch.
        seed: Seed of the draws.
        with_labels: Also yield the int64 labels, as `(images, labels)`.

    Returns:
        A `tf.data.Dataset` of float32 `(batch, s, s, 3)` batches.

    Examples:
        >>> x = np.zeros((5, 4, 4, 1), "float32")
        >>> tuple(next(iter(stacked_stream(x, np.arange(5), 2))).shape)
        (2, 4, 4, 3)
    """
    import tensorflow as tf

    pixels = tf.constant(np.asarray(images, "float32")[..., 0])  # (n, s, s)
    classes = tf.constant(np.asarray(labels).astype("int64"))
    n = len(images)

    def stack(draws):
        index = tf.reshape(tf.math.floormod(draws, n), (-1, 3))
        batch = tf.transpose(tf.gather(pixels, index), (0, 2, 3, 1))
        if not with_labels:
            return batch
        digits = tf.gather(classes, index)
        return batch, 100 * digits[:, 0] + 10 * digits[:, 1] + digits[:, 2]

    draws = tf.data.Dataset.random(seed=seed).batch(3 * batch_size, drop_remainder=True)
    return draws.map(stack, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
