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
from keras_wgangp.evaluation.class_coverage import coverage_of_probabilities
from keras_wgangp.evaluation.conditional import conditional_accuracy, intra_class_fid
from keras_wgangp.evaluation.density_coverage import density_coverage
from keras_wgangp.evaluation.features import classifier_features
from keras_wgangp.evaluation.frechet import frechet_distance
from keras_wgangp.evaluation.kid import kernel_inception_distance
from keras_wgangp.evaluation.precision_recall import precision_recall
from keras_wgangp.evaluation.reference import (
    IMAGE_DATASETS,
    digit_classifier,
    image_features,
    image_sizes,
    neighbour_subset,
    real_reference,
)
from keras_wgangp.evaluation.sliced_wasserstein import sliced_wasserstein_distance
from keras_wgangp.evaluation.stacked import STACKED_SAMPLES, mode_histogram
from keras_wgangp.evaluation.toys import mode_classifier, mode_coverage

__all__ = ["CLASS_CONFIDENCE", "DATASETS", "DEFAULT_SAMPLES", "evaluate", "evaluate_samples"]

DATASETS = data.TOY_DATASETS + tuple(IMAGE_DATASETS)
# A digit counts towards its class only when the classifier is this sure of it.
CLASS_CONFIDENCE = 0.9
# The samples `evaluate` draws by default: Stacked MNIST's papers count modes in 26,000.
DEFAULT_SAMPLES = {"stacked_digits": STACKED_SAMPLES, "stacked_mnist": STACKED_SAMPLES}
FEATURE_SPACES = {
    "digits": "digits classifier (64-d)",
    "mnist": "MNIST classifier (128-d)",
    "stacked_digits": "digits classifier per channel (192-d)",
    "stacked_mnist": "MNIST classifier per channel (384-d)",
}
KID_SUBSET = {"digits": 300, "mnist": 1000}  # at most the test split's size (360, 1,000)


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


def _image_side(samples, dataset: str) -> int:
    channels, sizes = IMAGE_DATASETS[dataset][1], image_sizes(dataset)
    size = samples.shape[1] if samples.ndim == 4 else None
    if samples.ndim != 4 or samples.shape[1:] != (size, size, channels) or size not in sizes:
        sides = "|".join(map(str, sizes))
        raise ValueError(
            f"{dataset} needs ({sides}, same, {channels}) images, the model makes shape {samples.shape[1:]}"
        )
    return size


def _image_measures(samples, dataset: str, seed: int) -> dict:
    size = _image_side(samples, dataset)
    real = real_reference(dataset, size, len(samples), seed)  # cached after the first evaluation
    features, probabilities = image_features(dataset, size, samples)
    _, rows = neighbour_subset(len(real["features"]), len(samples), seed)
    reals, fakes = real["features"][real["neighbour_rows"]], features[rows]
    neighbours = {
        **precision_recall(reals, fakes, k=3, real_radii=real["radii_3"]),
        **density_coverage(reals, fakes, k=5, real_radii=real["radii_5"]),
    }
    fid = {
        "fid": frechet_distance(features, real["features"]),
        "fid_real_train_vs_test": float(real["floor_fid"]),
    }
    if IMAGE_DATASETS[dataset][1] == 3:
        digits = probabilities.argmax(axis=-1)
        modes = mode_histogram(digits[:, 0], digits[:, 1], digits[:, 2])
        return {**modes, **fid, **neighbours, "feature_space": FEATURE_SPACES[dataset]}
    kid_mean, kid_std = kernel_inception_distance(features, real["features"], subset_size=KID_SUBSET[dataset])
    coverage = coverage_of_probabilities(probabilities[:, 0], min_confidence=CLASS_CONFIDENCE)
    return {
        **fid,
        "kid": kid_mean,
        "kid_std": kid_std,
        **neighbours,
        "classes_covered": coverage["classes_covered"],
        "class_counts": coverage["counts"],
        "mean_confidence": coverage["mean_confidence"],
        "num_samples": int(len(samples)),
        "feature_space": FEATURE_SPACES[dataset],
        "mean_sample_value": float(np.mean(samples)),
    }


def evaluate_samples(samples, dataset: str, seed: int = 0) -> dict:
    """The unconditional measures of generated samples against a dataset.

    * Toys: `mode_coverage` plus the sliced Wasserstein distance to fresh
      real samples, and the same distance between two real sets of the same
      size (the floor).
    * `digits` and `mnist`: classifier-feature FID and KID against the
      test split (`digits_split`'s 360 held-out digits; `kw.data.mnist`'s
      1,000 test digits), the floor (the FID of as many real training
      digits as samples, up to the whole split, against the same test
      split), precision/recall (k = 3) and density/coverage (k = 5)
      against the test digits, and `class_coverage` at confidence
      `CLASS_CONFIDENCE` (0.9).
    * `stacked_digits` and `stacked_mnist`: modes and KL
      (`stacked_mode_coverage`), and FID, its floor, precision/recall and
      density/coverage in the per-channel classifier features, against
      10,000 stacks of test digits.

    The classifier is the digits one (`digits_classifier`) or the MNIST one
    (`mnist_classifier`) at the samples' side. The real side (test
    features, floor, neighbour radii) is computed once and cached on disk
    (`keras_wgangp.evaluation.reference`). Precision/recall and
    density/coverage use at most 10,000 of each set.

    Args:
        samples: Generated samples: `(n, 2)` points, or `(n, s, s, 1)`
            digits (`(n, s, s, 3)` stacked) with s in 8, 16, 32 for the
            digits and 28, 32 for MNIST.
        dataset: A toy dataset name, `"digits"`, `"mnist"`,
            `"stacked_digits"` or `"stacked_mnist"`.
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
    return _image_measures(samples, dataset, seed)


def evaluate(model, dataset: str, num_samples: int | None = None, seed: int = 0) -> dict:
    """Samples a model and measures the samples; conditional models also get the per-class measures.

    A conditional model is sampled class by class (class c from seed
    `seed + c`, the classes sharing `num_samples` evenly) and gets
    `conditional_accuracy` (toys: the share within 3σ of the label's own
    mode; digits and MNIST: their classifier's agreement with the label) with
    `num_samples // K` samples per class, and on digits and MNIST the
    `intra_class_fid` against the held-out split.

    Args:
        model: Anything with `num_classes` and `generate(n, seed=, labels=)`:
            a `GAN`, or a sampler from `keras_wgangp.saving.load_sampler`.
        dataset: A name of `DATASETS`: a toy, `"digits"`, `"mnist"`,
            `"stacked_digits"` or `"stacked_mnist"`.
        num_samples: Samples to measure (at least 2); None: 26,000 for
            the stacked datasets, 2,000 for the others.
        seed: Seed of the samples and of the real reference samples.

    Returns:
        `evaluate_samples`'s dict, plus `conditional_accuracy`,
        `conditional_accuracy_per_class` and (digits, MNIST) `intra_class_fid` for
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
    if k is None or dataset in ("swissroll", "stacked_digits", "stacked_mnist"):  # no classes to condition on
        return result
    per_class = max(2, int(num_samples) // k)
    if dataset in ("digits", "mnist"):
        size = int(samples.shape[1])
        accuracy = conditional_accuracy(model, digit_classifier(dataset, size), per_class, seed)
        if dataset == "digits":
            _, _, x_test, y_test = data.digits_split(size)
        else:
            x_test, y_test = data.mnist("test", size)
        extractor = classifier_features(dataset, size)
        intra = intra_class_fid(model, x_test, y_test, extractor, seed=seed)
        result["intra_class_fid"] = intra["intra_class_fid"]
    else:
        accuracy = conditional_accuracy(model, mode_classifier(dataset), per_class, seed)
    result["conditional_accuracy"] = accuracy["overall"]
    result["conditional_accuracy_per_class"] = accuracy["per_class"]
    return result
