"""The digits classifier: the offline stand-in for InceptionV3 on the embedded digits."""

from __future__ import annotations

import os

from keras_wgangp.data import digits_split

__all__ = ["digits_classifier"]


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
        >>> clf = digits_classifier(8, cache=False, epochs=1)  # the cached one trains for 40 epochs
        >>> clf.output_shape
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
        tmp = f"{path}.{os.getpid()}.tmp.keras"  # one per process: parallel runs never share one
        model.save(tmp)
        os.replace(tmp, path)  # atomic, so parallel runs never read half a file
    return model
