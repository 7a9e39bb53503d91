"""Reference statistics: a feature set's mean and covariance, computed once and saved.

FID compares Gaussians fitted to two feature sets; the real set's Gaussian
never changes, so it can be computed once, saved to a `.npz` and reused
(what clean-fid and the StyleGAN metrics do with their dataset statistics).
`frechet_distance` accepts a `FeatureStatistics` in place of either set.
"""

from __future__ import annotations

import os

import numpy as np

from keras_wgangp.evaluation._common import features_2d

__all__ = ["FeatureStatistics", "feature_statistics", "load_statistics"]


class FeatureStatistics:
    """The mean `(d,)`, covariance `(d, d)` and count of a feature set.

    Args:
        mean: The mean feature.
        covariance: The (unbiased) covariance.
        count: How many features they came from.

    Examples:
        >>> stats = FeatureStatistics(np.zeros(2), np.eye(2), 10)
        >>> stats.mean.shape, stats.count
        ((2,), 10)
    """

    def __init__(self, mean, covariance, count: int):
        self.mean = np.asarray(mean, "float64").reshape(-1)
        self.covariance = np.atleast_2d(np.asarray(covariance, "float64"))
        self.count = int(count)
        if self.covariance.shape != (len(self.mean), len(self.mean)):
            raise ValueError(
                f"covariance must be ({len(self.mean)}, {len(self.mean)}), got {self.covariance.shape}."
            )

    def save(self, path: str) -> str:
        """Writes the statistics to a `.npz` file (atomically) and returns its path.

        Args:
            path: The file; `.npz` is appended when missing.

        Returns:
            The path written.

        Examples:
            >>> import tempfile
            >>> stats = FeatureStatistics(np.zeros(2), np.eye(2), 10)
            >>> path = stats.save(os.path.join(tempfile.mkdtemp(), "real"))
            >>> load_statistics(path).count
            10
        """
        path = os.fspath(path)
        path = path if path.endswith(".npz") else path + ".npz"
        tmp = f"{path}.{os.getpid()}.tmp.npz"  # one per process: parallel writers never share one
        np.savez(tmp, mean=self.mean, covariance=self.covariance, count=self.count)
        os.replace(tmp, path)
        return path


def feature_statistics(images, extractor=None) -> FeatureStatistics:
    """The `FeatureStatistics` of images through `extractor`, or of features as given.

    Args:
        images: Images (with `extractor`) or features `(n, d)` (without).
        extractor: A `FeatureExtractor` or function from images to features.

    Returns:
        A `FeatureStatistics`.

    Examples:
        >>> stats = feature_statistics(np.array([[0.0, 1.0], [2.0, 3.0]]))
        >>> stats.mean.tolist(), stats.covariance.tolist()
        ([1.0, 2.0], [[2.0, 2.0], [2.0, 2.0]])
    """
    features = features_2d(images if extractor is None else extractor(images))
    if len(features) < 2:
        raise ValueError("feature_statistics needs at least 2 examples for a covariance.")
    return FeatureStatistics(features.mean(axis=0), np.cov(features, rowvar=False), len(features))


def load_statistics(path: str) -> FeatureStatistics:
    """Reads `FeatureStatistics` written by `FeatureStatistics.save`.

    Args:
        path: The `.npz` file.

    Returns:
        A `FeatureStatistics`.

    Examples:
        >>> import tempfile
        >>> path = FeatureStatistics(np.ones(3), np.eye(3), 5).save(os.path.join(tempfile.mkdtemp(), "s.npz"))
        >>> load_statistics(path).mean.tolist()
        [1.0, 1.0, 1.0]
    """
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as data:  # a file from elsewhere never runs code
            return FeatureStatistics(data["mean"], data["covariance"], int(data["count"]))
    except (OSError, KeyError, ValueError) as error:
        raise ValueError(
            f"{path!r} is not a statistics file written by FeatureStatistics.save: {error}"
        ) from error
