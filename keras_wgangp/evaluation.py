"""Sample-quality measures.

`mode_coverage` is the toy-data measure used in the GAN literature (e.g.
Srivastava et al. 2017, VEEGAN; Metz et al. 2017, Unrolled GANs): a
generated point is *high quality* when it lies within `num_std` standard
deviations of the nearest mode, and a mode is *covered* when at least
`min_fraction` of all generated points are high-quality points nearest to it.
"""

from __future__ import annotations

import numpy as np

from keras_wgangp.data import toy_modes

__all__ = ["mode_coverage"]


def mode_coverage(
    samples,
    dataset: str = "25gaussians",
    num_std: float = 3.0,
    min_fraction: float = 0.01,
) -> dict:
    """Counts the modes of a toy mixture that generated samples cover.

    Args:
        samples: Array of shape `(n, 2)` in the coordinates of `toy_samples`.
        dataset: `"8gaussians"` or `"25gaussians"`.
        num_std: Radius, in per-axis standard deviations, within which a
            sample counts as high quality (3 in the literature).
        min_fraction: Share of all samples a mode needs (as high-quality
            nearest neighbours) to count as covered.

    Returns:
        A dict with `modes_covered` (int), `num_modes` (int),
        `high_quality_fraction` (float in [0, 1]) and
        `mean_distance` (mean distance to the nearest mode).

    Examples:

    >>> from keras_wgangp.data import toy_samples
    >>> mode_coverage(toy_samples("8gaussians", 2000, seed=0), "8gaussians")["modes_covered"]
    8
    """
    samples = np.asarray(samples, dtype="float64")
    if samples.ndim != 2 or samples.shape[1] != 2:
        raise ValueError(f"mode_coverage needs 2-D points of shape (n, 2), got {samples.shape}.")
    if len(samples) == 0:
        raise ValueError("mode_coverage needs at least one sample.")
    centres, std = toy_modes(dataset)
    distances = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=-1)
    nearest = distances.argmin(axis=1)
    nearest_distance = distances.min(axis=1)
    high_quality = nearest_distance <= num_std * std
    counts = np.bincount(nearest[high_quality], minlength=len(centres))
    return {
        "modes_covered": int((counts >= min_fraction * len(samples)).sum()),
        "num_modes": int(len(centres)),
        "high_quality_fraction": float(high_quality.mean()),
        "mean_distance": float(nearest_distance.mean()),
    }
