"""Density and coverage (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for
Generative Models", arXiv:2002.09797).

Both use only balls around the *real* points (radius: the k-th nearest real
neighbour), which makes them robust to outlying generated samples:

    density  = 1/(k·M) Σ_j Σ_i 1[f_j ∈ B(r_i, NND_k(r_i))]
    coverage = 1/N Σ_i 1[∃ j: f_j ∈ B(r_i, NND_k(r_i))]

for N real points r_i and M generated points f_j. Density can exceed 1
(generated points crowd where the real ones are dense); coverage is in [0, 1].
"""

from __future__ import annotations

import numpy as np

from keras_wgangp.evaluation.neighbours import ball_counts, knn_radii

__all__ = ["density_coverage"]


def density_coverage(real_features, fake_features, k: int = 5, real_radii=None) -> dict:
    """Density and coverage of generated features against real ones.

    Args:
        real_features: Array `(N, d)` of real features.
        fake_features: Array `(M, d)` of generated features.
        k: The real neighbour that sets each ball's radius (5 in the paper).
        real_radii: `knn_radii(real_features, k)` when already known (a cached
            reference); computed when None.

    Returns:
        `{"density": float, "coverage": float}`.

    Examples:
        >>> real = np.array([[0.0], [1.0], [2.0], [3.0]])
        >>> # The balls of 0 and 1 (radius 1) hold 2 fakes each; those of 2 and 3 none.
        >>> result = density_coverage(real, np.array([[0.0], [0.5], [9.0]]), k=1)
        >>> round(result["density"], 6), result["coverage"]
        (1.333333, 0.5)
    """
    radii = knn_radii(real_features, k) if real_radii is None else real_radii
    _, per_ball = ball_counts(fake_features, real_features, radii)
    m = len(np.asarray(fake_features))
    return {"density": float(per_ball.sum() / (k * m)), "coverage": float(np.mean(per_ball > 0))}
