"""k-nearest-neighbour balls, the building block of precision/recall and density/coverage.

A set's manifold estimate (Kynkäänniemi et al. 2019) is the union of balls
centred on its points, each with the radius of that point's k-th nearest
neighbour in the same set. Distances are computed by scikit-learn in
bounded-memory chunks, so thousands of features never need an n×n matrix
in memory at once.
"""

from __future__ import annotations

import numpy as np

from keras_wgangp.evaluation._common import features_2d

__all__ = ["ball_counts", "knn_radii"]

# scikit-learn's chunk size for the distance rows, in MiB.
WORKING_MEMORY_MB = 256


def knn_radii(features, k: int) -> np.ndarray:
    """The distance from each point to its k-th nearest other point of the same set.

    Args:
        features: Array `(n, d)`.
        k: Which neighbour (1 = the nearest other point); `k < n`.

    Returns:
        float64 radii `(n,)`.

    Examples:
        >>> knn_radii(np.array([[0.0], [1.0], [3.0]]), k=1).tolist()
        [1.0, 1.0, 2.0]
    """
    from sklearn.neighbors import NearestNeighbors

    x = features_2d(features)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}.")
    if k >= len(x):
        raise ValueError(
            f"k={k} needs more than {k} points to have a k-th nearest neighbour, but the set has "
            f"{len(x)}; use more samples or a smaller k."
        )
    # k + 1 neighbours: the nearest "neighbour" of a point is the point itself.
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    return distances[:, k]


def ball_counts(queries, centres, radii) -> tuple[np.ndarray, np.ndarray]:
    """How many balls hold each query, and how many queries each ball holds.

    A query q is inside the ball of centre c_i when ‖q − c_i‖ ≤ r_i. The
    chunked distances use ‖q‖² + ‖c‖² − 2q·c, which is off by rounding in
    its last digits; each boundary gets a slack of 1e-6 × the largest point
    norm, so that a point exactly on it (a set compared with itself) counts.

    Args:
        queries: Array `(m, d)`.
        centres: Array `(n, d)`.
        radii: Array `(n,)`.

    Returns:
        `(per_query, per_ball)`: int arrays `(m,)` and `(n,)`.

    Examples:
        >>> centres, radii = np.array([[0.0], [1.0]]), np.array([1.0, 0.5])
        >>> per_query, per_ball = ball_counts(np.array([[0.5], [5.0]]), centres, radii)
        >>> per_query.tolist(), per_ball.tolist()
        ([2, 0], [1, 1])
    """
    from sklearn.metrics import pairwise_distances_chunked

    queries, centres = features_2d(queries), features_2d(centres)
    radii = np.asarray(radii, "float64")
    if queries.shape[1] != centres.shape[1]:
        raise ValueError(f"Feature sizes differ: {queries.shape[1]} vs {centres.shape[1]}.")
    if radii.shape != (len(centres),):
        raise ValueError(f"radii must have one value per centre, {len(centres)}; got shape {radii.shape}.")
    per_query = np.zeros(len(queries), "int64")
    per_ball = np.zeros(len(centres), "int64")
    scale = max(np.linalg.norm(queries, axis=1).max(), np.linalg.norm(centres, axis=1).max(), 1.0)
    bounds = radii[None, :] + 1e-6 * scale
    start = 0
    for chunk in pairwise_distances_chunked(queries, centres, working_memory=WORKING_MEMORY_MB):
        inside = chunk <= bounds
        per_query[start : start + len(chunk)] = inside.sum(axis=1)
        per_ball += inside.sum(axis=0)
        start += len(chunk)
    return per_query, per_ball
