"""Sample-quality measures: FID, KID, sliced Wasserstein, mode and class coverage.

`mode_coverage` is the toy-data measure used in the GAN literature (e.g.
Srivastava et al. 2017, VEEGAN; Metz et al. 2017, Unrolled GANs): a
generated point is *high quality* when it lies within `num_std` standard
deviations of the nearest mode, and a mode is *covered* when at least
`min_fraction` of all generated points are high-quality points nearest to it.
"""

from __future__ import annotations

import os

import numpy as np

from keras_wgangp.data import swissroll_curve, toy_modes

__all__ = [
    "FeatureExtractor",
    "InceptionV3Features",
    "class_coverage",
    "classifier_features",
    "digits_classifier",
    "digits_split",
    "evaluate_samples",
    "frechet_distance",
    "frechet_inception_distance",
    "kernel_inception_distance",
    "kid",
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
    the held-out split of `digits_split`, the train-vs-test FID floor, and
    `class_coverage` at confidence 0.5.

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
    real_features, test_features = extractor(x_train), extractor(x_test)
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
