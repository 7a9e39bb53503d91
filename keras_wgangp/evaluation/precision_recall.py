"""Improved precision and recall (Kynkäänniemi et al. 2019, "Improved Precision and Recall
Metric for Assessing Generative Models", arXiv:1904.06991).

Each set's manifold is estimated as the union of balls around its points,
each ball's radius the distance to that point's k-th nearest neighbour in
the same set. Precision is the share of generated points inside the real
manifold (how many samples look real); recall the share of real points
inside the generated manifold (how much of the data the samples cover).
"""

from __future__ import annotations

import numpy as np

from keras_wgangp.evaluation.neighbours import ball_counts, knn_radii

__all__ = ["precision_recall"]


def precision_recall(real_features, fake_features, k: int = 3, real_radii=None) -> dict:
    """Precision and recall of generated features against real ones.

    Args:
        real_features: Array `(n, d)` of real features.
        fake_features: Array `(m, d)` of generated features.
        k: The neighbour that sets each ball's radius (3 in the paper).
        real_radii: `knn_radii(real_features, k)` when already known (a cached
            reference); computed when None.

    Returns:
        `{"precision": float, "recall": float}`, both in [0, 1].

    Examples:
        >>> real = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> precision_recall(real, real + 10.0, k=1)
        {'precision': 0.0, 'recall': 0.0}
        >>> # 3 of the 5 fakes lie in a real ball; the fake balls hold the reals 0 and 1.
        >>> precision_recall(real, np.array([[0.0], [0.5], [1.0], [9.0], [9.5]]), k=1)
        {'precision': 0.6, 'recall': 0.5}
    """
    real_radii = knn_radii(real_features, k) if real_radii is None else real_radii
    fake_radii = knn_radii(fake_features, k)
    fakes_inside, _ = ball_counts(fake_features, real_features, real_radii)
    reals_inside, _ = ball_counts(real_features, fake_features, fake_radii)
    return {"precision": float(np.mean(fakes_inside > 0)), "recall": float(np.mean(reals_inside > 0))}
