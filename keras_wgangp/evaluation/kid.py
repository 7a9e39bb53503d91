"""The kernel inception distance (KID): an unbiased MMD² between feature sets."""

from __future__ import annotations

import numpy as np

from keras_wgangp.evaluation._common import features_2d
from keras_wgangp.evaluation.features import FeatureExtractor, InceptionV3Features

__all__ = ["kernel_inception_distance", "kid"]


def kernel_inception_distance(
    features_a,
    features_b,
    num_subsets: int = 100,
    subset_size: int = 1000,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    seed: int = 0,
) -> tuple[float, float]:
    """KID: the unbiased MMD² with a polynomial kernel, averaged over subsets.

    Bińkowski et al. 2018 ("Demystifying MMD GANs", arXiv:1801.01401), with
    k(x, y) = (γ x·y + coef0)^degree, γ = 1/d by default (the cubic kernel).
    Each of `num_subsets` draws `subset_size` rows of each set (without
    replacement; all rows when a set is smaller) and computes the unbiased
    estimator; the mean and standard deviation over subsets are returned.
    When both sets have at most `subset_size` rows every subset is the
    whole of both, so the estimator is computed once (standard deviation 0).

    Args:
        features_a: Array `(n_a, d)`.
        features_b: Array `(n_b, d)`.
        num_subsets: Number of subsets averaged.
        subset_size: Rows per subset.
        degree: Polynomial degree (3).
        gamma: Kernel scale; `None` means 1/d.
        coef0: Kernel offset (1).
        seed: Seed of the subset draws.

    Returns:
        `(mean, std)` of MMD² over subsets; it can be slightly negative,
        being unbiased.

    Examples:
        >>> x = np.random.default_rng(0).normal(size=(300, 8))
        >>> y = np.random.default_rng(1).normal(size=(300, 8)) + 1.0
        >>> kernel_inception_distance(x, y, num_subsets=5, subset_size=100)[0] > 0.1
        True
    """
    a, b = features_2d(features_a), features_2d(features_b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"Feature sizes differ: {a.shape[1]} vs {b.shape[1]}.")
    gamma = 1.0 / a.shape[1] if gamma is None else gamma
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError("KID needs at least 2 rows in each feature set.")
    if m == len(a) == len(b):  # every subset is both whole sets, reordered: one computation
        return _mmd2_unbiased(a, b, degree, gamma, coef0), 0.0
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(num_subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        values.append(_mmd2_unbiased(x, y, degree, gamma, coef0))
    return float(np.mean(values)), float(np.std(values))


def _mmd2_unbiased(x, y, degree, gamma, coef0) -> float:
    m = len(x)
    k_xx = (gamma * x @ x.T + coef0) ** degree
    k_yy = (gamma * y @ y.T + coef0) ** degree
    k_xy = (gamma * x @ y.T + coef0) ** degree
    off_xx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    off_yy = (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return float(off_xx + off_yy - 2.0 * k_xy.mean())


def kid(real, generated, extractor: FeatureExtractor | None = None, **kwargs) -> tuple[float, float]:
    """KID `(mean, std)` between two image sets, through `extractor`.

    Args:
        real: Real images.
        generated: Generated images.
        extractor: A `FeatureExtractor`; defaults to `InceptionV3Features()`.
        **kwargs: Passed to `kernel_inception_distance`.

    Returns:
        `(mean, std)` of the unbiased MMD² over subsets.

    Examples:
        >>> kid(x_real, x_fake, classifier_features("digits"))  # doctest: +SKIP
    """
    extractor = extractor or InceptionV3Features()
    return kernel_inception_distance(extractor(real), extractor(generated), **kwargs)
