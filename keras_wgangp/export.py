"""Exporting a generator as a TensorFlow SavedModel for serving.

The SavedModel needs neither Keras nor keras_wgangp to run. `GAN.export`
calls `export_generator` with the sampling generator. Each backend has its
route to TensorFlow: TensorFlow traces the generator directly; JAX converts
it with jax2tf through `keras.export.ExportArchive`; PyTorch saves it as a
`.keras` file and exports it from a TensorFlow-backend child process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import keras
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
    if keras.backend.backend() == "torch":
        return _export_in_tensorflow(generator, latent_dim, filepath, verbose, num_classes, latent_codes)
    input_dim = latent_dim + sum(code.size for code in latent_codes)
    random_columns = sum(code.random_columns for code in latent_codes)
    z_spec = tf.TensorSpec((None, input_dim), tf.float32, name="z")
    label_spec = tf.TensorSpec((None,), tf.int32, name="label")
    archive = ExportArchive()
    if keras.backend.backend() == "jax":
        # jax2tf converts the generator into a TF function (Keras's export
        # path); the endpoints below wrap it in TF ops.
        signature = [z_spec] if num_classes is None else [[z_spec, label_spec]]
        generate = archive.track_and_add_endpoint("generator", generator, input_signature=signature)
    else:
        archive.track(generator)

        def generate(inputs):
            return generator(inputs, training=False)

    def latents(num_samples, seed):
        # Keras's integer seed s is the stateless seed (s, 0): the draws of generate().
        z = tf.random.stateless_normal(tf.stack([num_samples, latent_dim]), seed=tf.stack([seed, 0 * seed]))
        if not latent_codes:
            return z
        uniform = tf.random.stateless_uniform(
            tf.stack([num_samples, random_columns]), seed=tf.stack([seed + 1, 0 * seed])
        )
        return tf.concat([z, from_uniform(latent_codes, uniform)], axis=1)

    if num_classes is None:

        def serve(z):
            return generate(z)

        def sample(num_samples, seed):
            return generate(latents(num_samples, seed))

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
            return generate([z, checked(label)])

        def sample(num_samples, seed, label):
            labels = tf.fill([num_samples], checked(label))
            return generate([latents(num_samples, seed), labels])

        serve_signature = [z_spec, label_spec]
        sample_signature = [tf.TensorSpec((), tf.int32, name="label")]
        _add(archive, "num_classes", lambda: tf.constant(num_classes, tf.int32), [])
    _add(archive, "serve", serve, serve_signature)
    _add(
        archive,
        "sample",
        sample,
        [
            tf.TensorSpec((), tf.int32, name="num_samples"),
            tf.TensorSpec((), tf.int64, name="seed"),
            *sample_signature,
        ],
    )
    archive.write_out(filepath, verbose=verbose)
    return filepath


def _add(archive, name: str, fn, signature) -> None:
    # A traced tf.function is added as is on every backend; on JAX a plain
    # function would be run through jax2tf, which TF ops cannot pass.
    function = tf.function(fn, input_signature=signature)
    function.get_concrete_function()
    archive.add_endpoint(name, function)


def _export_in_tensorflow(generator, latent_dim, filepath, verbose, num_classes, latent_codes) -> str:
    """The PyTorch route: Keras cannot convert torch functions to TF graphs
    here (that needs torch_xla), so the generator is saved as a .keras file
    and exported by a TensorFlow-backend child process."""
    with tempfile.TemporaryDirectory() as folder:
        model_path = os.path.join(folder, "generator.keras")
        generator.save(model_path)
        options = {
            "model": model_path,
            "latent_dim": latent_dim,
            "filepath": os.path.abspath(filepath),
            "verbose": verbose,
            "num_classes": num_classes,
            "latent_codes": [keras.saving.serialize_keras_object(code) for code in latent_codes],
        }
        env = dict(os.environ, KERAS_BACKEND="tensorflow")
        result = subprocess.run(
            [sys.executable, "-m", "keras_wgangp.export", json.dumps(options)],
            env=env,
            capture_output=not verbose,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"Exporting under the TensorFlow backend failed (exit {result.returncode}): "
                f"{(result.stderr or '')[-2000:]}"
            )
    return filepath


def _main(argv: list[str]) -> int:
    """`python -m keras_wgangp.export OPTIONS_JSON`: the child of the PyTorch route.

    `-m` imports the package first, which registers its serializable classes.
    """

    options = json.loads(argv[0])
    generator = keras.saving.load_model(options.pop("model"), compile=False)
    codes = [keras.saving.deserialize_keras_object(code) for code in options.pop("latent_codes")]
    export_generator(generator, latent_codes=codes, **options)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
