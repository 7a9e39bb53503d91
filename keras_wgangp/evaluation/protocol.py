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
from keras_wgangp.evaluation.digits import digits_classifier
from keras_wgangp.evaluation.features import classifier_features
from keras_wgangp.evaluation.frechet import frechet_distance
from keras_wgangp.evaluation.kid import kernel_inception_distance
from keras_wgangp.evaluation.sliced_wasserstein import sliced_wasserstein_distance
from keras_wgangp.evaluation.toys import mode_classifier, mode_coverage

__all__ = ["CLASS_CONFIDENCE", "DATASETS", "evaluate", "evaluate_samples"]

DATASETS = data.TOY_DATASETS + ("digits",)
# A digit counts towards its class only when the classifier is this sure of it.
CLASS_CONFIDENCE = 0.9


def evaluate_samples(samples, dataset: str, seed: int = 0) -> dict:
    """The unconditional measures of generated samples against a dataset.

    Toy datasets: `mode_coverage` plus the sliced Wasserstein distance to
    fresh real samples, and the same distance between two real sets of the
    same size (the floor). Digits: classifier-feature FID and KID against
    the held-out split of `digits_split`, the floor (the FID of as many
    real training digits as samples, up to all 1,437, against the same
    split), and `class_coverage` at confidence `CLASS_CONFIDENCE` (0.9).

    Args:
        samples: Generated samples: `(n, 2)` points or `(n, side, side, 1)`
            digit images with side 8, 16 or 32.
        dataset: A toy dataset name or `"digits"`.
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
        if samples.ndim != 2 or samples.shape[1] != 2:
            raise ValueError(f"{dataset} needs 2-D samples, the model makes shape {samples.shape[1:]}")
        result = mode_coverage(samples, dataset)
        real = data.toy_samples(dataset, len(samples), seed=seed + 1)
        result["sliced_wasserstein"] = sliced_wasserstein_distance(samples, real)
        result["sliced_wasserstein_real_vs_real"] = sliced_wasserstein_distance(
            data.toy_samples(dataset, len(samples), seed=seed + 2), real
        )
        return result
    size = samples.shape[1] if samples.ndim == 4 else None
    if samples.ndim != 4 or samples.shape[1:] != (size, size, 1) or size not in data.DIGITS_SIZES:
        raise ValueError(f"digits needs (8|16|32, same, 1) images, the model makes shape {samples.shape[1:]}")
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
        "classes_covered": coverage["classes_covered"],
        "class_counts": coverage["counts"],
        "mean_confidence": coverage["mean_confidence"],
        "num_samples": int(len(samples)),
        "feature_space": "digits classifier (64-d)",
        "mean_sample_value": float(np.mean(samples)),
    }


def evaluate(model, dataset: str, num_samples: int = 2000, seed: int = 0) -> dict:
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
        num_samples: Samples to measure (at least 2).
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
    if k is None or dataset == "swissroll":  # the roll has no classes to condition on
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
