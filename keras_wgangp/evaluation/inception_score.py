"""The Inception Score (Salimans et al. 2016, "Improved Techniques for Training GANs",
arXiv:1606.03498).

    IS = exp(E_x KL(p(y|x) ‖ p(y))),

computed on `num_splits` equal splits of the samples, p(y) being each
split's mean prediction; the mean and standard deviation over splits are
reported, as in the paper's code. A model whose samples are each
recognised with certainty (sharp p(y|x)) and spread over every class
(flat p(y)) scores the number of classes; uniform predictions score 1.
The classifier is InceptionV3 for natural images (`InceptionV3Classifier`,
with its ImageNet weights available offline), or the in-package digits
classifier for digits.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["InceptionV3Classifier", "inception_score"]


def inception_score(probabilities=None, num_splits: int = 10, *, images=None, classifier=None) -> tuple:
    """The Inception Score `(mean, std)` over `num_splits` splits.

    Args:
        probabilities: Class probabilities `(n, K)`, rows summing to 1; or
            None with `images` and `classifier`.
        num_splits: Splits of the samples (10 in the paper); each needs at
            least one sample, the last ones may hold one fewer.
        images: Samples to classify, instead of `probabilities`.
        classifier: A Keras model or function mapping `images` to
            probabilities (e.g. `digits_classifier(16)` or `InceptionV3Classifier()`).

    Returns:
        `(mean, std)` of the score over splits.

    Examples:
        >>> mean, std = inception_score(np.full((100, 10), 0.1))  # uniform predictions
        >>> round(mean, 6), round(std, 6)
        (1.0, 0.0)
        >>> round(inception_score(np.eye(4)[np.arange(400) % 4])[0], 6)  # certain, spread over 4 classes
        4.0
    """
    if probabilities is None:
        if images is None or classifier is None:
            raise ValueError("inception_score needs `probabilities`, or `images` with a `classifier`.")
        probabilities = _predict(classifier, images)
    p = np.asarray(probabilities, "float64")
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"probabilities must have shape (n, K), got {p.shape}.")
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("probabilities must be non-negative rows that sum to 1 (apply softmax to logits).")
    if (
        isinstance(num_splits, bool)
        or not isinstance(num_splits, (int, np.integer))
        or not 1 <= num_splits <= len(p)
    ):
        raise ValueError(
            f"num_splits must be an integer in [1, {len(p)}] (the sample count), got {num_splits!r}."
        )
    scores = []
    for part in np.array_split(p, num_splits):
        marginal = part.mean(axis=0, keepdims=True)
        # KL(p(y|x) ‖ p(y)) with 0·log 0 = 0.
        kl = np.where(
            part > 0, part * (np.log(np.where(part > 0, part, 1.0)) - np.log(marginal + 1e-300)), 0.0
        )
        scores.append(np.exp(kl.sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))


def _predict(classifier, images) -> np.ndarray:
    import keras

    images = np.asarray(images, "float32")
    if isinstance(classifier, keras.Model):
        return np.asarray(classifier.predict(images, verbose=0, batch_size=256))
    return np.asarray(classifier(images))


class InceptionV3Classifier:
    """InceptionV3's ImageNet class probabilities for images in `value_range`.

    Images are resized to 299×299 (bilinear), grayscale is repeated to RGB
    and pixels are scaled to InceptionV3's [−1, 1]. The ImageNet weights
    (`inception_v3_weights_tf_dim_ordering_tf_kernels.h5`, with the top)
    must be available offline: in Keras's cache or as a file path.

    Args:
        weights: `"imagenet"` (Keras's cache in `~/.keras/models`), a local
            weights file, or None (random weights, for tests).
        value_range: Pixel range of the images.
        batch_size: Images per forward pass.

    Examples:
        >>> classifier = InceptionV3Classifier(weights=None, batch_size=2)  # doctest: +SKIP
        >>> classifier(np.zeros((2, 32, 32, 3))).shape  # doctest: +SKIP
        (2, 1000)
    """

    def __init__(self, weights="imagenet", value_range=(-1.0, 1.0), batch_size: int = 32):
        import keras

        if isinstance(weights, str) and weights != "imagenet" and not os.path.exists(weights):
            raise FileNotFoundError(f"InceptionV3 weights file {weights!r} does not exist.")
        try:
            self.model = keras.applications.InceptionV3(
                include_top=True, weights="imagenet" if weights == "imagenet" else None
            )
        except Exception as error:  # no network, blocked download, corrupt cache
            raise RuntimeError(
                f"Could not obtain InceptionV3 ImageNet weights ({error}). Offline, copy "
                "inception_v3_weights_tf_dim_ordering_tf_kernels.h5 to ~/.keras/models or pass its path."
            ) from error
        if weights not in ("imagenet", None):
            self.model.load_weights(weights)
        self.value_range, self.batch_size = value_range, batch_size

    def __call__(self, images) -> np.ndarray:
        import keras
        import tensorflow as tf

        low, high = self.value_range
        images = (np.asarray(images, "float32") - low) / (high - low) * 2.0 - 1.0
        if images.shape[-1] == 1:
            images = np.repeat(images, 3, axis=-1)
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = tf.image.resize(images[start : start + self.batch_size], (299, 299), method="bilinear")
            out.append(keras.ops.convert_to_numpy(self.model(batch, training=False)))
        return np.concatenate(out).astype("float64")
