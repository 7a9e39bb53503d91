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
    generator,
    latent_dim: int,
    filepath: str,
    verbose: bool = True,
    overwrite: bool = False,
    num_classes: int | None = None,
    latent_codes=(),
) -> str:
    """Writes `generator` as a SavedModel with `serve` and `sample` endpoints.

    `sample(num_samples, seed)` draws z ~ N(0, 1) from the stateless seed
    (seed, 0) and random InfoGAN codes from (seed + 1, 0), the numbers
    `GAN.generate(num_samples, seed=seed)` draws. A conditional generator's
    endpoints also take labels: `serve(z, label)` with int32 labels
    `(None,)`, and `sample(num_samples, seed, label)` with one int32 label
    for every sample; its `num_classes` endpoint returns K.

    Args:
        generator: A Keras model mapping `(batch, latent_dim + code columns)`
            (and labels, when conditional) to samples.
        latent_dim: Size of the noise z.
        filepath: Output folder; must not exist or be empty unless `overwrite`.
        verbose: Print the endpoints written.
        overwrite: Replace an existing, non-empty folder.
        num_classes: K for a conditional generator, else None.
        latent_codes: The InfoGAN codes (`keras_wgangp.codes`) the generator takes after z.

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

    from keras_wgangp.codes import from_uniform

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

    latent_codes = list(latent_codes or ())
    input_dim = latent_dim + sum(code.size for code in latent_codes)
    random_columns = sum(code.random_columns for code in latent_codes)
    archive = ExportArchive()
    archive.track(generator)

    def latents(num_samples, seed):
        # Keras's integer seed s is the stateless seed (s, 0): the draws of generate().
        z = tf.random.stateless_normal(tf.stack([num_samples, latent_dim]), seed=tf.stack([seed, 0 * seed]))
        if not latent_codes:
            return z
        uniform = tf.random.stateless_uniform(
            tf.stack([num_samples, random_columns]), seed=tf.stack([seed + 1, 0 * seed])
        )
        return tf.concat([z, from_uniform(latent_codes, uniform)], axis=1)

    z_spec = tf.TensorSpec((None, input_dim), tf.float32, name="z")
    if num_classes is None:

        def serve(z):
            return generator(z, training=False)

        def sample(num_samples, seed):
            return generator(latents(num_samples, seed), training=False)

        serve_signature = [z_spec]
        sample_signature = []
    else:

        def checked(label):
            # An embedding lookup past the table gives zeros on GPU instead of
            # an error; name the valid range for every caller of the SavedModel.
            message = f"label must be a class id in [0, {num_classes})"
            checks = [
                tf.debugging.assert_non_negative(label, message=message),
                tf.debugging.assert_less(label, num_classes, message=message),
            ]
            with tf.control_dependencies(checks):
                return tf.identity(label)

        def serve(z, label):
            return generator([z, checked(label)], training=False)

        def sample(num_samples, seed, label):
            labels = tf.fill([num_samples], checked(label))
            return generator([latents(num_samples, seed), labels], training=False)

        serve_signature = [z_spec, tf.TensorSpec((None,), tf.int32, name="label")]
        sample_signature = [tf.TensorSpec((), tf.int32, name="label")]
        archive.add_endpoint("num_classes", lambda: tf.constant(num_classes, tf.int32), input_signature=[])

    archive.add_endpoint("serve", serve, input_signature=serve_signature)
    archive.add_endpoint(
        "sample",
        sample,
        input_signature=[
            tf.TensorSpec((), tf.int32, name="num_samples"),
            tf.TensorSpec((), tf.int64, name="seed"),
            *sample_signature,
        ],
    )
    archive.write_out(filepath, verbose=verbose)
    return filepath
