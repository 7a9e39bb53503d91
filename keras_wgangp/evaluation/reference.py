"""The real side of the image measures, computed once per dataset and cached on disk.

FID, KID, precision/recall and density/coverage compare generated features
with real ones that do not change from one evaluation to the next: the
classifier features of the test split, their k-nearest-neighbour radii and
the floor (the FID of real training images against the same split).
`real_reference` computes them once and keeps them in
`<cache>/reference/<key>.npz`, under the cache folder of `digits_classifier`.
The key names the dataset, image side, sample count, seed, package version
and a fingerprint of the classifier's weights, so a retrained classifier
never meets stale features. Files are written atomically; one that does not
read back is rebuilt, never trusted.

| dataset | classifier | test reference | floor set (n samples) |
|---|---|---|---|
| `digits` | `digits_classifier` | `digits_split`'s 360 held-out digits | n training digits, ≤ 1,437 |
| `mnist` | `mnist_classifier` | `kw.data.mnist`'s 1,000 test digits | n training digits, ≤ 4,000 |
| `stacked_digits` | the digits one, per channel | 10,000 test stacks | n training stacks, ≤ 10,000 |
| `stacked_mnist` | the MNIST one, per channel | 10,000 test stacks | n training stacks, ≤ 10,000 |
"""

from __future__ import annotations

import hashlib

import numpy as np

from keras_wgangp import data
from keras_wgangp.evaluation._common import cached_arrays
from keras_wgangp.evaluation.digits import digits_classifier
from keras_wgangp.evaluation.features import classifier_features
from keras_wgangp.evaluation.frechet import frechet_distance
from keras_wgangp.evaluation.mnist import mnist_classifier
from keras_wgangp.evaluation.neighbours import knn_radii

__all__ = [
    "IMAGE_DATASETS",
    "NEIGHBOUR_SAMPLES",
    "STACKED_REFERENCE",
    "digit_classifier",
    "image_features",
    "image_sizes",
    "neighbour_subset",
    "real_images",
    "real_reference",
]

# Each image dataset: the one-channel digits its classifier reads, and its channels.
IMAGE_DATASETS = {
    "digits": ("digits", 1),
    "mnist": ("mnist", 1),
    "stacked_digits": ("digits", 3),
    "stacked_mnist": ("mnist", 3),
}
STACKED_REFERENCE = 10_000  # stacked test images: the FID and precision/recall reference
# Precision/recall and density/coverage compare at most this many of each set
# (k-NN over all 26,000 stacked samples would cost minutes for little change).
NEIGHBOUR_SAMPLES = 10_000
NEIGHBOURS = (3, 5)  # k of precision/recall and of density/coverage, as in their papers
REFERENCE_KEYS = ("features", "floor_fid", "neighbour_rows", *(f"radii_{k}" for k in NEIGHBOURS))


def _check(dataset: str) -> tuple[str, int]:
    if dataset not in IMAGE_DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(map(repr, IMAGE_DATASETS))}, got {dataset!r}.")
    return IMAGE_DATASETS[dataset]


def image_sizes(dataset: str) -> tuple:
    """The image sides a dataset is evaluated at: 8, 16, 32 (digits) or 28, 32 (MNIST).

    Args:
        dataset: A name of `IMAGE_DATASETS`.

    Returns:
        The sides.

    Examples:
        >>> image_sizes("stacked_mnist")
        (28, 32)
    """
    return data.DIGITS_SIZES if _check(dataset)[0] == "digits" else data.MNIST_SIZES


def digit_classifier(dataset: str, image_size: int):
    """The classifier that reads a dataset's digits (each channel of a stacked one).

    Args:
        dataset: A name of `IMAGE_DATASETS`.
        image_size: One of `image_sizes(dataset)`.

    Returns:
        `digits_classifier(image_size)` or `mnist_classifier(image_size)`.

    Examples:
        >>> digit_classifier("stacked_digits", 16).name  # doctest: +SKIP
        'digits_classifier_16'
    """
    return digits_classifier(image_size) if _check(dataset)[0] == "digits" else mnist_classifier(image_size)


def image_features(dataset: str, image_size: int, images) -> tuple[np.ndarray, np.ndarray]:
    """Classifier features and class probabilities of images, in one pass of the classifier.

    The probabilities are the classifier's last layer (`probabilities`)
    applied to its `features`, which is what the whole classifier computes
    at inference. Stacked images go through it channel by channel.

    Args:
        dataset: A name of `IMAGE_DATASETS`.
        image_size: The images' side.
        images: `(n, s, s, c)` images in [-1, 1], c the dataset's channels.

    Returns:
        `(features, probabilities)`: float64 `(n, c·d)` (the channels'
        features concatenated) and `(n, c, 10)`.

    Examples:
        >>> features, probabilities = image_features("digits", 8, np.zeros((2, 8, 8, 1)))  # doctest: +SKIP
        >>> features.shape, probabilities.shape  # doctest: +SKIP
        ((2, 64), (2, 1, 10))
    """
    import keras

    digit_data, channels = _check(dataset)
    images = np.asarray(images, "float32")
    extractor = classifier_features(digit_data, image_size)
    head = digit_classifier(dataset, image_size).get_layer("probabilities")
    features, probabilities = [], []
    for c in range(channels):
        f = extractor(images[..., c : c + 1])
        features.append(f)
        probabilities.append(np.asarray(keras.ops.convert_to_numpy(head(f.astype("float32")))))
    return np.concatenate(features, axis=1), np.stack(probabilities, axis=1).astype("float64")


def real_images(dataset: str, image_size: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The real images a dataset's measures compare with: the test reference and the floor set.

    Args:
        dataset: A name of `IMAGE_DATASETS`.
        image_size: The images' side.
        count: How many samples are measured (the floor set has as many, up to its cap).
        seed: Seed of the draws.

    Returns:
        `(test, floor)` image arrays.

    Examples:
        >>> test, floor = real_images("digits", 8, 100, seed=0)
        >>> test.shape, floor.shape
        ((359, 8, 8, 1), (100, 8, 8, 1))
    """
    _check(dataset)
    if dataset in ("digits", "mnist"):
        if dataset == "digits":
            x_train, _, x_test, _ = data.digits_split(image_size)
        else:
            (x_train, _), (x_test, _) = data.mnist("train", image_size), data.mnist("test", image_size)
        # The floor under the same protocol: as many real training digits as
        # there are samples (FID's small-sample bias depends on the count).
        chosen = np.random.default_rng(seed).choice(len(x_train), min(count, len(x_train)), replace=False)
        return x_test, x_train[chosen]
    if dataset == "stacked_digits":
        test, _ = data.stacked_digits(STACKED_REFERENCE, image_size, seed=seed, split="test")
        floor, _ = data.stacked_digits(min(count, STACKED_REFERENCE), image_size, seed=seed + 1)
    else:
        test, _ = data.stacked_mnist(STACKED_REFERENCE, seed=seed, split="test", image_size=image_size)
        floor, _ = data.stacked_mnist(min(count, STACKED_REFERENCE), seed=seed + 1, image_size=image_size)
    return test, floor


def neighbour_subset(num_real: int, num_fake: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Which real and generated rows precision/recall and density/coverage compare.

    At most `NEIGHBOUR_SAMPLES` of each, drawn from one generator seeded
    with `seed`: the real rows first, then the generated ones.

    Args:
        num_real: Real features.
        num_fake: Generated features.
        seed: The seed.

    Returns:
        `(real_rows, fake_rows)` index arrays.

    Examples:
        >>> real, fake = neighbour_subset(20_000, 5, seed=0)
        >>> len(real), sorted(fake.tolist())
        (10000, [0, 1, 2, 3, 4])
    """
    rng = np.random.default_rng(seed)
    real = rng.permutation(num_real)[:NEIGHBOUR_SAMPLES]
    return real, rng.permutation(num_fake)[:NEIGHBOUR_SAMPLES]


def _fingerprint(model) -> str:
    digest = hashlib.sha1()
    for weight in model.get_weights():
        digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:12]


def real_reference(dataset: str, image_size: int, count: int, seed: int = 0) -> dict:
    """The real side of a dataset's measures, from the cache or computed and cached.

    Args:
        dataset: A name of `IMAGE_DATASETS`.
        image_size: The images' side.
        count: How many samples will be measured (it sizes the floor set).
        seed: Seed of the real draws.

    Returns:
        A dict of arrays: `features` (the test reference's features,
        float32 as the classifier gives them), `floor_fid` (the FID of the
        floor set against them), `neighbour_rows` (the rows of `features`,
        at most `NEIGHBOUR_SAMPLES`, that precision/recall and
        density/coverage compare) and `radii_3`, `radii_5` (those rows' 3rd
        and 5th nearest-neighbour radii).

    Examples:
        >>> real = real_reference("digits", 8, 100)  # doctest: +SKIP
        >>> real["features"].shape, float(real["floor_fid"]) > 0  # doctest: +SKIP
        ((360, 64), True)
    """
    from keras_wgangp import __version__

    if image_size not in image_sizes(dataset):
        raise ValueError(f"{dataset} is evaluated at sides {image_sizes(dataset)}, got {image_size!r}.")
    fingerprint = _fingerprint(digit_classifier(dataset, image_size))
    key = f"{dataset}_{image_size}_n{count}_seed{seed}_v{__version__}_{fingerprint}"

    def compute():
        test, floor = real_images(dataset, image_size, count, seed)
        features, _ = image_features(dataset, image_size, test)
        floor_features, _ = image_features(dataset, image_size, floor)
        rows, _ = neighbour_subset(len(features), count, seed)
        return {
            # The classifier's float32 outputs, stored as they came: half the size, nothing lost.
            "features": features.astype("float32"),
            "floor_fid": frechet_distance(floor_features, features),
            "neighbour_rows": rows,
            **{f"radii_{k}": knn_radii(features[rows], k) for k in NEIGHBOURS},
        }

    return cached_arrays(key, compute, REFERENCE_KEYS)
