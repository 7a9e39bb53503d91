"""Drawing samples from a trained GAN: seeded latents, `generate` and `export`.

Every seeded draw outside training goes through `seeded_latents`:
TensorFlow's stateless normal draw with seed `(seed, 0)` for z and one
stateless uniform draw with seed `(seed + 1, 0)` for random InfoGAN codes.
The draw is the same on every Keras backend and inside the exported
SavedModel, so a model moved between backends, its `.keras` file and its
SavedModel all give the same samples for the same seed.

`Sampling` is the part of `GAN` that serves: `generate`, `export` and
`sampling_generator`.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_wgangp import codes as codes_lib
from keras_wgangp.export import export_generator
from keras_wgangp.pipeline import check_label_range

__all__ = ["Sampling", "seeded_latents"]


def seeded_latents(num_samples, seed, latent_dim: int, latent_codes=()):
    """z ~ N(0, 1) from the stateless seed `(seed, 0)`, then random code columns from `(seed + 1, 0)`.

    Written in TensorFlow ops so that the same function runs eagerly (for
    `generate`) and inside the SavedModel's `sample` endpoint, where
    `num_samples` and `seed` are tensors.

    Args:
        num_samples: How many rows (an int or an int32 scalar tensor).
        seed: The seed (an int or an int64 scalar tensor).
        latent_dim: Size of z.
        latent_codes: InfoGAN codes whose random columns follow z.

    Returns:
        A float32 `tf.Tensor` `(num_samples, latent_dim + code columns)`.

    Examples:
        >>> seeded_latents(3, 0, 2).shape
        TensorShape([3, 2])
        >>> bool((seeded_latents(3, 7, 2).numpy() == seeded_latents(3, 7, 2).numpy()).all())
        True
    """
    import tensorflow as tf

    seed = tf.cast(seed, tf.int64)
    z = tf.random.stateless_normal(tf.stack([num_samples, latent_dim]), seed=tf.stack([seed, 0 * seed]))
    if not latent_codes:
        return z
    columns = sum(code.random_columns for code in latent_codes)
    uniform = tf.random.stateless_uniform(
        tf.stack([num_samples, columns]), seed=tf.stack([seed + 1, 0 * seed])
    )
    if tf.executing_eagerly():  # the codes' keras.ops run on any backend from NumPy
        mapped = keras.ops.convert_to_numpy(codes_lib.from_uniform(latent_codes, uniform.numpy()))
    else:  # inside the SavedModel's TensorFlow graph
        mapped = codes_lib.from_uniform(latent_codes, uniform)
    return tf.concat([z, tf.cast(mapped, tf.float32)], axis=1)


def _fresh_latents(n: int, latent_dim: int) -> np.ndarray:
    return keras.ops.convert_to_numpy(keras.random.normal((n, latent_dim)))


class Sampling:
    """Sampling and serving for `GAN`: `generate`, `export` and `sampling_generator`.

    A mixin: it reads the model's `generator`, `generator_ema`,
    `latent_dim`, `num_classes`, `latent_codes` and `input_dim`.
    """

    @property
    def sampling_generator(self):
        """The network used for sampling: `generator_ema` if enabled, else `generator`."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def generate(
        self,
        num_samples: int,
        seed: int | None = 0,
        batch_size: int = 1024,
        *,
        labels=None,
        codes=None,
        latents=None,
    ) -> np.ndarray:
        """Draws `num_samples` examples from the generator (inference mode).

        The noise is TensorFlow's stateless normal draw with seed `(seed, 0)`
        (what `keras.random.normal((num_samples, latent_dim), seed)` draws on
        the TensorFlow backend); random InfoGAN codes come from one uniform
        draw with seed `seed + 1` (see `seeded_latents`). The draw is the same
        on every backend, so a model moved between backends, and its exported
        `sample` endpoint, give the same samples.

        Args:
            num_samples: How many examples to draw.
            seed: Integer seed of the latents (same seed, same samples), or
                `None` for fresh randomness.
            batch_size: Generator batch size, to bound memory.
            labels: Conditional models only: an int class id for every
                sample, an int array of length `num_samples`, or None for
                the classes 0..K−1 in turn (`arange(num_samples) % K`).
            codes: InfoGAN models only: a list with one entry per latent
                code, None for random values, else a fixed value (an int
                or int array for `Categorical`; a float, a `(dims,)` or a
                `(num_samples, dims)` array for `Uniform`).
            latents: Fixed noise `(num_samples, latent_dim)` instead of a
                draw (for example one z repeated across classes).

        Returns:
            A float32 NumPy array of shape `(num_samples, *data_shape)`.

        Examples:
            >>> import keras_wgangp as kw
            >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=16),
            ...                 kw.architectures.mlp_critic(units=16))
            >>> bool((gan.generate(3, seed=1) == gan.generate(3, seed=1)).all())
            True
            >>> cgan = kw.GAN(kw.architectures.mlp_generator(units=16, num_classes=8),
            ...               kw.architectures.mlp_critic(units=16, num_classes=8), num_classes=8)
            >>> cgan.generate(4, labels=7, seed=0).shape
            (4, 2)
        """
        if num_samples < 0:
            raise ValueError(f"num_samples must be >= 0, got {num_samples}.")
        n = int(num_samples)
        if latents is None:
            z = (
                _fresh_latents(n, self.latent_dim)
                if seed is None
                else seeded_latents(n, seed, self.latent_dim)
            )
            z = np.asarray(z)
        else:
            z = np.asarray(latents, "float32")
            if z.shape != (n, self.latent_dim):
                raise ValueError(f"`latents` must have shape ({n}, {self.latent_dim}), got {z.shape}.")
        if self.latent_codes:
            z = np.concatenate([z, self._code_columns(n, seed, codes)], axis=1)
        elif codes is not None:
            raise ValueError("`codes` needs a model with latent_codes (InfoGAN); this model has none.")
        y = self._generation_labels(n, labels)
        generator = self.sampling_generator
        chunks = []
        for i in range(0, n, batch_size):
            inputs = z[i : i + batch_size] if y is None else [z[i : i + batch_size], y[i : i + batch_size]]
            chunks.append(keras.ops.convert_to_numpy(generator(inputs, training=False)))
        if not chunks:
            shape = (0, self.input_dim) if y is None else [(0, self.input_dim), (0,)]
            return np.zeros((0,) + tuple(generator.compute_output_shape(shape)[1:]), "float32")
        return np.concatenate(chunks).astype("float32")

    def _generation_labels(self, n: int, labels):
        if self.num_classes is None:
            if labels is not None:
                raise ValueError("`labels` needs a conditional model (num_classes); this model has none.")
            return None
        if labels is None:
            return (np.arange(n) % self.num_classes).astype("int32")
        labels = np.asarray(labels)
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"`labels` must be int class ids, got dtype {labels.dtype}.")
        if labels.ndim == 0:
            labels = np.full((n,), labels)
        if labels.shape != (n,):
            raise ValueError(
                f"`labels` must be an int or an int array of length {n}, got shape {labels.shape}."
            )
        check_label_range(labels, self.num_classes)
        return labels.astype("int32")

    def _code_columns(self, n: int, seed, fixed) -> np.ndarray:
        fixed = [None] * len(self.latent_codes) if fixed is None else list(fixed)
        if len(fixed) != len(self.latent_codes):
            raise ValueError(
                f"`codes` needs one entry per latent code ({len(self.latent_codes)}), got {len(fixed)}."
            )
        if seed is None:
            columns = sum(code.random_columns for code in self.latent_codes)
            uniform = keras.random.uniform((n, columns))
            drawn = keras.ops.convert_to_numpy(codes_lib.from_uniform(self.latent_codes, uniform))
        else:  # the code columns of the seeded draw, after z
            drawn = np.asarray(seeded_latents(n, seed, 0, self.latent_codes))
        parts, start = [], 0
        for code, value in zip(self.latent_codes, fixed, strict=True):
            part = drawn[:, start : start + code.size]
            parts.append(part if value is None else code.fixed_columns(value, n))
            start += code.size
        return np.concatenate(parts, axis=1).astype("float32")

    def export(
        self,
        filepath: str,
        format: str = "tf_saved_model",
        verbose: bool = True,
        overwrite: bool = False,
        **kwargs,
    ) -> None:
        """Exports the sampling generator as a TensorFlow SavedModel for serving.

        The SavedModel needs neither Keras nor keras_wgangp to run. It serves:

        * `serve` (also `serving_default`): a float32 latent batch of shape
          `(None, latent_dim)` to samples; the batch dimension is dynamic.
          A conditional model's `serve` takes `(z, label)`, label int32
          `(None,)`; with InfoGAN codes z is the whole generator input,
          `(None, latent_dim + code columns)`.
        * `sample`: `(num_samples: int32 scalar, seed: int64 scalar)` to
          `num_samples` samples, deterministic for a given seed, and equal to
          `gan.generate(num_samples, seed=seed)`. A conditional model's
          `sample` also takes `label` (int32 scalar) and equals
          `gan.generate(num_samples, labels=label, seed=seed)`; it then also
          has a `num_classes` endpoint (no inputs) returning K.

        Args:
            filepath: Output folder. It must not exist or be empty, unless
                `overwrite=True`.
            format: Only `"tf_saved_model"` is supported.
            verbose: Print the endpoints written.
            overwrite: Replace an existing, non-empty folder.
            **kwargs: Unused; accepted for signature compatibility.

        Returns:
            None.

        Examples:
            >>> import keras_wgangp as kw, tempfile, os, tensorflow as tf
            >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=8),
            ...                 kw.architectures.mlp_critic(units=8))
            >>> path = os.path.join(tempfile.mkdtemp(), "generator")
            >>> gan.export(path, verbose=False)
            >>> served = tf.saved_model.load(path)
            >>> served.sample(tf.constant(3), tf.constant(0, tf.int64)).shape
            TensorShape([3, 2])
        """
        if format != "tf_saved_model":
            raise ValueError(f"export supports format='tf_saved_model' only, got {format!r}.")
        export_generator(
            self.sampling_generator,
            self.latent_dim,
            filepath,
            verbose=verbose,
            overwrite=overwrite,
            num_classes=self.num_classes,
            latent_codes=self.latent_codes,
        )
