"""Class coverage: the classes a classifier recognises among generated images."""

from __future__ import annotations

import numpy as np

__all__ = ["class_coverage", "coverage_of_probabilities"]


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
    probabilities = classifier.predict(np.asarray(images, "float32"), verbose=0, batch_size=256)
    return coverage_of_probabilities(probabilities, min_fraction, min_confidence)


def coverage_of_probabilities(probabilities, min_fraction: float = 0.01, min_confidence: float = 0.0) -> dict:
    """`class_coverage` from class probabilities already computed.

    Args:
        probabilities: Array `(n, K)` of class probabilities.
        min_fraction: Share of the images a class needs.
        min_confidence: Minimum top probability for a prediction to count.

    Returns:
        `class_coverage`'s dict.

    Examples:
        >>> coverage_of_probabilities([[0.95, 0.05], [0.6, 0.4]], min_confidence=0.9)["counts"]
        [1, 0]
    """
    probabilities = np.asarray(probabilities, "float64")
    if probabilities.ndim != 2 or len(probabilities) == 0:
        raise ValueError(f"probabilities must be a non-empty (n, K) array, got shape {probabilities.shape}.")
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    counts = np.bincount(predicted[confidence >= min_confidence], minlength=probabilities.shape[1])
    return {
        "classes_covered": int((counts >= min_fraction * len(probabilities)).sum()),
        "counts": counts.tolist(),
        "mean_confidence": float(confidence.mean()),
    }
