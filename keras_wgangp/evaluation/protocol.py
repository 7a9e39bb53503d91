"""The evaluation protocol: which measures, against which reference, for each dataset.

`evaluate` is the one entry point of `keras-wgangp evaluate`, of the
summary that `keras-wgangp train` writes, and of the library: it draws
samples from a model (a `GAN`, or a sampler over a `.keras` file or a
SavedModel from `keras_wgangp.saving.load_sampler`) and measures them with
`evaluate_samples`, plus the conditional measures for a conditional model.
"""

from __future__ import annotations

import numpy as np

from keras_wgangp import data
from keras_wgangp.evaluation.class_coverage import class_coverage
from keras_wgangp.evaluation.conditional import conditional_accuracy, intra_class_fid
from keras_wgangp.evaluation.density_coverage import density_coverage
from keras_wgangp.evaluation.digits import digits_classifier
from keras_wgangp.evaluation.features import classifier_features
from keras_wgangp.evaluation.frechet import frechet_distance
from keras_wgangp.evaluation.kid import kernel_inception_distance
from keras_wgangp.evaluation.precision_recall import precision_recall
from keras_wgangp.evaluation.sliced_wasserstein import sliced_wasserstein_distance
from keras_wgangp.evaluation.stacked import STACKED_SAMPLES, stacked_features, stacked_mode_coverage
from keras_wgangp.evaluation.toys import mode_classifier, mode_coverage

__all__ = ["CLASS_CONFIDENCE", "DATASETS", "DEFAULT_SAMPLES", "evaluate", "evaluate_samples"]

DATASETS = data.TOY_DATASETS + ("digits", "stacked_digits")
# A digit counts towards its class only when the classifier is this sure of it.
CLASS_CONFIDENCE = 0.9
# The samples `evaluate` draws by default: Stacked MNIST's papers count modes in 26,000.
DEFAULT_SAMPLES = {"stacked_digits": STACKED_SAMPLES}
# Precision/recall and density/coverage compare at most this many of each set
# (k-NN over all 26,000 stacked samples would cost minutes for little change).
NEIGHBOUR_SAMPLES = 10_000
STACKED_REFERENCE = 10_000  # stacked test images, the FID and precision/recall reference


def _neighbour_measures(real, fake, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    real = real[rng.permutation(len(real))[:NEIGHBOUR_SAMPLES]]
    fake = fake[rng.permutation(len(fake))[:NEIGHBOUR_SAMPLES]]
    return {**precision_recall(real, fake), **density_coverage(real, fake)}


def _toy_measures(samples, dataset: str, seed: int) -> dict:
    if samples.ndim != 2 or samples.shape[1] != 2:
        raise ValueError(f"{dataset} needs 2-D samples, the model makes shape {samples.shape[1:]}")
    result = mode_coverage(samples, dataset)
    real = data.toy_samples(dataset, len(samples), seed=seed + 1)
    result["sliced_wasserstein"] = sliced_wasserstein_distance(samples, real)
    result["sliced_wasserstein_real_vs_real"] = sliced_wasserstein_distance(
        data.toy_samples(dataset, len(samples), seed=seed + 2), real
    )
    return result


def _image_side(samples, channels: int, dataset: str) -> int:
    size = samples.shape[1] if samples.ndim == 4 else None
    if samples.ndim != 4 or samples.shape[1:] != (size, size, channels) or size not in data.DIGITS_SIZES:
        raise ValueError(
            f"{dataset} needs (8|16|32, same, {channels}) images, the model makes shape {samples.shape[1:]}"
        )
    return size


def _digits_measures(samples, seed: int) -> dict:
    size = _image_side(samples, 1, "digits")
    extractor = classifier_features("digits", size)
    x_train, _, x_test, _ = data.digits_split(size)
    # The floor under the same protocol: as many real training digits as
    # there are samples (FID's small-sample bias depends on the count).
    count = min(len(samples), len(x_train))
    floor_set = x_train[np.random.default_rng(seed).choice(len(x_train), count, replace=False)]
    real_features, test_features = extractor(floor_set), extractor(x_test)
    fake_features = extractor(samples)
    kid_mean, kid_std = kernel_inception_distance(fake_features, test_features, subset_size=300)
    coverage = class_coverage(samples, digits_classifier(size), min_confidence=CLASS_CONFIDENCE)
    return {
        "fid": frechet_distance(fake_features, test_features),
        "fid_real_train_vs_test": frechet_distance(real_features, test_features),
        "kid": kid_mean,
        "kid_std": kid_std,
        **_neighbour_measures(test_features, fake_features, seed),
        "classes_covered": coverage["classes_covered"],
        "class_counts": coverage["counts"],
        "mean_confidence": coverage["mean_confidence"],
        "num_samples": int(len(samples)),
        "feature_space": "digits classifier (64-d)",
        "mean_sample_value": float(np.mean(samples)),
    }


def _stacked_measures(samples, seed: int) -> dict:
    size = _image_side(samples, 3, "stacked_digits")
    extractor = stacked_features(size)
    reference, _ = data.stacked_digits(STACKED_REFERENCE, size, seed=seed, split="test")
    floor_set, _ = data.stacked_digits(min(len(samples), STACKED_REFERENCE), size, seed=seed + 1)
    test_features, fake_features = extractor(reference), extractor(samples)
    return {
        **stacked_mode_coverage(samples),
        "fid": frechet_distance(fake_features, test_features),
        "fid_real_train_vs_test": frechet_distance(extractor(floor_set), test_features),
        **_neighbour_measures(test_features, fake_features, seed),
        "feature_space": "digits classifier per channel (192-d)",
    }


def evaluate_samples(samples, dataset: str, seed: int = 0) -> dict:
    """The unconditional measures of generated samples against a dataset.

    * Toys: `mode_coverage` plus the sliced Wasserstein distance to fresh
      real samples, and the same distance between two real sets of the same
      size (the floor).
    * `digits`: classifier-feature FID and KID against the held-out split of
      `digits_split`, the floor (the FID of as many real training digits as
      samples, up to all 1,437, against the same split), precision/recall
      (k = 3) and density/coverage (k = 5) against the held-out digits, and
      `class_coverage` at confidence `CLASS_CONFIDENCE` (0.9).
    * `stacked_digits`: `stacked_mode_coverage` (modes and KL), and FID,
      its floor, precision/recall and density/coverage in the per-channel
      classifier features, against 10,000 stacked test images.

    Precision/recall and density/coverage use at most 10,000 of each set.

    Args:
        samples: Generated samples: `(n, 2)` points, `(n, s, s, 1)` digits
            or `(n, s, s, 3)` stacked digits, s in 8, 16, 32.
        dataset: A toy dataset name, `"digits"` or `"stacked_digits"`.
        seed: Seed of the real reference samples.

    Returns:
        A dict of metric name to value.

    Examples:
        >>> import keras_wgangp as kw
        >>> result = evaluate_samples(kw.data.toy_samples("8gaussians", 500, seed=3), "8gaussians")
        >>> result["modes_covered"], result["num_modes"]
        (8, 8)
    """
    samples = np.asarray(samples)
    if dataset not in DATASETS:
        raise ValueError(f"Unknown evaluation dataset {dataset!r}; choose one of {', '.join(DATASETS)}.")
    if dataset in data.TOY_DATASETS:
        return _toy_measures(samples, dataset, seed)
    if dataset == "digits":
        return _digits_measures(samples, seed)
    return _stacked_measures(samples, seed)


def evaluate(model, dataset: str, num_samples: int | None = None, seed: int = 0) -> dict:
    """Samples a model and measures the samples; conditional models also get the per-class measures.

    A conditional model is sampled class by class (class c from seed
    `seed + c`, the classes sharing `num_samples` evenly) and gets
    `conditional_accuracy` (toys: the share within 3σ of the label's own
    mode; digits: the digits classifier's agreement with the label) with
    `num_samples // K` samples per class, and on digits the
    `intra_class_fid` against the held-out split.

    Args:
        model: Anything with `num_classes` and `generate(n, seed=, labels=)`:
            a `GAN`, or a sampler from `keras_wgangp.saving.load_sampler`.
        dataset: A toy dataset name or `"digits"`.
        num_samples: Samples to measure (at least 2); None: 26,000 for
            `stacked_digits`, 2,000 for the others.
        seed: Seed of the samples and of the real reference samples.

    Returns:
        `evaluate_samples`'s dict, plus `conditional_accuracy`,
        `conditional_accuracy_per_class` and (digits) `intra_class_fid` for
        conditional models.

    Examples:
        >>> import keras_wgangp as kw
        >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8))
        >>> sorted(evaluate(gan, "8gaussians", num_samples=100))[:3]
        ['high_quality_fraction', 'mean_distance', 'modes_covered']
    """
    num_samples = DEFAULT_SAMPLES.get(dataset, 2000) if num_samples is None else num_samples
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 2:
        raise ValueError(f"num_samples must be an integer >= 2, got {num_samples!r}.")
    k = getattr(model, "num_classes", None)
    if k is None:
        samples = model.generate(int(num_samples), seed=seed)
    else:
        counts = np.bincount(np.arange(num_samples) % k, minlength=k)
        samples = np.concatenate(
            [model.generate(int(n), labels=c, seed=seed + c) for c, n in enumerate(counts) if n]
        )
    result = evaluate_samples(samples, dataset, seed)
    if k is None or dataset in ("swissroll", "stacked_digits"):  # no classes to condition on
        return result
    per_class = max(2, int(num_samples) // k)
    if dataset == "digits":
        size = int(samples.shape[1])
        accuracy = conditional_accuracy(model, digits_classifier(size), per_class, seed)
        _, _, x_test, y_test = data.digits_split(size)
        extractor = classifier_features("digits", size)
        intra = intra_class_fid(model, x_test, y_test, extractor, seed=seed)
        result["intra_class_fid"] = intra["intra_class_fid"]
    else:
        accuracy = conditional_accuracy(model, mode_classifier(dataset), per_class, seed)
    result["conditional_accuracy"] = accuracy["overall"]
    result["conditional_accuracy_per_class"] = accuracy["per_class"]
    return result
