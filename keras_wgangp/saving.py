"""Loading `.keras` files with clear errors, and exporting the generator.

`load_model` wraps `keras.models.load_model` with checks that name the path
(missing, truncated, not a WGANGP). `export_generator` writes a SavedModel
that serves without Keras or keras_wgangp. `load_sampler` gives one
`sample(num, seed)` function over either kind of file, for the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Callable

import numpy as np
import tensorflow as tf

__all__ = ["export_generator", "load_model", "load_sampler"]


def _is_saved_model(path: str) -> bool:
    return os.path.isdir(path) and os.path.exists(os.path.join(path, "saved_model.pb"))


def load_model(filepath: str, compile: bool = True):
    """Loads a `WGANGP` saved with `gan.save("....keras")`, optimizers included.

    Equivalent to `keras.models.load_model`, but a missing, truncated or
    foreign file gives an error that names the path and the cause.

    Args:
        filepath: Path of a `.keras` file written by `WGANGP.save`.
        compile: Restore the optimizers and their state (iterations, moments).

    Returns:
        The `WGANGP` model.

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
    import keras

    from keras_wgangp.model import WGANGP

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
    if class_name != "WGANGP":
        raise ValueError(
            f"{filepath!r} holds a Keras {class_name!r} model, not a keras_wgangp WGANGP; "
            "load it with keras.models.load_model instead."
        )
    try:
        model = keras.models.load_model(filepath, compile=compile)
    except Exception as error:
        raise ValueError(f"Could not load the WGANGP model in {filepath!r}: {error}") from error
    if not isinstance(model, WGANGP):  # pragma: no cover - guarded by the config check
        raise ValueError(f"{filepath!r} did not load as a WGANGP (got {type(model).__name__}).")
    return model


def load_sampler(filepath: str) -> Callable[[int, int], np.ndarray]:
    """Returns `sample(num_samples, seed) -> np.ndarray` for a `.keras` file or a SavedModel.

    Args:
        filepath: A `.keras` file from `WGANGP.save` or a folder from
            `WGANGP.export`.

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
                f"The SavedModel at {filepath!r} has no 'sample' endpoint; export it with WGANGP.export."
            )

        def sample(num_samples: int, seed: int) -> np.ndarray:
            out = served.sample(tf.constant(num_samples, tf.int32), tf.constant(seed, tf.int64))
            return np.asarray(out)

        return sample
    gan = load_model(filepath, compile=False)
    return lambda num_samples, seed: gan.generate(num_samples, seed=seed)


def export_generator(
    generator, latent_dim: int, filepath: str, verbose: bool = True, overwrite: bool = False
) -> str:
    """Writes `generator` as a SavedModel with `serve` and `sample` endpoints.

    Args:
        generator: A Keras model mapping `(batch, latent_dim)` to samples.
        latent_dim: Size of the latent vectors.
        filepath: Output folder; must not exist or be empty unless `overwrite`.
        verbose: Print the endpoints written.
        overwrite: Replace an existing, non-empty folder.

    Returns:
        The folder written.

    Examples:

    >>> import keras_wgangp as kw, tempfile, os
    >>> g = kw.architectures.mlp_generator(units=8)
    >>> path = export_generator(g, 2, os.path.join(tempfile.mkdtemp(), "g"), verbose=False)
    >>> sorted(tf.saved_model.load(path).signatures)
    ['sample', 'serve', 'serving_default']
    """
    from keras.export import ExportArchive

    filepath = os.fspath(filepath)
    if os.path.exists(filepath) and (not os.path.isdir(filepath) or os.listdir(filepath)):
        if not overwrite:
            raise FileExistsError(
                f"Export path {filepath!r} already exists and is not empty; pass overwrite=True "
                "to replace it, or choose another path."
            )
        if os.path.isdir(filepath):
            shutil.rmtree(filepath)
        else:
            os.remove(filepath)

    archive = ExportArchive()
    archive.track(generator)

    def serve(z):
        return generator(z, training=False)

    def sample(num_samples, seed):
        # Same draw as WGANGP.generate(num_samples, seed): Keras's integer
        # seed s becomes the stateless seed (s, 0).
        seed_pair = tf.stack([seed, tf.zeros_like(seed)])
        z = tf.random.stateless_normal(tf.stack([num_samples, latent_dim]), seed=seed_pair)
        return generator(z, training=False)

    archive.add_endpoint(
        "serve", serve, input_signature=[tf.TensorSpec((None, latent_dim), tf.float32, name="z")]
    )
    archive.add_endpoint(
        "sample",
        sample,
        input_signature=[
            tf.TensorSpec((), tf.int32, name="num_samples"),
            tf.TensorSpec((), tf.int64, name="seed"),
        ],
    )
    archive.write_out(filepath, verbose=verbose)
    return filepath
