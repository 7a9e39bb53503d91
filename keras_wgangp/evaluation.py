"""Sample-quality measures: FID, KID, sliced Wasserstein, mode and class coverage.

`mode_coverage` is the toy-data measure used in the GAN literature (e.g.
Srivastava et al. 2017, VEEGAN; Metz et al. 2017, Unrolled GANs): a
generated point is *high quality* when it lies within `num_std` standard
deviations of the nearest mode, and a mode is *covered* when at least
`min_fraction` of all generated points are high-quality points nearest to it.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from keras_wgangp.data import swissroll_curve, toy_modes

__all__ = [
    "FeatureExtractor",
    "InceptionV3Features",
    "class_coverage",
    "classifier_features",
    "conditional_accuracy",
    "digits_classifier",
    "digits_split",
    "evaluate_samples",
    "frechet_distance",
    "frechet_inception_distance",
    "intra_class_fid",
    "kernel_inception_distance",
    "kid",
    "mode_classifier",
    "mode_coverage",
    "sliced_wasserstein_distance",
]


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


def digits_split(image_size: int = 16, test_fraction: float = 0.2, seed: int = 0):
    """A fixed train/test split of scikit-learn's digits, stratified by class.

    Args:
        image_size: 8, 16 or 32 (see `keras_wgangp.data.load_digits`).
        test_fraction: Share of each class held out.
        seed: Seed of the split (fixed so cached classifiers stay valid).

    Returns:
        `(x_train, y_train, x_test, y_test)`.

    Examples:

    >>> x_train, y_train, x_test, y_test = digits_split(8)
    >>> len(x_train) + len(x_test)
    1797
    """
    from keras_wgangp.data import load_digits

    images, labels = load_digits(image_size)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        test[rng.choice(members, int(round(test_fraction * len(members))), replace=False)] = True
    return images[~test], labels[~test], images[test], labels[test]


def _cache_dir() -> str:
    root = os.environ.get("KERAS_WGANGP_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "keras_wgangp"
    )
    os.makedirs(root, exist_ok=True)
    return root


def digits_classifier(image_size: int = 16, cache: bool = True, epochs: int = 40, seed: int = 0):
    """A small CNN trained on the training split of the digits (about 98 % test accuracy).

    It is trained once (about 15 s on 2 CPU cores) and cached as
    `<cache>/digits_classifier_<size>.keras`, where `<cache>` is
    `$KERAS_WGANGP_CACHE`, else `$XDG_CACHE_HOME/keras_wgangp`, else
    `~/.cache/keras_wgangp`. Its penultimate layer, named `features`, gives
    the classifier features used by the FID/KID helpers.

    Args:
        image_size: 8, 16 or 32.
        cache: Read and write the cached model.
        epochs: Training epochs when not cached.
        seed: Training seed.

    Returns:
        A `keras.Model` mapping `(n, size, size, 1)` images in [-1, 1] to class
        probabilities `(n, 10)`.

    Examples:

    >>> clf = digits_classifier(8)  # doctest: +SKIP
    >>> clf.output_shape  # doctest: +SKIP
    (None, 10)
    """
    import keras
    from keras import layers

    path = os.path.join(_cache_dir(), f"digits_classifier_{image_size}.keras") if cache else None
    if path and os.path.exists(path):
        try:
            return keras.models.load_model(path)
        except Exception:  # a stale or partial cache file: retrain below
            os.remove(path)
    x_train, y_train, _, _ = digits_split(image_size)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((image_size, image_size, 1)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(64, activation="relu", name="features"),
            layers.Dense(10, activation="softmax", name="probabilities"),
        ],
        name=f"digits_classifier_{image_size}",
    )
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=0)
    if path:
        tmp = path + ".tmp.keras"
        model.save(tmp)
        os.replace(tmp, path)  # atomic, so parallel runs never read half a file
    return model


def class_coverage(images, classifier, min_fraction: float = 0.01, min_confidence: float = 0.0) -> dict:
    """Counts the classes a classifier recognises among generated images.

    A class is covered when at least `min_fraction` of all images are
    predicted as it with probability at least `min_confidence`.

    Args:
        images: Generated images, shaped as the classifier expects.
        classifier: A Keras model returning class probabilities.
        min_fraction: Share of the images a class needs.
        min_confidence: Minimum top probability for a prediction to count.

    Returns:
        A dict with `classes_covered`, `counts` (per class, confident
        predictions only) and `mean_confidence`.

    Examples:

    >>> import keras
    >>> clf = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    >>> class_coverage(np.zeros((10, 2), "float32"), clf)["classes_covered"]
    1
    """
    probabilities = np.asarray(classifier.predict(np.asarray(images, "float32"), verbose=0, batch_size=256))
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    counts = np.bincount(predicted[confidence >= min_confidence], minlength=probabilities.shape[1])
    return {
        "classes_covered": int((counts >= min_fraction * len(images)).sum()),
        "counts": counts.tolist(),
        "mean_confidence": float(confidence.mean()),
    }


# ------------------------------------------------------------- conditional
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


def _predicted_classes(classifier, samples) -> np.ndarray:
    """Class ids `(n,)` from a Keras model or a callable (probabilities or ids)."""
    import keras

    if isinstance(classifier, keras.Model):
        out = classifier.predict(np.asarray(samples, "float32"), verbose=0, batch_size=256)
    elif callable(classifier):
        out = classifier(samples)
    else:
        raise TypeError(f"classifier must be a Keras model or a function, got {type(classifier).__name__}.")
    out = np.asarray(out)
    if out.ndim == 2 and out.shape[1] > 1:
        return out.argmax(axis=1)
    out = out[:, 0] if out.ndim == 2 else out
    if out.ndim != 1 or not _integer_valued(out):
        raise ValueError(
            "The classifier must return class probabilities (n, K) or integer class ids (n,); "
            f"got an array of shape {out.shape} and dtype {out.dtype}."
        )
    return out.astype("int64")


def _integer_valued(values: np.ndarray) -> bool:
    if np.issubdtype(values.dtype, np.integer):
        return True
    return np.issubdtype(values.dtype, np.floating) and bool(np.all(values == np.round(values)))


def _check_count(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def _num_classes(gan) -> int:
    num_classes = getattr(gan, "num_classes", None)
    if num_classes is None:
        raise ValueError(
            "This is not a conditional model (num_classes is None): per-class measures need a model "
            "built with num_classes=K whose generate() takes labels."
        )
    return int(num_classes)


def conditional_accuracy(gan, classifier, num_per_class: int = 100, seed: int = 0) -> dict:
    """The share of `gan.generate(n, labels=c)` that `classifier` assigns to class c.

    For each class c in `range(gan.num_classes)`, draws
    `gan.generate(num_per_class, labels=c, seed=seed + c)` and counts the
    samples the classifier puts in class c. A high value means the labels
    steer the generator; it says nothing about diversity within a class
    (see `intra_class_fid`).

    Args:
        gan: A conditional model: `num_classes` and
            `generate(n, labels=..., seed=...)`, e.g. a `WGANGP` built with
            `num_classes=K`.
        classifier: A Keras model returning class probabilities (or logits),
            called as `predict(x, verbose=0, batch_size=256)`; or a function
            returning probabilities `(n, K)` or integer class ids `(n,)`,
            where −1 means "none" (as `mode_classifier` does).
        num_per_class: Samples per class.
        seed: Class c draws its latents with seed `seed + c`.

    Returns:
        A dict: `overall` (the mean over classes, which equals the share of
        all samples since every class has as many), `per_class` (K floats,
        in class order) and `num_per_class`.

    Raises:
        ValueError: The model is not conditional, or the classifier's output
            has the wrong shape.
        TypeError: `classifier` is neither a Keras model nor a function.

    Examples:

    >>> class Perfect:  # a stand-in model that draws every point at its label's mode
    ...     num_classes = 8
    ...     def generate(self, n, labels=0, seed=0):
    ...         return np.repeat(toy_modes("8gaussians")[0][[labels]], n, axis=0)
    >>> conditional_accuracy(Perfect(), mode_classifier("8gaussians"), num_per_class=10)
    {'overall': 1.0, 'per_class': [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 'num_per_class': 10}
    """
    num_classes = _num_classes(gan)
    num_per_class = _check_count("num_per_class", num_per_class, 1)
    per_class = []
    for label in range(num_classes):
        samples = gan.generate(num_per_class, labels=label, seed=seed + label)
        predicted = _predicted_classes(classifier, samples)
        if len(predicted) != num_per_class:
            raise ValueError(
                f"The classifier returned {len(predicted)} predictions for {num_per_class} samples."
            )
        per_class.append(float(np.mean(predicted == label)))
    return {"overall": float(np.mean(per_class)), "per_class": per_class, "num_per_class": num_per_class}


def intra_class_fid(
    gan,
    real_images,
    real_labels,
    extractor: FeatureExtractor | Callable,
    num_per_class: int | None = None,
    seed: int = 0,
) -> dict:
    """The mean over classes of the FID between generated and real examples of each class.

    Class c compares `gan.generate(n_c, labels=c, seed=seed + c)` with the
    real examples labelled c, both through `extractor`. Unlike the FID of
    all samples, this also sees a model that draws the right variety of
    images but for the wrong labels.

    With few real examples per class (the digits' held-out split of
    `digits_split` has about 36 per class, in a 64-d feature space) each
    class's FID has a large small-sample bias: it stays well above 0 even
    for a perfect model, and it shrinks as the counts grow. Compare models
    only at the same counts. `real_halves_fid` shows the size of that bias:
    the same measure between two random halves of each class's real
    examples. Being at half the count, its bias is larger than that of a
    perfect model at the full count, so it is not a floor to beat: on the
    digits' held-out split at 16 × 16 it is about 6, while real training
    digits in place of generated ones score about 2.4.

    Args:
        gan: A conditional model: `num_classes` and
            `generate(n, labels=..., seed=...)`.
        real_images: Real examples, shaped as the model's samples.
        real_labels: Their int class ids in [0, K); every class needs at
            least 4 examples (2 in each half for `real_halves_fid`).
        extractor: A `FeatureExtractor` (e.g. `classifier_features("digits",
            16)`) or any function from examples to features `(n, d)`.
        num_per_class: Generated examples per class; None means as many as
            the real examples of that class.
        seed: Class c draws its latents with seed `seed + c`; the halves
            for `real_halves_fid` are drawn with `seed` too.

    Returns:
        A dict: `intra_class_fid` (the mean over classes), `per_class` (K
        floats), `real_halves_fid` (the mean over classes of the FID
        between halves of the real examples), `real_halves_fid_per_class`
        and `num_real_per_class` (K ints).

    Raises:
        ValueError: The model is not conditional, the labels do not match
            the examples or lie outside [0, K), or a class has fewer than 4
            real examples.

    Examples:

    >>> x = np.random.default_rng(0).normal(size=(80, 2))
    >>> y = np.repeat([0, 1], 40)
    >>> class Replay:  # a stand-in model that returns the real examples of each class
    ...     num_classes = 2
    ...     def generate(self, n, labels=0, seed=0):
    ...         return x[y == labels][:n]
    >>> result = intra_class_fid(Replay(), x, y, extractor=lambda examples: examples)
    >>> round(result["intra_class_fid"], 6), result["real_halves_fid"] > 0
    (0.0, True)
    """
    num_classes = _num_classes(gan)
    real_images = np.asarray(real_images, "float32")
    real_labels = np.asarray(real_labels).reshape(-1)
    if len(real_images) != len(real_labels):
        raise ValueError(f"Got {len(real_images)} real examples but {len(real_labels)} labels.")
    if not _integer_valued(real_labels):
        raise ValueError("real_labels must be integer class ids.")
    real_labels = real_labels.astype("int64")
    outside = real_labels[(real_labels < 0) | (real_labels >= num_classes)]
    if len(outside):
        raise ValueError(f"real_labels must lie in [0, {num_classes}); found {int(outside[0])}.")
    if num_per_class is not None:
        num_per_class = _check_count("num_per_class", num_per_class, 2)
    counts = np.bincount(real_labels, minlength=num_classes)
    if counts.min() < 4:
        label = int(counts.argmin())
        raise ValueError(
            f"Class {label} has {counts[label]} real examples; intra_class_fid needs at least 4 per class. "
            "Pass more real examples of it."
        )
    rng = np.random.default_rng(seed)
    per_class, halves = [], []
    for label in range(num_classes):
        real_features = np.asarray(extractor(real_images[real_labels == label]), "float64")
        fake = gan.generate(num_per_class or int(counts[label]), labels=label, seed=seed + label)
        per_class.append(frechet_distance(extractor(fake), real_features))
        # Random halves: the stored order may follow something (time, source) the halves should not.
        order = rng.permutation(len(real_features))
        half = len(order) // 2
        halves.append(frechet_distance(real_features[order[:half]], real_features[order[half:]]))
    return {
        "intra_class_fid": float(np.mean(per_class)),
        "per_class": per_class,
        "real_halves_fid": float(np.mean(halves)),
        "real_halves_fid_per_class": halves,
        "num_real_per_class": counts.tolist(),
    }


# ----------------------------------------------------------------- distances
def frechet_distance(features_a, features_b, eps: float = 1e-6) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (FID).

    FID (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule",
    arXiv:1706.08500): ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^½).

    Numerical robustness, as in the reference implementation: when the
    matrix square root is singular or not finite, `eps`·I is added to both
    covariances before retrying; a tiny imaginary part left by `sqrtm` from
    rounding is dropped (a large one raises `ValueError`).

    Args:
        features_a: Array `(n_a, d)`.
        features_b: Array `(n_b, d)`.
        eps: Diagonal offset used only when the plain square root fails.

    Returns:
        The distance, a float ≥ 0 (up to rounding).

    Examples:

    >>> x = np.random.default_rng(0).normal(size=(500, 4))
    >>> round(frechet_distance(x, x), 6)
    0.0
    """
    from scipy import linalg

    a, b = _features_2d(features_a), _features_2d(features_b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"Feature sizes differ: {a.shape[1]} vs {b.shape[1]}.")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    sigma_a = np.atleast_2d(np.cov(a, rowvar=False))
    sigma_b = np.atleast_2d(np.cov(b, rowvar=False))
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
    a, b = _features_2d(features_a), _features_2d(features_b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"Feature sizes differ: {a.shape[1]} vs {b.shape[1]}.")
    gamma = 1.0 / a.shape[1] if gamma is None else gamma
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError("KID needs at least 2 rows in each feature set.")
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
    a, b = _features_2d(a), _features_2d(b)
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


def _features_2d(x) -> np.ndarray:
    x = np.asarray(x, dtype="float64")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"Expected a non-empty (n, d) array, got shape {x.shape}.")
    return x


# ---------------------------------------------------------- feature extractors
class FeatureExtractor:
    """Maps images to feature vectors in bounded-memory batches.

    Wraps any Keras model (or a callable on batches). Subclasses override
    `preprocess` to adapt images to the model (resizing, channels).

    Args:
        model: A Keras model or callable returning features `(n, d)`.
        batch_size: Images per forward pass.
        name: A label for reports.

    Examples:

    >>> import keras
    >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten()])
    >>> FeatureExtractor(model)(np.zeros((10, 4, 4, 1))).shape
    (10, 16)
    """

    def __init__(self, model, batch_size: int = 256, name: str = "features"):
        self.model = model
        self.batch_size = batch_size
        self.name = name

    def preprocess(self, images):
        return images

    def __call__(self, images) -> np.ndarray:
        import keras

        images = np.asarray(images, "float32")
        chunks = []
        for start in range(0, len(images), self.batch_size):
            batch = self.preprocess(images[start : start + self.batch_size])
            out = (
                self.model(batch, training=False)
                if isinstance(self.model, keras.Model)
                else self.model(batch)
            )
            chunks.append(np.asarray(keras.ops.convert_to_numpy(out)).reshape(len(batch), -1))
        return np.concatenate(chunks).astype("float64")


class InceptionV3Features(FeatureExtractor):
    """InceptionV3 pool features (2048-d), the FID/KID standard.

    Images in `value_range` are resized to 299×299 (bilinear), grayscale is
    repeated to RGB, and pixels are scaled to InceptionV3's [-1, 1].

    Args:
        weights: `"imagenet"` (Keras's download, cached in `~/.keras/models`),
            a local `.h5`/`.weights.h5` file path, or `None` (random, for tests).
        value_range: Pixel range of the input images.
        batch_size: Images per forward pass (memory bound).

    Examples:

    >>> extractor = InceptionV3Features(weights=None, batch_size=2)  # doctest: +SKIP
    >>> extractor(np.zeros((2, 28, 28, 1))).shape  # doctest: +SKIP
    (2, 2048)
    """

    HINT = (
        "InceptionV3 ImageNet weights are needed for FID/KID. With internet, Keras downloads "
        "them once to ~/.keras/models/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5. "
        "Offline, copy that file there (or anywhere) and pass its path as weights='/path/to/file.h5'."
    )

    def __init__(self, weights="imagenet", value_range=(-1.0, 1.0), batch_size: int = 64):
        import keras

        if isinstance(weights, str) and weights != "imagenet" and not os.path.exists(weights):
            raise FileNotFoundError(f"InceptionV3 weights file {weights!r} does not exist. {self.HINT}")
        try:
            model = keras.applications.InceptionV3(
                include_top=False,
                pooling="avg",
                input_shape=(299, 299, 3),
                weights="imagenet" if weights == "imagenet" else None,
            )
        except Exception as error:  # no network, blocked download, corrupt cache
            raise RuntimeError(
                f"Could not obtain InceptionV3 ImageNet weights ({error}). {self.HINT}"
            ) from error
        if weights not in ("imagenet", None):
            model.load_weights(weights)
        super().__init__(model, batch_size=batch_size, name="inception_v3")
        self.value_range = value_range

    def preprocess(self, images):
        import tensorflow as tf

        low, high = self.value_range
        images = (np.asarray(images, "float32") - low) / (high - low) * 2.0 - 1.0
        if images.shape[-1] == 1:
            images = np.repeat(images, 3, axis=-1)
        return tf.image.resize(images, (299, 299), method="bilinear")


def classifier_features(dataset: str = "digits", image_size: int = 16) -> FeatureExtractor:
    """Features from a small classifier trained in-package on real digits.

    Uses the `features` layer (64-d) of `digits_classifier(image_size)`,
    which is trained once on the digits' training split and cached. This is
    the offline stand-in for InceptionV3 on digit-like data.

    Args:
        dataset: `"digits"` (MNIST-sized digits: pass `image_size=28`... only
            8, 16 and 32 are available from the offline digits).
        image_size: 8, 16 or 32.

    Returns:
        A `FeatureExtractor`.

    Examples:

    >>> extractor = classifier_features("digits", 8)  # doctest: +SKIP
    """
    import keras

    if dataset not in ("digits",):
        raise ValueError(f"classifier_features supports 'digits', got {dataset!r}.")
    classifier = digits_classifier(image_size)
    model = keras.Model(classifier.inputs[0], classifier.get_layer("features").output)
    return FeatureExtractor(model, name=f"{dataset}_classifier_{image_size}")


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


def evaluate_samples(samples, dataset: str, seed: int = 0) -> dict:
    """The metrics `keras-wgangp evaluate` prints, for generated samples.

    Toy datasets: `mode_coverage` plus the sliced Wasserstein distance to
    fresh real samples, and the same distance between two real sets of the
    same size (the floor). Digits: classifier-feature FID and KID against
    the held-out split of `digits_split`, the floor (the FID of as many
    real training digits as samples, up to all 1,437, against the same
    split), and `class_coverage` at confidence 0.5.

    Args:
        samples: Generated samples: `(n, 2)` points or `(n, side, side, 1)`
            digit images with side 8, 16 or 32.
        dataset: A toy dataset name or `"digits"`.
        seed: Seed of the real reference samples (toys).

    Returns:
        A dict of metric name to value.

    Examples:

    >>> import keras_wgangp as kw
    >>> result = evaluate_samples(kw.data.toy_samples("8gaussians", 500, seed=3), "8gaussians")
    >>> result["modes_covered"], result["num_modes"]
    (8, 8)
    """
    from keras_wgangp import data

    if dataset in data.TOY_DATASETS:
        if samples.ndim != 2 or samples.shape[1] != 2:
            raise ValueError(f"{dataset} needs 2-D samples, the model makes shape {samples.shape[1:]}")
        result = mode_coverage(samples, dataset)
        real = data.toy_samples(dataset, len(samples), seed=seed + 1)
        result["sliced_wasserstein"] = sliced_wasserstein_distance(samples, real)
        result["sliced_wasserstein_real_vs_real"] = sliced_wasserstein_distance(
            data.toy_samples(dataset, len(samples), seed=seed + 2), real
        )
        return result
    size = samples.shape[1]
    if samples.ndim != 4 or samples.shape[1:] != (size, size, 1) or size not in (8, 16, 32):
        raise ValueError(f"digits needs (8|16|32, same, 1) images, the model makes shape {samples.shape[1:]}")
    extractor = classifier_features("digits", size)
    x_train, _, x_test, _ = digits_split(size)
    # The floor under the same protocol: as many real training digits as
    # there are samples (FID's small-sample bias depends on the count).
    count = min(len(samples), len(x_train))
    floor_set = x_train[np.random.default_rng(seed).choice(len(x_train), count, replace=False)]
    real_features, test_features = extractor(floor_set), extractor(x_test)
    fake_features = extractor(samples)
    kid_mean, kid_std = kernel_inception_distance(fake_features, test_features, subset_size=300)
    coverage = class_coverage(samples, digits_classifier(size), min_confidence=0.5)
    return {
        "fid": frechet_distance(fake_features, test_features),
        "fid_real_train_vs_test": frechet_distance(real_features, test_features),
        "kid": kid_mean,
        "kid_std": kid_std,
        "classes_covered": coverage["classes_covered"],
        "class_counts": coverage["counts"],
        "num_samples": int(len(samples)),
        "feature_space": "digits classifier (64-d)",
        "mean_sample_value": float(np.mean(samples)),
    }
