"""Loading `.keras` files with clear errors.

`load_model` wraps `keras.models.load_model` with checks that name the path
(missing, truncated, not a keras_wgangp GAN). `load_sampler` gives one
`Sampler` over a `.keras` file or a SavedModel export (see
`keras_wgangp.export`), which the CLI and the evaluation protocol draw from.
"""

from __future__ import annotations

import json
import os
import zipfile

import keras
import numpy as np
import tensorflow as tf

from keras_wgangp.gan import GAN

__all__ = ["Sampler", "load_model", "load_sampler"]


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
    if os.path.isdir(filepath):
        raise ValueError(
            f"{filepath!r} is a folder but neither a .keras file nor a SavedModel export (it has no "
            "saved_model.pb). Pass the model.keras or the saved_model/ folder that a run wrote."
        )
    if not zipfile.is_zipfile(filepath):
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
        model = keras.models.load_model(filepath, compile=compile, safe_mode=True)  # never run its code
    except Exception as error:
        raise ValueError(f"Could not load the {class_name} model in {filepath!r}: {error}") from error
    if not isinstance(model, GAN):
        raise ValueError(f"{filepath!r} did not load as a keras_wgangp GAN (got {type(model).__name__}).")
    return model


class Sampler:
    """Deterministic samples from a `.keras` file or a SavedModel export, through one interface.

    `sampler(num_samples, seed, label=None)` and
    `sampler.generate(num_samples, seed=0, labels=None)` (the `GAN.generate`
    signature, so the measures of `keras_wgangp.evaluation` take a sampler
    as they take a model). Both kinds of file give the same samples for the
    same seed. `label` is one class id for every sample; a conditional
    SavedModel needs it, a `.keras` model also takes None (the classes in
    turn). `num_classes` is None for an unconditional model.
    """

    def __init__(self, draw, num_classes: int | None):
        self._draw, self.num_classes = draw, num_classes

    def __call__(self, num_samples: int, seed: int, label: int | None = None) -> np.ndarray:
        if label is not None and self.num_classes is None:
            raise ValueError("This model is not conditional; drop the label (--label).")
        if label is not None and not 0 <= int(label) < self.num_classes:
            raise ValueError(f"label {label} is outside [0, {self.num_classes}).")
        return self._draw(int(num_samples), int(seed), label)

    def generate(self, num_samples: int, seed: int = 0, labels: int | None = None) -> np.ndarray:
        return self(num_samples, seed, labels)


def load_sampler(filepath: str) -> Sampler:
    """A `Sampler` over a `.keras` file or a SavedModel export.

    Args:
        filepath: A `.keras` file from `GAN.save` or a folder from
            `GAN.export` (`WGANGP` is a `GAN`).

    Returns:
        A `Sampler`: `sampler(num_samples, seed, label=None)` returns a
        float32 NumPy array, the same for both kinds of file.

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
    if not _is_saved_model(filepath):
        gan = load_model(filepath, compile=False)
        return Sampler(lambda n, seed, label: gan.generate(n, seed=seed, labels=label), gan.num_classes)
    served = tf.saved_model.load(filepath)
    if not hasattr(served, "sample"):
        raise ValueError(
            f"The SavedModel at {filepath!r} has no 'sample' endpoint; export it with GAN.export."
        )
    num_classes = int(served.num_classes()) if hasattr(served, "num_classes") else None

    def draw(num_samples: int, seed: int, label: int | None) -> np.ndarray:
        args = [tf.constant(num_samples, tf.int32), tf.constant(seed, tf.int64)]
        if num_classes is not None:
            if label is None:
                raise ValueError(
                    f"This SavedModel is conditional ({num_classes} classes); give a label "
                    f"in [0, {num_classes}) (CLI: --label)."
                )
            args.append(tf.constant(label, tf.int32))
        return np.asarray(served.sample(*args))

    return Sampler(draw, num_classes)
