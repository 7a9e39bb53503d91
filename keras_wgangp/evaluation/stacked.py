"""Mode coverage on stacked digits: the Stacked-MNIST measure of mode collapse.

Each channel of a generated image is classified by the digits classifier
(`digits_classifier`, for `stacked_digits`) or the MNIST classifier
(`mnist_classifier`, for `stacked_mnist`), giving a mode
`100·d_R + 10·d_G + d_B` out of 1,000.
As in VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018), the
measures are the modes with at least one sample and the KL divergence
from the samples' mode histogram to the uniform one; 26,000 samples is the
papers' count. The features for FID and precision/recall are the
classifier's features of each channel, concatenated (3 × 64 = 192-d for the
digits classifier, 3 × 128 = 384-d for the MNIST one).
"""

from __future__ import annotations

import numpy as np

from keras_wgangp.evaluation.digits import digits_classifier
from keras_wgangp.evaluation.features import FeatureExtractor, classifier_features
from keras_wgangp.evaluation.mnist import mnist_classifier

__all__ = [
    "STACKED_DATASETS",
    "STACKED_SAMPLES",
    "mode_histogram",
    "stacked_features",
    "stacked_mode_coverage",
]

STACKED_SAMPLES = 26_000  # the sample count of VEEGAN's and PacGAN's tables
# Each stacked dataset and the one-channel digits whose classifier reads its channels.
STACKED_DATASETS = {"stacked_digits": "digits", "stacked_mnist": "mnist"}
NUM_MODES = 1000


def _digit_data(dataset: str) -> str:
    if dataset not in STACKED_DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(map(repr, STACKED_DATASETS))}, got {dataset!r}.")
    return STACKED_DATASETS[dataset]


def _channels(samples) -> np.ndarray:
    samples = np.asarray(samples, "float32")
    if samples.ndim != 4 or samples.shape[-1] != 3 or samples.shape[1] != samples.shape[2]:
        raise ValueError(f"Stacked digits are square RGB images (n, s, s, 3); got shape {samples.shape}.")
    return samples


def mode_histogram(red, green, blue, num_modes: int = NUM_MODES) -> dict:
    """Modes covered and KL(mode histogram ‖ uniform) of classified stacked digits.

    Args:
        red: The digit class of each sample's red channel, ints `(n,)`.
        green: Likewise for green.
        blue: Likewise for blue.
        num_modes: 1,000: three channels of ten digits.

    Returns:
        A dict: `modes_covered` (modes with at least one sample),
        `num_modes`, `kl` (in nats; 0 for a uniform histogram) and
        `num_samples`.

    Examples:
        >>> digits = np.arange(1000)
        >>> mode_histogram(digits // 100, digits // 10 % 10, digits % 10)["kl"]  # each mode once
        0.0
        >>> round(mode_histogram([3, 3], [3, 3], [3, 3])["kl"], 4)  # one mode: log 1000
        6.9078
    """
    if num_modes != NUM_MODES:
        raise ValueError(f"Stacked digits have 10³ = 1000 modes (3 channels of 10 digits), not {num_modes}.")
    red, green, blue = (np.asarray(c, "int64").reshape(-1) for c in (red, green, blue))
    if not len(red) == len(green) == len(blue) > 0:
        raise ValueError(f"Need one digit per sample and channel, got {len(red)}, {len(green)}, {len(blue)}.")
    counts = np.bincount(100 * red + 10 * green + blue, minlength=num_modes)
    p = counts[counts > 0] / len(red)
    return {
        "modes_covered": int((counts > 0).sum()),
        "num_modes": int(num_modes),
        "kl": float(np.sum(p * np.log(p * num_modes))),
        "num_samples": int(len(red)),
    }


def stacked_mode_coverage(
    samples, num_modes: int = NUM_MODES, classifier=None, dataset: str = "stacked_digits"
) -> dict:
    """The modes of stacked digits that samples cover, and KL(mode histogram ‖ uniform).

    Args:
        samples: Images `(n, s, s, 3)` in [−1, 1]: s in 8, 16, 32 for
            `stacked_digits`, 28 or 32 for `stacked_mnist`.
        num_modes: 1,000: three channels of ten digits.
        classifier: A model from one-channel digits to 10 class
            probabilities; by default `digits_classifier(s)` for
            `stacked_digits` and `mnist_classifier(s)` for `stacked_mnist`.
        dataset: `"stacked_digits"` or `"stacked_mnist"`: whose classifier.

    Returns:
        `mode_histogram`'s dict.

    Examples:
        >>> import keras
        >>> stub = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
        >>> stub.set_weights([np.zeros((64, 10)), np.eye(10)[3]])  # always predicts 3
        >>> result = stacked_mode_coverage(np.zeros((20, 8, 8, 3)), classifier=stub)
        >>> result["modes_covered"], round(result["kl"], 4)  # every sample in mode 333: log 1000
        (1, 6.9078)
    """
    samples = _channels(samples)
    digit_data = _digit_data(dataset)
    if classifier is None:
        classifier = (digits_classifier if digit_data == "digits" else mnist_classifier)(samples.shape[1])
    n = len(samples)
    # (n, s, s, 3) -> (3n, s, s, 1), channel-major, so each channel is one block of n.
    per_channel = np.moveaxis(samples, -1, 0).reshape(3 * n, *samples.shape[1:3], 1)
    digits = np.asarray(classifier.predict(per_channel, verbose=0, batch_size=1024)).argmax(axis=1)
    return mode_histogram(digits[:n], digits[n : 2 * n], digits[2 * n :], num_modes)


def stacked_features(image_size: int = 16, dataset: str = "stacked_digits") -> FeatureExtractor:
    """The classifier's features of each channel, concatenated: 192-d (digits) or 384-d (MNIST).

    Args:
        image_size: 8, 16 or 32 for `stacked_digits`; 28 or 32 for `stacked_mnist`.
        dataset: `"stacked_digits"` or `"stacked_mnist"`: whose classifier.

    Returns:
        A `FeatureExtractor` for `(n, s, s, 3)` stacked digits.

    Examples:
        >>> extractor = stacked_features(16)  # doctest: +SKIP
        >>> extractor(np.zeros((2, 16, 16, 3))).shape  # doctest: +SKIP
        (2, 192)
    """
    digit_data = _digit_data(dataset)
    base = classifier_features(digit_data, image_size)

    def features(images):
        images = _channels(images)
        return np.concatenate([base(images[..., c : c + 1]) for c in range(3)], axis=1)

    return FeatureExtractor(features, batch_size=4096, name=f"stacked_{digit_data}_classifier_{image_size}")
