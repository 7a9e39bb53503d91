"""The Fréchet distance (FID) between feature sets and between image sets."""

from __future__ import annotations

import numpy as np

from keras_wgangp.evaluation.features import FeatureExtractor, InceptionV3Features
from keras_wgangp.evaluation.statistics import FeatureStatistics, feature_statistics

__all__ = ["frechet_distance", "frechet_inception_distance"]


def frechet_distance(features_a, features_b, eps: float = 1e-6) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (FID).

    FID (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule",
    arXiv:1706.08500): ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½).

    Numerical robustness, as in the reference implementation: when the
    matrix square root is singular or not finite, `eps`·I is added to both
    covariances before retrying; a tiny imaginary part left by `sqrtm` from
    rounding is dropped (a large one raises `ValueError`).

    Either set may be given as its `FeatureStatistics` (mean and
    covariance, for example a real set's, computed once and saved).

    Args:
        features_a: Array `(n_a, d)`, or a `FeatureStatistics`.
        features_b: Array `(n_b, d)`, or a `FeatureStatistics`.
        eps: Diagonal offset used only when the plain square root fails.

    Returns:
        The distance, a float ≥ 0 (up to rounding).

    Examples:
        >>> x = np.random.default_rng(0).normal(size=(500, 4))
        >>> round(frechet_distance(x, x), 6)
        0.0
        >>> round(frechet_distance(feature_statistics(x), x + 1.0), 6)  # ‖μ_a − μ_b‖² = 4
        4.0
    """
    from scipy import linalg

    a, b = _statistics(features_a), _statistics(features_b)
    if len(a.mean) != len(b.mean):
        raise ValueError(f"Feature sizes differ: {len(a.mean)} vs {len(b.mean)}.")
    mu_a, mu_b, sigma_a, sigma_b = a.mean, b.mean, a.covariance, b.covariance
    covmean = linalg.sqrtm(sigma_a @ sigma_b)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(sigma_a)) * eps
        covmean = linalg.sqrtm((sigma_a + offset) @ (sigma_b + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"sqrtm returned a large imaginary part ({np.abs(covmean.imag).max():.3g}).")
        covmean = covmean.real
    diff = mu_a - mu_b
    distance = float(diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * np.trace(covmean))
    return max(distance, 0.0)  # rounding can leave identical sets a hair below 0


def _statistics(features) -> FeatureStatistics:
    return features if isinstance(features, FeatureStatistics) else feature_statistics(features)


def frechet_inception_distance(real, generated, extractor: FeatureExtractor | None = None) -> float:
    """FID between two image sets, through `extractor` (InceptionV3 by default).

    Args:
        real: Real images `(n, h, w, c)`.
        generated: Generated images, same shape.
        extractor: A `FeatureExtractor`; defaults to `InceptionV3Features()`.

    Returns:
        The Fréchet distance of the two feature sets.

    Examples:
        >>> fid = frechet_inception_distance(x_real, x_fake, classifier_features("digits"))  # doctest: +SKIP
    """
    extractor = extractor or InceptionV3Features()
    return frechet_distance(extractor(real), extractor(generated))
