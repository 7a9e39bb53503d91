"""Gradient penalties, as pure functions of a critic and tensors.

The WGAN-GP penalty of Gulrajani et al., "Improved Training of Wasserstein
GANs" (arXiv:1704.00028, eq. 3 and Algorithm 1):

    GP = E_x̂ [ (‖∇_x̂ D(x̂)‖₂ − 1)² ],   x̂ = ε·x_real + (1 − ε)·x_fake,

with ε ~ U[0, 1] drawn once per example. The norm is taken per example over
all non-batch axes, so the same code serves vectors, sequences and images.

The penalty objects (`GradientPenalty`, `DRAGAN`, `R1`, `R2`) share one
input-gradient routine, `squared_gradient_norms`, which differentiates with
the Keras backend's own autodiff (a nested `tf.GradientTape`, `jax.grad`, or
`torch.autograd.grad(create_graph=True)`); the arithmetic around it is
`keras.ops`, so every penalty works on TensorFlow, JAX and PyTorch.
`skip_zero_second_derivatives` is a TensorFlow speed-up and does nothing on
the other backends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import keras

from keras_wgangp import _autodiff, _zero_skip
from keras_wgangp._options import (
    Configurable,
    check_count,
    check_scheduled_weight,
    check_weight,
    is_schedule,
    resolve,
    weight_at,
    weight_config,
)
from keras_wgangp._random import draw

Tensor = Any  # a backend tensor: tf.Tensor, jax.Array or torch.Tensor

__all__ = [
    "DRAGAN",
    "NAMES",
    "GradientPenalty",
    "Penalty",
    "R1",
    "R2",
    "get",
    "gradient_norms",
    "gradient_penalty",
    "interpolate",
    "penalty_from_norms",
    "sample_epsilon",
    "skip_zero_second_derivatives",
    "squared_gradient_norms",
]


def sample_epsilon(batch_size, rank: int, seed=None, dtype: str = "float32") -> Tensor:
    """Draws the interpolation weights ε ~ U[0, 1], one per example.

    The result has shape `(batch_size, 1, ..., 1)` with `rank` axes in all, so
    it broadcasts over every non-batch axis of an example: one ε per example,
    never one per element.

    Args:
        batch_size: Number of examples (an int or a scalar tensor; dynamic
            batch sizes are fine).
        rank: Rank of the data tensors, batch axis included (2 for vectors,
            4 for NHWC images).
        seed: `None`, an int, or a `keras.random.SeedGenerator`.
        dtype: Float dtype of the result.

    Returns:
        A tensor of shape `(batch_size,) + (1,) * (rank - 1)`.

    Examples:
        >>> eps = sample_epsilon(8, rank=4, seed=0)
        >>> tuple(eps.shape)
        (8, 1, 1, 1)
    """
    if not isinstance(batch_size, int):
        batch_size = keras.ops.reshape(keras.ops.cast(batch_size, "int32"), ())
    return draw(keras.random.uniform, batch_size, (1,) * (rank - 1), seed=seed, dtype=dtype)


def interpolate(real: Tensor, fake: Tensor, epsilon: Tensor) -> Tensor:
    """Returns x̂ = ε·real + (1 − ε)·fake (Algorithm 1, line 6).

    Args:
        real: Real examples, shape `(batch, ...)`.
        fake: Generated examples, same shape as `real`.
        epsilon: Weights broadcastable to `real`, normally from
            `sample_epsilon`.

    Returns:
        The interpolates, same shape as `real`.

    Examples:
        >>> ops = keras.ops
        >>> x = interpolate(ops.zeros((2, 3)), ops.ones((2, 3)), ops.array([[0.25], [1.0]]))
        >>> ops.convert_to_numpy(x).tolist()
        [[0.75, 0.75, 0.75], [0.0, 0.0, 0.0]]
    """
    epsilon = keras.ops.cast(epsilon, real.dtype)
    return fake + epsilon * (real - fake)


def _safe_norm(squared: Tensor) -> Tensor:
    # sqrt has an infinite derivative at 0, which turns into NaN in the
    # critic's gradient when ∇D(x̂) is exactly zero. The double `where` keeps
    # both the value (0) and its gradient (0) finite there, with no bias
    # elsewhere (unlike sqrt(s + eps)).
    positive = squared > 0.0
    safe = keras.ops.where(positive, squared, keras.ops.ones_like(squared))
    return keras.ops.where(positive, keras.ops.sqrt(safe), keras.ops.zeros_like(squared))


def gradient_norms(critic: Callable, inputs: Tensor, training: bool = True) -> Tensor:
    """Returns ‖∇ₓ D(x)‖₂ for each example of `inputs`, in float32.

    The gradient is taken with the backend's autodiff (an inner
    `tf.GradientTape`, `jax.grad` or `torch.autograd.grad`), so the result is
    itself differentiable with respect to the critic's weights (the
    second-order term WGAN-GP needs). The norm is computed in float32 even
    under a mixed-precision policy.

    Args:
        critic: A callable (normally a `keras.Model`) mapping a batch to one
            score per example.
        inputs: The points x, shape `(batch, ...)`.
        training: Passed to the critic if it is a Keras layer.

    Returns:
        A float32 tensor of shape `(batch,)`.

    Examples:
        >>> critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> tuple(gradient_norms(critic, keras.ops.zeros((4, 2))).shape)
        (4,)
    """
    return _safe_norm(squared_gradient_norms(critic, inputs, training))


def squared_gradient_norms(critic: Callable, inputs: Tensor, training: bool = True) -> Tensor:
    """Returns ‖∇ₓ D(x)‖₂² for each example of `inputs`, in float32.

    The input-gradient routine every penalty shares: the gradient is taken on
    an inner tape (so the result is differentiable with respect to the
    critic's weights) and squared and summed over every non-batch axis.
    `gradient_norms` is its square root; R1 and R2 use it directly, which
    needs no square root at all.

    Args:
        critic: A callable mapping a batch to one score per example.
        inputs: The points x, shape `(batch, ...)`.
        training: Passed to the critic if it is a Keras layer.

    Returns:
        A float32 tensor of shape `(batch,)`.

    Examples:
        >>> critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="ones")])
        >>> keras.ops.convert_to_numpy(squared_gradient_norms(critic, keras.ops.zeros((3, 2)))).tolist()
        [2.0, 2.0, 2.0]
    """
    # The gradient of the sum, not the mean: each example's score depends
    # only on that example, so d(sum)/dx_i = dD(x_i)/dx_i exactly.
    grads = _autodiff.input_gradients(lambda x: _call(critic, x, training), inputs)
    axes = tuple(range(1, len(grads.shape)))
    return keras.ops.sum(keras.ops.square(grads), axis=axes)


def penalty_from_norms(norms: Tensor, target_norm: float = 1.0) -> Tensor:
    """Returns mean((norms − target_norm)²), the two-sided penalty of eq. 3.

    Args:
        norms: Per-example gradient norms, shape `(batch,)`.
        target_norm: The Lipschitz constant the critic is pushed towards.

    Returns:
        A float32 scalar.

    Examples:
        >>> float(penalty_from_norms(keras.ops.array([0.0, 2.0])))
        1.0
    """
    norms = keras.ops.cast(norms, "float32")
    return keras.ops.mean(keras.ops.square(norms - target_norm))


def gradient_penalty(
    critic: Callable,
    real: Tensor,
    fake: Tensor,
    *,
    target_norm: float = 1.0,
    seed=None,
    epsilon: Tensor | None = None,
    training: bool = True,
) -> Tensor:
    """The WGAN-GP gradient penalty E[(‖∇D(x̂)‖₂ − target_norm)²].

    From Gulrajani et al. 2017, "Improved Training of Wasserstein GANs",
    eq. 3: x̂ = ε·real + (1 − ε)·fake with ε ~ U[0, 1] drawn once per example;
    the gradient norm is taken per example over every non-batch axis and the
    penalty is averaged over the batch. Multiply by λ (`gp_weight`, 10 in the
    paper) before adding it to the critic loss.

    Args:
        critic: Callable mapping a batch to one score per example.
        real: Real examples, shape `(batch, ...)`; any rank ≥ 2.
        fake: Generated examples, same shape as `real`.
        target_norm: Target gradient norm (1 in the paper).
        seed: `None`, int or `keras.random.SeedGenerator` for ε.
        epsilon: Optional explicit ε of shape `(batch, 1, ..., 1)`; overrides
            `seed`. Useful for tests and for reproducing a step exactly.
        training: Passed to the critic.

    Returns:
        A float32 scalar tensor.

    Examples:
        >>> critic = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        >>> gp = gradient_penalty(critic, keras.ops.zeros((8, 3)), keras.ops.ones((8, 3)), seed=1)
        >>> tuple(gp.shape)
        ()
    """
    real, fake = _as_pair(real, fake)
    if len(real.shape) < 2:
        raise ValueError(f"gradient_penalty needs batched inputs of rank >= 2; got shape {real.shape}.")
    if epsilon is None:
        epsilon = sample_epsilon(_rows(real), len(real.shape), seed=seed)
    x_hat = interpolate(real, fake, epsilon)
    return penalty_from_norms(gradient_norms(critic, x_hat, training), target_norm)


@contextlib.contextmanager
def skip_zero_second_derivatives() -> Iterator[bool]:
    """Skips backpropagating exact zeros through the penalty's forward pass.

    The outer gradient of a gradient penalty differentiates the inner
    backward pass. For ReLU, LeakyReLU and ReLU6 that backward pass depends
    on the pre-activations only through a step function, so TensorFlow's
    second-derivative functions return a tensor of zeros for them, and
    `tf.GradientTape` then backpropagates those zeros through the whole
    forward pass of the critic on x̂ (one wasted backward pass per critic
    update: about 20 % of a conv critic's step on CPU). Inside this context
    those zeros are reported as "no gradient" instead, so the tape skips the
    path. The gradients are unchanged (adding zeros is exact); only the work
    differs. Activations with curvature (ELU, softplus, tanh, ...) are
    untouched.

    Wrap the `tape.gradient(...)` call of the outer (critic-weight) tape,
    and inside a `tf.function` apply the gradients under
    `tf.control_dependencies([loss])`: a bias gradient then no longer
    depends on the forward pass on x̂, and TensorFlow does not order that
    pass's use of the bias before the bias update by itself.
    `GAN`'s TensorFlow step (`keras_wgangp.backends.tensorflow_step`) does
    both. On JAX and PyTorch
    this context does nothing and yields `False`. The gradient functions are looked
    up when the gradient is built, so inside a `tf.function` the context
    only needs to be active while tracing. While it is active,
    gradient-function lookups are patched process-wide; a lock serialises
    concurrent users. A variable reachable only through such a zero path
    gets `None` (not connected) instead of zeros, as for any unconnected
    variable.

    Yields:
        `True` if the skipping is active, `False` if this TensorFlow
        version's gradient registry has an unexpected layout (then nothing
        is patched and gradients are computed the usual way).

    Examples:
        >>> critic = keras.Sequential(
        ...     [keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
        ... )
        >>> import tensorflow as tf
        >>> x_hat = tf.random.uniform((4, 2))
        >>> with tf.GradientTape() as tape:
        ...     penalty = penalty_from_norms(gradient_norms(critic, x_hat))
        >>> with skip_zero_second_derivatives():
        ...     grads = tape.gradient(penalty, critic.trainable_variables)
        >>> [tuple(g.shape) for g in grads if g is not None]
        [(2, 8), (8, 1)]
    """
    if keras.backend.backend() != "tensorflow":
        yield False  # the other backends have no such gradient registry
        return
    with _zero_skip.patched_registry() as active:
        yield active


def _call(critic, inputs, training):
    if isinstance(critic, keras.layers.Layer):
        return critic(inputs, training=training)
    return critic(inputs)


# ------------------------------------------------------------ penalty objects
# Each object is called as penalty(critic, real, fake, seed=None) and returns
# the weighted float32 term that is added to the critic loss. `compute` also
# returns the metrics a model logs: the unweighted penalty under the
# penalty's name (as WGANGP has always logged `gradient_penalty`) and, for
# the norm-based ones, the mean gradient norm.


class Penalty(Configurable):
    """Base class of the critic penalties: subclass it for your own.

    Subclasses set `name` and `metric_names` and implement
    `compute(critic, real, fake, seed=None)`, returning `(term, metrics)`:
    the weighted scalar term and a dict with one float32 scalar per name in
    `metric_names`. Options are constructor arguments returned by
    `get_config`. Calling the object returns the term alone.

    Weights follow a schedule: the built-in penalties' weight (λ, or γ)
    is a float or a `keras.optimizers.schedules.LearningRateSchedule`,
    evaluated at `iteration`, the critic optimizer's update count (which a
    `GAN` passes; 0 when called directly), saved in the config and logged
    as `<name>_<option>` (for example `r1_gamma`).

    Lazy regularisation (Karras et al. 2020, StyleGAN2, sec. B): with
    `every=N`, a `GAN` computes the penalty on every N-th critic update only
    (the 1st, (N+1)-th, ... counted by the critic optimizer's iterations)
    and multiplies it by N there, so its average weight is unchanged while
    N − 1 of N updates skip its cost. Calling the object directly ignores
    `every`.

    Args:
        every: Compute the penalty on one critic update in `every`.
    """

    name = "penalty"
    metric_names: tuple[str, ...] = ()
    weight_option = "weight"  # the constructor option a schedule may drive

    def __init__(self, every: int = 1):
        self.every = check_count("every", every)

    def _set_weight(self, value) -> None:
        value = check_scheduled_weight(self.weight_option, value)
        setattr(self, self.weight_option, value)
        if is_schedule(value):  # log the scheduled value too
            self.metric_names = (*type(self).metric_names, f"{self.name}_{self.weight_option}")

    def _weighted(self, scale: float, value, logs: dict, iteration) -> tuple[Tensor, dict]:
        # scale·weight(iteration)·value, and the weight's value in the logs when it is scheduled.
        option = getattr(self, self.weight_option)
        weight = weight_at(option, iteration)
        if is_schedule(option):
            logs[f"{self.name}_{self.weight_option}"] = weight
        return scale * weight * value, logs

    def compute(self, critic, real, fake, seed=None, iteration=None) -> tuple[Tensor, dict]:
        raise NotImplementedError

    def __call__(self, critic, real, fake, seed=None, iteration=None) -> Tensor:
        return self.compute(critic, real, fake, seed=seed, iteration=iteration)[0]

    def get_config(self) -> dict:
        return {"every": self.every}


@keras.saving.register_keras_serializable(package="keras_wgangp")
class GradientPenalty(Penalty):
    """The WGAN-GP penalty (Gulrajani et al. 2017, eq. 3), two- or one-sided.

    weight·mean((‖∇D(x̂)‖ − target)²) at x̂ = ε·real + (1 − ε)·fake, one
    ε ~ U[0, 1] per example. With `one_sided=True` only norms above the
    target are penalised, weight·mean(max(0, ‖∇D(x̂)‖ − target)²)
    (Petzka et al. 2018, WGAN-LP). Logs `gradient_penalty` (unweighted) and
    `gradient_norm` (mean ‖∇D(x̂)‖).

    Args:
        weight: λ, 10 in the paper; a float or a `LearningRateSchedule`.
        target: The gradient norm the penalty pulls towards.
        one_sided: Penalise only norms above `target`.
        every: Lazy regularisation: compute it on one critic update in `every`,
            weighted ×`every` (see `Penalty`).

    Examples:
        >>> critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="ones")])
        >>> real, fake = keras.ops.zeros((4, 2)), keras.ops.ones((4, 2))
        >>> round(float(GradientPenalty()(critic, real, fake, seed=0)), 4)  # 10·(√2 − 1)²
        1.7157
    """

    name = "gradient_penalty"
    metric_names = ("gradient_penalty", "gradient_norm")

    def __init__(self, weight: float = 10.0, target: float = 1.0, one_sided: bool = False, every: int = 1):
        super().__init__(every)
        self._set_weight(weight)
        self.target = float(target)
        self.one_sided = bool(one_sided)

    def compute(self, critic, real, fake, seed=None, iteration=None):
        real, fake = _as_pair(real, fake)
        epsilon = sample_epsilon(_rows(real), len(real.shape), seed=seed)
        norms = gradient_norms(critic, interpolate(real, fake, epsilon))
        excess = norms - self.target
        if self.one_sided:
            excess = keras.ops.relu(excess)
        value = keras.ops.mean(keras.ops.square(excess))
        logs = {"gradient_penalty": value, "gradient_norm": keras.ops.mean(norms)}
        return self._weighted(1.0, value, logs, iteration)

    def get_config(self):
        return {
            "weight": weight_config(self.weight),
            "target": self.target,
            "one_sided": self.one_sided,
            "every": self.every,
        }


def _rows(x):
    # A Python int when the batch size is static keeps the draws' shapes static.
    return x.shape[0] if x.shape[0] is not None else keras.ops.shape(x)[0]


def _as_pair(real, fake):
    real = keras.ops.convert_to_tensor(real)
    return real, keras.ops.cast(keras.ops.convert_to_tensor(fake), real.dtype)


@keras.saving.register_keras_serializable(package="keras_wgangp")
class DRAGAN(Penalty):
    """The DRAGAN penalty (Kodali et al. 2017): the two-sided gradient
    penalty around the real data, ignoring the fakes.

    weight·mean((‖∇D(x̂)‖ − 1)²) at x̂ = r + α·δ with δ = perturbation·std(r)·u:
    std is taken over the whole real batch (per replica under a distribution
    strategy), u ~ U[0, 1) per element and α ~ U[0, 1] per example. Logs
    `dragan` (unweighted) and `dragan_gradient_norm`.

    Args:
        weight: λ (10 in the paper); a float or a `LearningRateSchedule`.
        perturbation: The noise scale c (0.5 in the paper).
        every: Lazy regularisation (see `Penalty`).

    Examples:
        >>> critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="ones")])
        >>> round(float(DRAGAN()(critic, keras.random.normal((8, 2)), None, seed=0)), 4)  # 10·(√2 − 1)²
        1.7157
    """

    name = "dragan"
    metric_names = ("dragan", "dragan_gradient_norm")

    def __init__(self, weight: float = 10.0, perturbation: float = 0.5, every: int = 1):
        super().__init__(every)
        self._set_weight(weight)
        self.perturbation = check_weight("perturbation", perturbation)

    def compute(self, critic, real, fake=None, seed=None, iteration=None):
        real = keras.ops.convert_to_tensor(real)
        if isinstance(seed, int):  # two draws: derive distinct streams from one int
            seed = keras.random.SeedGenerator(seed)
        rows, rank = _rows(real), len(real.shape)
        if None in real.shape[1:]:
            noise = keras.random.uniform(keras.ops.shape(real), seed=seed, dtype=real.dtype)
        else:
            noise = draw(keras.random.uniform, rows, tuple(real.shape[1:]), seed=seed, dtype=real.dtype)
        delta = self.perturbation * keras.ops.std(real) * noise
        alpha = sample_epsilon(rows, rank, seed=seed, dtype=real.dtype)
        norms = gradient_norms(critic, real + alpha * delta)
        value = keras.ops.mean(keras.ops.square(norms - 1.0))
        logs = {"dragan": value, "dragan_gradient_norm": keras.ops.mean(norms)}
        return self._weighted(1.0, value, logs, iteration)

    def get_config(self):
        return {"weight": weight_config(self.weight), "perturbation": self.perturbation, "every": self.every}


@keras.saving.register_keras_serializable(package="keras_wgangp")
class R1(Penalty):
    """The R1 penalty (Mescheder et al. 2018, eq. 9): γ/2·mean ‖∇D(r)‖² at
    the real points. Logs `r1`, the unweighted mean ‖∇D(r)‖².

    Args:
        gamma: γ (10 in the paper's experiments); a float or a `LearningRateSchedule`.
        every: Lazy regularisation (see `Penalty`); StyleGAN2 uses 16.

    Examples:
        >>> critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="ones")])
        >>> float(R1(gamma=10.0)(critic, keras.ops.zeros((4, 2)), None))  # 10/2·‖(1, 1)‖²
        10.0
    """

    name = "r1"
    metric_names = ("r1",)
    weight_option = "gamma"

    def __init__(self, gamma: float = 10.0, every: int = 1):
        super().__init__(every)
        self._set_weight(gamma)

    def _points(self, real, fake):
        return real

    def compute(self, critic, real, fake=None, seed=None, iteration=None):
        points = keras.ops.convert_to_tensor(self._points(real, fake))
        value = keras.ops.mean(squared_gradient_norms(critic, points))
        return self._weighted(0.5, value, {self.name: value}, iteration)

    def get_config(self):
        return {"gamma": weight_config(self.gamma), "every": self.every}


@keras.saving.register_keras_serializable(package="keras_wgangp")
class R2(R1):
    """The R2 penalty (Mescheder et al. 2018, eq. 10): γ/2·mean ‖∇D(f)‖² at
    the generated points. Logs `r2`, the unweighted mean ‖∇D(f)‖².

    Args:
        gamma: γ; a float or a `LearningRateSchedule`.
        every: Lazy regularisation (see `Penalty`).

    Examples:
        >>> critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="ones")])
        >>> float(R2(gamma=2.0)(critic, None, keras.ops.zeros((4, 2))))
        2.0
    """

    name = "r2"
    metric_names = ("r2",)

    def _points(self, real, fake):
        return fake


_PENALTIES = {
    "gradient_penalty": GradientPenalty,
    "gp": GradientPenalty,
    "one_sided_gradient_penalty": lambda: GradientPenalty(one_sided=True),
    "dragan": DRAGAN,
    "r1": R1,
    "r2": R2,
}


NAMES = tuple(_PENALTIES)  # the names `get` resolves


def get(identifier) -> Penalty:
    """Resolves a penalty name, config or object to a `Penalty`.

    Args:
        identifier: One of `gradient_penalty` (alias `gp`),
            `one_sided_gradient_penalty`, `dragan`, `r1`, `r2` (each with its
            default weight); a config dict from
            `keras.saving.serialize_keras_object`; or a `Penalty` instance
            (returned as is).

    Returns:
        A `Penalty`.

    Examples:
        >>> get("one_sided_gradient_penalty")
        GradientPenalty(weight=10.0, target=1.0, one_sided=True, every=1)
    """
    return resolve(identifier, _PENALTIES, Penalty, "penalty")
