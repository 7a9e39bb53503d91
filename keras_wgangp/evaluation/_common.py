"""Helpers the measures share: feature arrays, class predictions, count checks and the caches."""

from __future__ import annotations

import contextlib
import os

import numpy as np


def cache_dir() -> str:
    """`$KERAS_WGANGP_CACHE`, else `$XDG_CACHE_HOME/keras_wgangp`, else `~/.cache/keras_wgangp`."""
    root = os.environ.get("KERAS_WGANGP_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "keras_wgangp"
    )
    os.makedirs(root, exist_ok=True)
    return root


@contextlib.contextmanager
def _exclusive(path: str):
    """Holds `<path>.lock` while one process builds `path`: parallel runs build a cache file once."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock; the atomic write still keeps every file whole
        yield
        return
    with open(f"{path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# The models this process has loaded or trained, by cache path: (file's mtime_ns and size, model).
_LOADED: dict = {}


def _stamp(path: str) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_mtime_ns, status.st_size


def cached_model(name: str | None, train):
    """The Keras model cached as `<cache>/<name>.keras`, or `train()`'s, written there atomically.

    `name=None` trains without the cache. A cache file that does not load (stale or partial) is
    removed and retrained, never trusted. Parallel processes wait for one another (a lock file
    beside the cache file), so the model is trained once. Within a process the model is read
    once: later calls return the same object while the file is unchanged.
    """
    import keras

    if not name:
        return train()
    path = os.path.join(cache_dir(), f"{name}.keras")
    with _exclusive(path):
        if os.path.exists(path):
            memo = _LOADED.get(path)
            if memo is not None and memo[0] == _stamp(path):
                return memo[1]
            try:
                model = keras.models.load_model(path)
                _LOADED[path] = (_stamp(path), model)
                return model
            except Exception:  # a stale or partial cache file: retrain below
                os.remove(path)
        model = train()
        tmp = f"{path}.{os.getpid()}.tmp.keras"  # one per process: parallel runs never share one
        model.save(tmp)
        os.replace(tmp, path)  # atomic, so a reader never sees half a file
        _LOADED[path] = (_stamp(path), model)
    return model


def cached_arrays(name: str, compute, keys) -> dict:
    """The arrays cached as `<cache>/reference/<name>.npz`, or `compute()`'s, written there atomically.

    `compute` returns a dict of name to array, with exactly the names in `keys`. A cache file that
    does not read back (partial or corrupt) or holds other names (an older layout) is removed and
    recomputed, never trusted.
    """
    folder = os.path.join(cache_dir(), "reference")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{name}.npz")
    with _exclusive(path):
        if os.path.exists(path):
            try:
                with np.load(path, allow_pickle=False) as stored:
                    if set(stored.files) == set(keys):
                        return {key: stored[key] for key in stored.files}
            except Exception:  # a partial or corrupt file (zipfile, OSError, ValueError...): rebuild below
                pass
            os.remove(path)
        arrays = {key: np.asarray(value) for key, value in compute().items()}
        if set(arrays) != set(keys):
            raise ValueError(f"compute() gave {sorted(arrays)}, not the declared {sorted(keys)}.")
        tmp = f"{path}.{os.getpid()}.tmp.npz"  # one per process: parallel runs never share one
        np.savez(tmp, **arrays)
        os.replace(tmp, path)  # atomic, so a reader never sees half a file
    return arrays


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
