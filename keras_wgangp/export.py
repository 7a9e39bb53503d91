"""Exporting a generator as a TensorFlow SavedModel for serving.

The SavedModel needs neither Keras nor keras_wgangp to run. TensorFlow-only;
`GAN.export` calls `export_generator` with the sampling generator.
"""

from __future__ import annotations

import os
import shutil

import tensorflow as tf

__all__ = ["export_generator"]


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
