"""Helpers the measures share: feature arrays, class predictions and count checks."""

from __future__ import annotations

import numpy as np


def predicted_classes(classifier, samples) -> np.ndarray:
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
    if out.ndim != 1 or not integer_valued(out):
        raise ValueError(
            "The classifier must return class probabilities (n, K) or integer class ids (n,); "
            f"got an array of shape {out.shape} and dtype {out.dtype}."
        )
    return out.astype("int64")


def integer_valued(values: np.ndarray) -> bool:
    if np.issubdtype(values.dtype, np.integer):
        return True
    return np.issubdtype(values.dtype, np.floating) and bool(np.all(values == np.round(values)))


def check_count(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def features_2d(x) -> np.ndarray:
    x = np.asarray(x, dtype="float64")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"Expected a non-empty (n, d) array, got shape {x.shape}.")
    return x


def class_count(gan) -> int:
    """The `num_classes` of a conditional model; `ValueError` for an unconditional one."""
    num_classes = getattr(gan, "num_classes", None)
    if num_classes is None:
        raise ValueError(
            "This is not a conditional model (num_classes is None): per-class measures need a model "
            "built with num_classes=K whose generate() takes labels."
        )
    return int(num_classes)
