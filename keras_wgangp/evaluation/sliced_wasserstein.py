"""The sliced Wasserstein-1 distance, for low-dimensional samples (the 2-D toys)."""

from __future__ import annotations

import numpy as np

from keras_wgangp.evaluation._common import features_2d

__all__ = ["sliced_wasserstein_distance"]


def sliced_wasserstein_distance(a, b, num_projections: int = 256, seed: int = 0) -> float:
    """Sliced Wasserstein-1 distance for low-dimensional samples.

    The mean, over `num_projections` random unit directions θ, of the exact
    1-D Wasserstein-1 distance between the projections θ·a and θ·b
    (Rabin et al. 2011; Bonneel et al. 2015). Sets of different sizes are
    compared through their quantile functions.

    Args:
        a: Array `(n_a, d)` (or `(n_a,)` for 1-D data).
        b: Array `(n_b, d)`.
        num_projections: Random directions averaged.
        seed: Seed of the directions.

    Returns:
        The distance, a float ≥ 0.

    Examples:
        >>> a = np.zeros((100, 1)); b = np.ones((100, 1)) * 2
        >>> sliced_wasserstein_distance(a, b)
        2.0
    """
    a, b = features_2d(a), features_2d(b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"Dimensions differ: {a.shape[1]} vs {b.shape[1]}.")
    d = a.shape[1]
    if d == 1:
        directions = np.ones((1, 1))
    else:
        directions = np.random.default_rng(seed).normal(size=(num_projections, d))
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    total = 0.0
    for theta in directions:
        total += _wasserstein_1d(a @ theta, b @ theta)
    return float(total / len(directions))


def _wasserstein_1d(u: np.ndarray, v: np.ndarray) -> float:
    # W1 = ∫ |F_u⁻¹(q) − F_v⁻¹(q)| dq, exact for empirical distributions:
    # integrate the difference of the two step quantile functions.
    u, v = np.sort(u), np.sort(v)
    levels = np.union1d(np.arange(1, len(u)) / len(u), np.arange(1, len(v)) / len(v))
    edges = np.concatenate([[0.0], levels, [1.0]])
    mids = (edges[:-1] + edges[1:]) / 2
    qu = u[np.minimum((mids * len(u)).astype(int), len(u) - 1)]
    qv = v[np.minimum((mids * len(v)).astype(int), len(v) - 1)]
    return float(np.sum(np.abs(qu - qv) * np.diff(edges)))
