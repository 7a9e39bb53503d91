"""InfoGAN's structured latent codes (Chen et al. 2016, arXiv:1606.03657).

A `GAN` with `latent_codes=[Categorical(10), Uniform(2)]` feeds its
generator z concatenated with the codes' columns (the one-hot categorical
code, then the continuous values), and its critic returns `[score, q]`,
where q holds, per code in the same order, the categorical logits or the
predicted continuous values. The mutual-information lower bound is
maximised by adding

    info_weight · Σ_codes −E log Q(c | G(z, c))

to both the critic and the generator loss (`mutual_information_penalty`).
As in TF-GAN's `mutual_information_penalty`, the constant entropy H(c) is
left out and each code's log-likelihood is a mean over the batch (and over
a continuous code's dimensions): cross-entropy for a categorical code, and
a Gaussian log-density with fixed unit variance for a continuous one,
log N(c; μ, 1) = −(c − μ)²/2 − log(2π)/2.

Codes are drawn from one uniform draw per batch (`from_uniform`), so a
SavedModel export reproduces `GAN.generate` exactly.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from keras_wgangp._options import Configurable, check_count, resolve

__all__ = ["Categorical", "LatentCode", "Uniform", "from_uniform", "get", "mutual_information_penalty"]

Tensor = Any


class LatentCode(Configurable):
    """Base class of the latent codes.

    A code occupies `size` columns of the generator's input and `size`
    outputs of the critic's Q head, and is drawn from `random_columns`
    uniform numbers per example.
    """

    size: int = 0
    random_columns: int = 0

    def columns(self, uniform: Tensor) -> Tensor:
        """Maps U[0, 1) draws `(batch, random_columns)` to generator columns `(batch, size)`."""
        raise NotImplementedError

    def negative_log_likelihood(self, q: Tensor, columns: Tensor) -> Tensor:
        """−mean log Q(c | x) for this code's Q outputs and generator columns."""
        raise NotImplementedError

    def fixed_columns(self, value, num_samples: int) -> np.ndarray:
        """Generator columns `(num_samples, size)` for a user-given value."""
        raise NotImplementedError


@keras.saving.register_keras_serializable(package="keras_wgangp")
class Categorical(LatentCode):
    """A categorical code of `num_categories` equally likely values, fed one-hot.

    Args:
        num_categories: Number of values (10 for MNIST digit classes in the paper).

    Examples:
        >>> code = Categorical(3)
        >>> code.columns(np.array([[0.1], [0.5], [0.99]])).numpy().tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """

    random_columns = 1

    def __init__(self, num_categories: int):
        self.num_categories = check_count("num_categories", num_categories, 2)
        self.size = self.num_categories

    def columns(self, uniform):
        k = self.num_categories
        index = keras.ops.minimum(keras.ops.cast(keras.ops.floor(uniform[:, 0] * k), "int32"), k - 1)
        return keras.ops.one_hot(index, k, dtype="float32")

    def negative_log_likelihood(self, q, columns):
        log_probabilities = keras.ops.log_softmax(keras.ops.cast(q, "float32"), axis=-1)
        return -keras.ops.mean(keras.ops.sum(keras.ops.cast(columns, "float32") * log_probabilities, axis=-1))

    def fixed_columns(self, value, num_samples):
        value = np.asarray(value)
        if not np.issubdtype(value.dtype, np.integer):
            raise TypeError(f"A Categorical code takes integer values, got dtype {value.dtype}.")
        value = np.broadcast_to(value, (num_samples,)) if value.ndim == 0 else value
        if value.shape != (num_samples,) or value.min(initial=0) < 0 or value.max(initial=0) >= self.size:
            raise ValueError(
                f"A Categorical({self.size}) code takes an int in [0, {self.size}) or an int array of "
                f"length {num_samples}; got shape {value.shape} with values {value.min(initial=0)}.."
                f"{value.max(initial=0)}."
            )
        return np.eye(self.size, dtype="float32")[value]

    def get_config(self):
        return {"num_categories": self.num_categories}


@keras.saving.register_keras_serializable(package="keras_wgangp")
class Uniform(LatentCode):
    """A continuous code of `dims` independent values, each ~ U[low, high].

    InfoGAN's continuous codes use U[−1, 1]. Q predicts the mean of a unit
    variance Gaussian for each value.

    Args:
        dims: Number of values.
        low: Lower bound.
        high: Upper bound.

    Examples:
        >>> Uniform(2).columns(np.array([[0.0, 0.75]])).numpy().tolist()
        [[-1.0, 0.5]]
    """

    def __init__(self, dims: int = 1, low: float = -1.0, high: float = 1.0):
        self.dims = check_count("dims", dims, 1)
        self.low, self.high = float(low), float(high)
        if not self.low < self.high:
            raise ValueError(f"Uniform code needs low < high, got low={low!r}, high={high!r}.")
        self.size = self.random_columns = self.dims

    def columns(self, uniform):
        return self.low + (self.high - self.low) * keras.ops.cast(uniform, "float32")

    def negative_log_likelihood(self, q, columns):
        error = keras.ops.cast(columns, "float32") - keras.ops.cast(q, "float32")
        return keras.ops.mean(0.5 * keras.ops.square(error)) + 0.5 * math.log(2.0 * math.pi)

    def fixed_columns(self, value, num_samples):
        value = np.asarray(value, dtype="float32")
        try:
            return np.broadcast_to(value, (num_samples, self.dims)).astype("float32")
        except ValueError:
            raise ValueError(
                f"A Uniform({self.dims}) code takes a float, a ({self.dims},) array or a "
                f"({num_samples}, {self.dims}) array; got shape {value.shape}."
            ) from None

    def get_config(self):
        return {"dims": self.dims, "low": self.low, "high": self.high}


def from_uniform(codes: list[LatentCode], uniform: Tensor) -> Tensor:
    """All codes' generator columns from one draw `(batch, Σ random_columns)` of U[0, 1).

    Args:
        codes: The latent codes.
        uniform: The uniform draw.

    Returns:
        A float32 tensor `(batch, Σ size)`.

    Examples:
        >>> from_uniform([Categorical(2), Uniform(1)], np.array([[0.7, 0.5]])).numpy().tolist()
        [[0.0, 1.0, 0.0]]
    """
    parts, start = [], 0
    for code in codes:
        parts.append(code.columns(uniform[:, start : start + code.random_columns]))
        start += code.random_columns
    return keras.ops.concatenate(parts, axis=-1)


def mutual_information_penalty(codes: list[LatentCode], q: Tensor, columns: Tensor) -> Tensor:
    """−Σ_codes E log Q(c | G(z, c)): the negative InfoGAN lower bound, minus H(c).

    Args:
        codes: The latent codes.
        q: The critic's Q outputs `(batch, Σ size)`.
        columns: The code columns the fakes were generated from `(batch, Σ size)`.

    Returns:
        A float32 scalar.

    Examples:
        >>> q = np.array([[0.0, 0.0, 1.0]])  # uniform logits, then μ = 1
        >>> c = np.array([[1.0, 0.0, 1.0]])
        >>> codes = [Categorical(2), Uniform(1)]
        >>> round(float(mutual_information_penalty(codes, q, c)), 4)  # log 2 + log(2π)/2
        1.6121
    """
    total, start = 0.0, 0
    for code in codes:
        stop = start + code.size
        total = total + code.negative_log_likelihood(q[:, start:stop], columns[:, start:stop])
        start = stop
    return total


def get(identifier) -> LatentCode:
    """Resolves a `LatentCode` instance or its config dict.

    Args:
        identifier: A `LatentCode` or a config from `keras.saving.serialize_keras_object`.

    Returns:
        A `LatentCode`.

    Examples:
        >>> get(keras.saving.serialize_keras_object(Uniform(2)))
        Uniform(dims=2, low=-1.0, high=1.0)
    """
    return resolve(identifier, {}, LatentCode, "latent code")
