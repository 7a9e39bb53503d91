"""Measures on the 2-D toy distributions: mode coverage and a per-point mode classifier.

`mode_coverage` is the toy-data measure of the GAN literature (e.g.
Srivastava et al. 2017, VEEGAN; Metz et al. 2017, Unrolled GANs): a
generated point is *high quality* when it lies within `num_std` standard
deviations of the nearest mode, and a mode is *covered* when at least
`min_fraction` of all generated points are high-quality points nearest to it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from keras_wgangp.data import swissroll_curve, toy_modes

__all__ = ["mode_classifier", "mode_coverage"]


def mode_coverage(
    samples,
    dataset: str = "25gaussians",
    num_std: float = 3.0,
    min_fraction: float = 0.01,
) -> dict:
    """Counts the modes of a toy mixture that generated samples cover.

    Args:
        samples: Array of shape `(n, 2)` in the coordinates of `toy_samples`.
        dataset: `"8gaussians"`, `"25gaussians"` or `"swissroll"` (whose
            20 "modes" are equal stretches of the curve; σ is its noise).
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
    if dataset == "swissroll":
        # The roll is a curve, not a mixture: "modes" are 20 equal stretches of
        # the noise-free curve, and σ is its noise.
        centres, std = swissroll_curve(4000)
        segment = np.minimum((np.arange(len(centres)) * 20) // len(centres), 19)
    else:
        centres, std = toy_modes(dataset)
        segment = np.arange(len(centres))
    distances = np.sqrt(((samples[:, None, :] - centres[None, :, :]) ** 2).sum(-1))
    nearest = segment[distances.argmin(axis=1)]
    nearest_distance = distances.min(axis=1)
    centres = np.unique(segment)
    high_quality = nearest_distance <= num_std * std
    counts = np.bincount(nearest[high_quality], minlength=len(centres))
    return {
        "modes_covered": int((counts >= min_fraction * len(samples)).sum()),
        "num_modes": int(len(centres)),
        "high_quality_fraction": float(high_quality.mean()),
        "mean_distance": float(nearest_distance.mean()),
    }


def mode_classifier(dataset: str, num_std: float = 3.0) -> Callable[[np.ndarray], np.ndarray]:
    """A classifier of 2-D points for a Gaussian-mixture toy set: the mode id.

    A point gets the index of its nearest mode (into `data.toy_modes`) when
    it lies within `num_std` per-axis standard deviations of it, the
    high-quality test of `mode_coverage`; otherwise it gets −1 ("no mode").
    With `conditional_accuracy`, this gives the share of label-c samples
    within 3σ of mode c.

    Args:
        dataset: `"8gaussians"` or `"25gaussians"` (the Swiss roll has no
            discrete modes and raises `ValueError`).
        num_std: The radius, in standard deviations (> 0).

    Returns:
        A function mapping points `(n, 2)` to int32 mode ids `(n,)`.

    Examples:
        >>> centres, _ = toy_modes("8gaussians")
        >>> classify = mode_classifier("8gaussians")
        >>> classify(np.concatenate([centres[[3, 5]], [[0.0, 0.0]]])).tolist()
        [3, 5, -1]
    """
    centres, std = toy_modes(dataset)
    if not num_std > 0:
        raise ValueError(f"num_std must be > 0, got {num_std!r}.")
    radius = num_std * std

    def classify(points) -> np.ndarray:
        # float64 like mode_coverage, so both draw the 3σ boundary identically.
        points = np.asarray(points, dtype="float64")
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(
                f"mode_classifier({dataset!r}) needs 2-D points of shape (n, 2), got {points.shape}."
            )
        distances = np.sqrt(((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1))
        nearest = distances.argmin(axis=1) if len(points) else np.zeros(0, "int64")
        within = distances.min(axis=1, initial=np.inf) <= radius
        return np.where(within, nearest, -1).astype("int32")

    return classify
