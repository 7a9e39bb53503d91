"""Mode coverage on stacked digits: the Stacked-MNIST measure of mode collapse.

Each channel of a generated image is classified by the digits classifier
(`digits_classifier`), giving a mode `100·d_R + 10·d_G + d_B` out of 1,000.
As in VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018), the
measures are the modes with at least one sample and the KL divergence
from the samples' mode histogram to the uniform one; 26,000 samples is the
papers' count. The features for FID and precision/recall are the
classifier's 64-d features of each channel, concatenated (192-d).
"""

from __future__ import annotations

import numpy as np

from keras_wgangp.evaluation.digits import digits_classifier
from keras_wgangp.evaluation.features import FeatureExtractor, classifier_features

__all__ = ["STACKED_SAMPLES", "stacked_features", "stacked_mode_coverage"]

STACKED_SAMPLES = 26_000  # the sample count of VEEGAN's and PacGAN's tables


def _channels(samples) -> np.ndarray:
    samples = np.asarray(samples, "float32")
    if samples.ndim != 4 or samples.shape[-1] != 3 or samples.shape[1] != samples.shape[2]:
        raise ValueError(f"Stacked digits are square RGB images (n, s, s, 3); got shape {samples.shape}.")
    return samples


def stacked_mode_coverage(samples, num_modes: int = 1000, classifier=None) -> dict:
    """The modes of stacked digits that samples cover, and KL(mode histogram ‖ uniform).

    Args:
        samples: Images `(n, s, s, 3)` in [−1, 1], s in 8, 16, 32.
        num_modes: 1,000: three channels of ten digits.
        classifier: A model from one-channel digits to 10 class
            probabilities; `digits_classifier(s)` by default.

    Returns:
        A dict: `modes_covered` (modes with at least one sample),
        `num_modes`, `kl` (in nats; 0 for a uniform histogram) and
        `num_samples`.

    Examples:
        >>> import keras
        >>> stub = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
        >>> stub.set_weights([np.zeros((64, 10)), np.eye(10)[3]])  # always predicts 3
        >>> result = stacked_mode_coverage(np.zeros((20, 8, 8, 3)), classifier=stub)
        >>> result["modes_covered"], round(result["kl"], 4)  # every sample in mode 333: log 1000
        (1, 6.9078)
    """
    samples = _channels(samples)
    if num_modes != 1000:
        raise ValueError(f"Stacked digits have 10³ = 1000 modes (3 channels of 10 digits), not {num_modes}.")
    classifier = classifier or digits_classifier(samples.shape[1])
    n = len(samples)
    # (n, s, s, 3) -> (3n, s, s, 1), channel-major, so each channel is one block of n.
    per_channel = np.moveaxis(samples, -1, 0).reshape(3 * n, *samples.shape[1:3], 1)
    digits = np.asarray(classifier.predict(per_channel, verbose=0, batch_size=1024)).argmax(axis=1)
    modes = 100 * digits[:n] + 10 * digits[n : 2 * n] + digits[2 * n :]
    counts = np.bincount(modes, minlength=num_modes)
    p = counts[counts > 0] / n
    return {
        "modes_covered": int((counts > 0).sum()),
        "num_modes": int(num_modes),
        "kl": float(np.sum(p * np.log(p * num_modes))),
        "num_samples": int(n),
    }


def stacked_features(image_size: int = 16) -> FeatureExtractor:
    """The digits classifier's features of each channel, concatenated: 192-d.

    Args:
        image_size: 8, 16 or 32.

    Returns:
        A `FeatureExtractor` for `(n, s, s, 3)` stacked digits.

    Examples:
        >>> extractor = stacked_features(16)  # doctest: +SKIP
        >>> extractor(np.zeros((2, 16, 16, 3))).shape  # doctest: +SKIP
        (2, 192)
    """
    base = classifier_features("digits", image_size)

    def features(images):
        images = _channels(images)
        return np.concatenate([base(images[..., c : c + 1]) for c in range(3)], axis=1)

    return FeatureExtractor(features, batch_size=4096, name=f"stacked_digits_classifier_{image_size}")
