"""Is the generator copying its training set? Authenticity (Alaa et al. 2022, "How Faithful is
your Synthetic Data?", arXiv:2102.08921, §3).

A sample g is a copy of its nearest training image x* when it lies closer to x* than any other
training image does:

    ‖g − x*‖ < ‖x* − x**‖,    x* = argmin_x ‖g − x‖,  x** = x*'s nearest other training image.

`copy_share` is the share of samples that are copies and `authenticity` = 1 − `copy_share`.
Real images drawn from the data but not trained on are not copies in the intended sense, yet
some of them land inside a training image's neighbour ball by chance; their `copy_share` is the
baseline a generator that models the data (and copies nothing) scores, so compare with it, not
with 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from keras_wgangp.evaluation._common import features_2d

__all__ = ["memorization", "nearest_training_images"]


def _features(images, features) -> np.ndarray:
    images = np.asarray(images, "float32")
    if features is None:  # pixels
        return features_2d(images.reshape(len(images), -1))
    if isinstance(features, str):
        from keras_wgangp.evaluation.reference import IMAGE_DATASETS, image_features

        if features not in IMAGE_DATASETS:
            raise ValueError(
                f"features={features!r} is not an image dataset with a classifier; use one of "
                f"{', '.join(IMAGE_DATASETS)}, a function images -> (n, d) features, or None for pixels."
            )
        return features_2d(image_features(features, images.shape[1], images)[0])
    if callable(features):
        return features_2d(features(images))
    raise TypeError(
        "features must be None (pixels), a dataset name such as 'mnist', or a function images -> "
        f"(n, d) features; got {type(features).__name__}."
    )


def _both(samples, train_images, features) -> tuple[np.ndarray, np.ndarray]:
    """The samples' and the training images' features, checked to have the same size."""
    train = _features(train_images, features)
    fake = _features(samples, features)
    if fake.shape[1] != train.shape[1]:
        raise ValueError(
            f"samples and train_images differ in shape: {fake.shape[1]} vs {train.shape[1]} values per "
            "example; pass images of the training set's shape."
        )
    return fake, train


def _neighbours(sample_features, train_features, k: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=k).fit(train_features).kneighbors(sample_features)


def nearest_training_images(
    samples, train_images, k: int = 1, features: str | Callable | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The k training images nearest to each sample, in a feature space.

    Args:
        samples: Generated images `(m, ...)` (or any arrays with one row per example).
        train_images: The training images `(n, ...)`, of the samples' shape.
        k: Neighbours per sample (`k <= n`).
        features: None for pixel distances; a name of
            `keras_wgangp.evaluation.IMAGE_DATASETS` for that dataset's classifier features;
            or a function images -> `(n, d)` features.

    Returns:
        `(distances, indices)`, both `(m, k)`, nearest first; `indices` index `train_images`.

    Examples:
        >>> train = np.array([[0.0], [1.0], [5.0]])
        >>> distances, indices = nearest_training_images(np.array([[0.9], [4.0]]), train, k=2)
        >>> indices.tolist()
        [[1, 0], [2, 1]]
    """
    fake, train = _both(samples, train_images, features)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(train):
        raise ValueError(f"k must be an integer from 1 to the {len(train)} training images, got {k!r}.")
    return _neighbours(fake, train, int(k))


def memorization(samples, train_images, features: str | Callable | None = None) -> dict:
    """How many samples copy a training image (authenticity, Alaa et al. 2022).

    Args:
        samples: Generated images `(m, h, w, c)` in the training images' range.
        train_images: The images the generator was trained on, `(n, h, w, c)`, n ≥ 2.
        features: The space distances are measured in: None for pixels; a name of
            `keras_wgangp.evaluation.IMAGE_DATASETS` (`"mnist"`, `"digits"`, ...) for that
            dataset's classifier features; or a function images -> `(n, d)` features.

    Returns:
        A dict of floats: `copy_share`, the share of samples closer to their nearest
        training image x* than x*'s own nearest other training image is; `authenticity`,
        1 − `copy_share`; and `nearest_distance_ratio`, the median over samples of
        ‖g − x*‖ / ‖x* − x**‖ (below 1 for most samples when the generator copies; exact
        copies give 0).

    Examples:
        >>> train = np.array([[0.0], [1.0], [3.0]])  # nearest-other distances 1, 1, 2
        >>> memorization(train, train)["copy_share"]  # the training set itself: all copies
        1.0
        >>> # 0.2 < 1 and 0.5 < 2 are copies; 7 > 2 is not.
        >>> result = memorization(np.array([[0.2], [2.5], [10.0]]), train)
        >>> round(result["copy_share"], 4), result["nearest_distance_ratio"]  # the median of 0.2, 0.25, 3.5
        (0.6667, 0.25)
    """
    fake, train = _both(samples, train_images, features)
    if len(train) < 2:
        raise ValueError(f"memorization needs at least 2 training images, got {len(train)}.")
    # Each training image's distance to its nearest other one (column 0 is itself).
    own = _neighbours(train, train, 2)[0][:, 1]
    distances, nearest = _neighbours(fake, train, 1)
    distances, radii = distances[:, 0], own[nearest[:, 0]]
    copies = distances < radii
    ratios = distances / np.maximum(radii, np.finfo("float64").tiny)
    share = float(np.mean(copies))
    return {
        "copy_share": share,
        "authenticity": 1.0 - share,
        "nearest_distance_ratio": float(np.median(ratios)),
    }
