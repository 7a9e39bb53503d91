"""The paper's 2-D toy distributions: 8 Gaussians, 25 Gaussians and the Swiss roll.

They follow the reference code of Gulrajani et al. 2017 (`gan_toy.py`):
fresh samples are drawn on every call.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TOY_DATASETS", "swissroll_curve", "toy_modes", "toy_samples"]

TOY_DATASETS = ("8gaussians", "25gaussians", "swissroll")

_SCALE = {"8gaussians": 1.414, "25gaussians": 2.828, "swissroll": 7.5}
_STD = {"8gaussians": 0.02, "25gaussians": 0.05}
# The Swiss roll's parameter range (t in [1.5π, 4.5π]) and its noise per axis,
# before scaling by _SCALE["swissroll"].
_SWISSROLL_T = (1.5 * np.pi, 4.5 * np.pi)
_SWISSROLL_NOISE = 0.25


def _check_name(name: str) -> None:
    if name not in TOY_DATASETS:
        raise ValueError(f"Unknown toy dataset {name!r}; choose one of {', '.join(TOY_DATASETS)}.")


def toy_modes(name: str) -> tuple[np.ndarray, float]:
    """Returns the mode centres and the per-axis standard deviation of a toy set.

    Both are in the same (scaled) coordinates as `toy_samples`.

    Args:
        name: `"8gaussians"` or `"25gaussians"` (the Swiss roll has no
            discrete modes and raises `ValueError`).

    Returns:
        `(centres, std)`: a float32 array of shape `(num_modes, 2)` and a float.

    Examples:
        >>> centres, std = toy_modes("25gaussians")
        >>> centres.shape
        (25, 2)
    """
    _check_name(name)
    if name == "8gaussians":
        angles = np.arange(8) * (np.pi / 4)
        centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    elif name == "25gaussians":
        grid = np.arange(-2, 3) * 2.0
        centres = np.array([(x, y) for x in grid for y in grid])
    else:
        raise ValueError("'swissroll' is a continuous curve and has no discrete modes.")
    scale = _SCALE[name]
    return (centres / scale).astype("float32"), _STD[name] / scale


def swissroll_curve(num_points: int = 4000) -> tuple[np.ndarray, float]:
    """Returns points along the noise-free Swiss roll and its noise std.

    Both are in the same (scaled) coordinates as `toy_samples("swissroll", ...)`.

    Args:
        num_points: Points, evenly spaced in the curve parameter t.

    Returns:
        `(points of shape (num_points, 2), per-axis noise std)`.

    Examples:
        >>> curve, std = swissroll_curve(10)
        >>> curve.shape, round(std, 4)
        ((10, 2), 0.0333)
    """
    t = np.linspace(*_SWISSROLL_T, num_points)
    curve = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / _SCALE["swissroll"]
    return curve, _SWISSROLL_NOISE / _SCALE["swissroll"]


def toy_samples(
    name: str, num_samples: int, seed: int | None = None, return_labels: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Draws samples from one of the paper's 2-D toy distributions.

    * `"8gaussians"`: 8 centres at radius 2, 45° apart, σ = 0.02, all divided
      by 1.414.
    * `"25gaussians"`: a 5×5 grid on {−4, −2, 0, 2, 4}², σ = 0.05, divided by
      2.828.
    * `"swissroll"`: the (x, z) plane of a 3-D Swiss roll
      (t ~ 1.5π(1 + 2U), point = (t cos t, t sin t)) with Gaussian noise 0.25
      per axis, divided by 7.5.

    Args:
        name: One of `TOY_DATASETS`.
        num_samples: Number of points to draw.
        seed: Optional seed for NumPy's generator; `None` draws fresh points.
        return_labels: Also return each point's mode: the index into
            `toy_modes(name)[0]` of the Gaussian it was drawn from. The
            points are the same as without labels for the same seed. The
            Swiss roll has no discrete modes and raises `ValueError`.

    Returns:
        A float32 array of shape `(num_samples, 2)`; with `return_labels`,
        `(points, labels)` with int32 labels of shape `(num_samples,)`.

    Examples:
        >>> x = toy_samples("8gaussians", 1000, seed=0)
        >>> x.shape, x.dtype
        ((1000, 2), dtype('float32'))
        >>> x, y = toy_samples("8gaussians", 4, seed=0, return_labels=True)
        >>> y.dtype.name, bool((x == toy_samples("8gaussians", 4, seed=0)).all())
        ('int32', True)
    """
    _check_name(name)
    if num_samples < 0:
        raise ValueError(f"num_samples must be >= 0, got {num_samples}.")
    if return_labels and name == "swissroll":
        raise ValueError(
            "'swissroll' is a continuous curve with no discrete modes to use as labels; "
            "use 8gaussians or 25gaussians with return_labels=True."
        )
    rng = np.random.default_rng(seed)
    if name == "swissroll":
        low, high = _SWISSROLL_T
        t = low + (high - low) * rng.random(num_samples)
        points = np.stack([t * np.cos(t), t * np.sin(t)], axis=1)
        points += _SWISSROLL_NOISE * rng.standard_normal((num_samples, 2))
        return (points / _SCALE[name]).astype("float32")
    centres, std = toy_modes(name)
    which = rng.integers(0, len(centres), size=num_samples)
    points = (centres[which] + std * rng.standard_normal((num_samples, 2))).astype("float32")
    return (points, which.astype("int32")) if return_labels else points
