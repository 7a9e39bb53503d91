"""Loading `.keras` files with clear errors.

`load_model` wraps `keras.models.load_model` with checks that name the path
(missing, truncated, not a keras_wgangp GAN). `load_sampler` gives one
`sample(num, seed)` function over a `.keras` file or a SavedModel export
(see `keras_wgangp.export`), for the CLI.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from keras_wgangp.gan import GAN

__all__ = ["load_model", "load_sampler"]


def _is_saved_model(path: str) -> bool:
    return os.path.isdir(path) and os.path.exists(os.path.join(path, "saved_model.pb"))


def _is_gan_class(class_name, registered: str) -> bool:
    if class_name in ("GAN", "WGANGP") or registered.startswith("keras_wgangp>"):
        return True
    cls = keras.saving.get_registered_object(registered) if registered else None
    return isinstance(cls, type) and issubclass(cls, GAN)  # a registered user subclass


def load_model(filepath: str, compile: bool = True):
    """Loads a `GAN` or `WGANGP` saved with `gan.save("....keras")`, optimizers included.

    Equivalent to `keras.models.load_model`, but a missing, truncated or
    foreign file gives an error that names the path and the cause.

    Args:
        filepath: Path of a `.keras` file written by `GAN.save` or `WGANGP.save`.
        compile: Restore the optimizers and their state (iterations, moments).

    Returns:
        The model, of the class it was saved as.

    Examples:

    >>> import keras_wgangp as kw, tempfile, os
    >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=8),
    ...                 kw.architectures.mlp_critic(units=8))
    >>> gan.compile()
    >>> path = os.path.join(tempfile.mkdtemp(), "gan.keras")
    >>> gan.save(path)
    >>> type(kw.load_model(path)).__name__
    'WGANGP'
    """
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No model file at {filepath!r}.")
    if _is_saved_model(filepath):
        raise ValueError(
            f"{filepath!r} is a SavedModel export (the generator only), not a .keras file. Load it "
            "with tf.saved_model.load, or draw samples with `keras-wgangp sample --model PATH`."
        )
    if os.path.isdir(filepath) or not zipfile.is_zipfile(filepath):
        raise ValueError(
            f"{filepath!r} is not a .keras archive; it may be truncated or corrupt. Save models "
            "with gan.save('name.keras')."
        )
    try:
        with zipfile.ZipFile(filepath) as archive:
            config = json.loads(archive.read("config.json"))
    except (KeyError, zipfile.BadZipFile, ValueError, OSError) as error:
        raise ValueError(f"{filepath!r} is not a readable .keras archive: {error}") from error
    class_name = config.get("class_name")
    registered = str(config.get("registered_name") or "")
    if not _is_gan_class(class_name, registered):
        module = config.get("module") or "?"
        raise ValueError(
            f"{filepath!r} holds a Keras {class_name!r} model (module {module}), not a keras_wgangp "
            "WGANGP or GAN; load it with keras.models.load_model instead."
        )
    try:
        model = keras.models.load_model(filepath, compile=compile)
    except Exception as error:
        raise ValueError(f"Could not load the {class_name} model in {filepath!r}: {error}") from error
    if not isinstance(model, GAN):
        raise ValueError(f"{filepath!r} did not load as a keras_wgangp GAN (got {type(model).__name__}).")
    return model


def load_sampler(filepath: str) -> Callable[[int, int], np.ndarray]:
    """Returns `sample(num_samples, seed) -> np.ndarray` for a `.keras` file or a SavedModel.

    Args:
        filepath: A `.keras` file from `GAN.save` or a folder from
            `GAN.export` (`WGANGP` is a `GAN`).

    Returns:
        A function drawing deterministic samples for a given seed; both kinds
        of file give the same samples for the same seed.

    Examples:

    >>> import keras_wgangp as kw, tempfile, os
    >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=8),
    ...                 kw.architectures.mlp_critic(units=8))
    >>> path = os.path.join(tempfile.mkdtemp(), "g")
    >>> gan.export(path, verbose=False)
    >>> load_sampler(path)(5, 0).shape
    (5, 2)
    """
    filepath = os.fspath(filepath)
    if _is_saved_model(filepath):
        served = tf.saved_model.load(filepath)
        if not hasattr(served, "sample"):
            raise ValueError(
                f"The SavedModel at {filepath!r} has no 'sample' endpoint; export it with GAN.export."
            )

        def sample(num_samples: int, seed: int) -> np.ndarray:
            out = served.sample(tf.constant(num_samples, tf.int32), tf.constant(seed, tf.int64))
            return np.asarray(out)

        return sample
    gan = load_model(filepath, compile=False)
    return lambda num_samples, seed: gan.generate(num_samples, seed=seed)
