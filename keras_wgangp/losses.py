"""Adversarial losses as functions and objects of critic scores.

The Wasserstein functions follow Arjovsky et al. 2017 ("Wasserstein GAN",
arXiv:1701.07875) as used by Gulrajani et al. 2017 (arXiv:1704.00028,
Algorithm 1): the critic minimises E[D(x̃)] − E[D(x)] (+ λ·GP) and the
generator minimises −E[D(G(z))]. The loss objects below cover the other
objectives of the GAN family; each docstring cites its paper. Everything
reduces in float32, so it is safe under mixed precision, and is written with
`keras.ops`, so it runs on any Keras backend.
"""

from __future__ import annotations

from typing import Any

import keras

from keras_wgangp._options import Configurable, resolve

Tensor = Any  # a tensor of the Keras backend, or anything keras.ops converts (arrays, lists)

__all__ = [
    "AdversarialLoss",
    "BEGAN",
    "Hinge",
    "LeastSquares",
    "Minimax",
    "NonSaturating",
    "RelativisticAverage",
    "Wasserstein",
    "critic_loss",
    "generator_loss",
    "NAMES",
    "get",
    "wasserstein_estimate",
]


def _mean(scores) -> Tensor:
    return keras.ops.mean(keras.ops.cast(scores, "float32"))


def critic_loss(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """Critic loss without penalty: mean D(fake) − mean D(real).

    Args:
        real_scores: Critic scores of real examples, shape `(batch,)` or `(batch, 1)`.
        fake_scores: Critic scores of generated examples.

    Returns:
        A float32 scalar.

    Examples:
        >>> float(critic_loss([2.0, 4.0], [1.0]))
        -2.0
    """
    return _mean(fake_scores) - _mean(real_scores)


def generator_loss(fake_scores: Tensor) -> Tensor:
    """Generator loss: −mean D(G(z)).

    Args:
        fake_scores: Critic scores of generated examples.

    Returns:
        A float32 scalar.

    Examples:
        >>> float(generator_loss([1.0, 3.0]))
        -2.0
    """
    return -_mean(fake_scores)


def wasserstein_estimate(real_scores: Tensor, fake_scores: Tensor) -> Tensor:
    """The critic's estimate of W(P_real, P_fake): mean D(real) − mean D(fake).

    It is the negative of `critic_loss` and is the quantity the paper plots to
    show training progress (it falls as the generator improves).

    Args:
        real_scores: Critic scores of real examples.
        fake_scores: Critic scores of generated examples.

    Returns:
        A float32 scalar.

    Examples:
        >>> float(wasserstein_estimate([2.0], [0.5]))
        1.5
    """
    return _mean(real_scores) - _mean(fake_scores)


# ---------------------------------------------------------------- loss objects
# The adversarial objectives a GAN can train with, as serializable objects
# with one interface: `critic_loss(real_scores, fake_scores)` and
# `generator_loss(fake_scores, real_scores=None)`, on raw critic outputs
# (logits) of shape (batch,) or (batch, 1), reduced in float32.


def _softplus_mean(x) -> Tensor:
    return keras.ops.mean(keras.ops.softplus(keras.ops.cast(x, "float32")))


class AdversarialLoss(Configurable):
    """Base class of the adversarial losses: subclass it for your own.

    Subclasses implement `critic_loss` and `generator_loss`; options are
    constructor arguments returned by `get_config`, so a model that holds a
    loss saves and reloads it with the same type and parameters.

    Two hooks let a model log and update what a loss needs:
    `metric_names` and `after_critic_update(real_scores, fake_scores)`,
    which runs after each critic update and returns one float32 scalar per
    metric name (by default the mean real and fake scores), and `build()`,
    which creates any state variables (BEGAN's k) for the model to track
    and save. A loss whose generator loss needs the real scores sets
    `generator_needs_real_scores = True`.
    """

    name = "adversarial_loss"
    metric_names: tuple[str, ...] = ("real_score", "fake_score")
    generator_needs_real_scores = False

    def critic_loss(self, real_scores, fake_scores) -> Tensor:
        raise NotImplementedError

    def generator_loss(self, fake_scores, real_scores=None) -> Tensor:
        raise NotImplementedError

    def build(self) -> list:
        """Creates and returns the loss's state variables (none by default)."""
        return []

    def after_critic_update(self, real_scores, fake_scores) -> dict:
        """Updates any state after a critic update; returns the metrics to log."""
        return {"real_score": _mean(real_scores), "fake_score": _mean(fake_scores)}


@keras.saving.register_keras_serializable(package="keras_wgangp")
class Wasserstein(AdversarialLoss):
    """The Wasserstein loss (Arjovsky et al. 2017; Gulrajani et al. 2017).

    critic: mean D(f) − mean D(r); generator: −mean D(f). Pair it with a
    Lipschitz constraint (a gradient penalty or weight clipping).

    Examples:
        >>> loss = Wasserstein()
        >>> float(loss.critic_loss([2.0, 4.0], [1.0])), float(loss.generator_loss([1.0, 3.0]))
        (-2.0, -2.0)
    """

    name = "wasserstein"
    metric_names = ("wasserstein_estimate",)

    def critic_loss(self, real_scores, fake_scores):
        return critic_loss(real_scores, fake_scores)

    def after_critic_update(self, real_scores, fake_scores):
        return {"wasserstein_estimate": wasserstein_estimate(real_scores, fake_scores)}

    def generator_loss(self, fake_scores, real_scores=None):
        return generator_loss(fake_scores)


@keras.saving.register_keras_serializable(package="keras_wgangp")
class Hinge(AdversarialLoss):
    """The hinge loss (Lim & Ye 2017; Miyato et al. 2018, SN-GAN).

    critic: mean relu(m − D(r)) + mean relu(m + D(f)); generator: −mean D(f).

    Args:
        margin: m, 1 in the papers.

    Examples:
        >>> float(Hinge().critic_loss([2.0, 0.5], [-3.0, 0.0]))  # (0 + 0.5)/2 + (0 + 1)/2
        0.75
    """

    name = "hinge"

    def __init__(self, margin: float = 1.0):
        self.margin = float(margin)

    def critic_loss(self, real_scores, fake_scores):
        real = keras.ops.cast(real_scores, "float32")
        fake = keras.ops.cast(fake_scores, "float32")
        return keras.ops.mean(keras.ops.relu(self.margin - real)) + keras.ops.mean(
            keras.ops.relu(self.margin + fake)
        )

    def generator_loss(self, fake_scores, real_scores=None):
        return generator_loss(fake_scores)

    def get_config(self):
        return {"margin": self.margin}


@keras.saving.register_keras_serializable(package="keras_wgangp")
class NonSaturating(AdversarialLoss):
    """The original GAN's critic loss with the non-saturating generator loss
    (Goodfellow et al. 2014, section 3).

    critic: binary cross-entropy on logits, real target t and fake target 0:
    mean[t·softplus(−D(r)) + (1 − t)·softplus(D(r))] + mean softplus(D(f));
    generator: mean softplus(−D(f)) = −mean log σ(D(f)).

    Args:
        label_smoothing: s; the real target is t = 1 − s/2, the convention of
            `keras.losses.BinaryCrossentropy` (s = 0.2 gives Salimans et al.'s
            one-sided target 0.9). Only the critic's real term is smoothed.

    Examples:
        >>> round(float(NonSaturating().generator_loss([0.0])), 6)  # log 2
        0.693147
    """

    name = "non_saturating"

    def __init__(self, label_smoothing: float = 0.0):
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"`label_smoothing` must be in [0, 1], got {label_smoothing!r}.")
        self.label_smoothing = float(label_smoothing)

    def critic_loss(self, real_scores, fake_scores):
        target = 1.0 - 0.5 * self.label_smoothing
        real = keras.ops.cast(real_scores, "float32")
        real_term = target * _softplus_mean(-real) + (1.0 - target) * _softplus_mean(real)
        return real_term + _softplus_mean(fake_scores)

    def generator_loss(self, fake_scores, real_scores=None):
        return _softplus_mean(-keras.ops.cast(fake_scores, "float32"))

    def get_config(self):
        return {"label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="keras_wgangp")
class Minimax(NonSaturating):
    """The original minimax GAN (Goodfellow et al. 2014, eq. 1).

    critic: as `NonSaturating`; generator: mean log(1 − σ(D(f))) =
    −mean softplus(D(f)), which saturates when the critic rejects the fakes
    (the reason the paper proposes the non-saturating form).

    Examples:
        >>> round(float(Minimax().generator_loss([0.0])), 6)  # log(1/2)
        -0.693147
    """

    name = "minimax"

    def generator_loss(self, fake_scores, real_scores=None):
        return -_softplus_mean(fake_scores)


@keras.saving.register_keras_serializable(package="keras_wgangp")
class LeastSquares(AdversarialLoss):
    """The least-squares GAN loss (Mao et al. 2017, LSGAN, eq. 2).

    critic: ½ mean (D(r) − a)² + ½ mean (D(f) − b)²; generator:
    ½ mean (D(f) − a)², with a = `real_label` and b = `fake_label` (the
    paper's b = c = 1, a = 0 coding).

    Examples:
        >>> float(LeastSquares().critic_loss([1.0, 3.0], [0.0]))
        1.0
    """

    name = "least_squares"

    def __init__(self, real_label: float = 1.0, fake_label: float = 0.0):
        self.real_label = float(real_label)
        self.fake_label = float(fake_label)

    @staticmethod
    def _half_mean_square(scores, target):
        return 0.5 * keras.ops.mean(keras.ops.square(keras.ops.cast(scores, "float32") - target))

    def critic_loss(self, real_scores, fake_scores):
        real = self._half_mean_square(real_scores, self.real_label)
        return real + self._half_mean_square(fake_scores, self.fake_label)

    def generator_loss(self, fake_scores, real_scores=None):
        return self._half_mean_square(fake_scores, self.real_label)

    def get_config(self):
        return {"real_label": self.real_label, "fake_label": self.fake_label}


@keras.saving.register_keras_serializable(package="keras_wgangp")
class RelativisticAverage(AdversarialLoss):
    """The relativistic average GAN loss (Jolicoeur-Martineau 2019, RaSGAN).

    critic: mean softplus(−(D(r) − mean D(f))) + mean softplus(D(f) − mean D(r));
    generator: the same with real and fake swapped, so it needs the real
    scores too.

    Examples:
        >>> loss = RelativisticAverage()
        >>> float(loss.critic_loss([1.0], [1.0])) == float(loss.generator_loss([1.0], [1.0]))
        True
    """

    name = "relativistic_average"
    generator_needs_real_scores = True

    def critic_loss(self, real_scores, fake_scores):
        real = keras.ops.cast(keras.ops.reshape(real_scores, [-1]), "float32")
        fake = keras.ops.cast(keras.ops.reshape(fake_scores, [-1]), "float32")
        return _softplus_mean(keras.ops.mean(fake) - real) + _softplus_mean(fake - keras.ops.mean(real))

    def generator_loss(self, fake_scores, real_scores=None):
        if real_scores is None:
            raise ValueError(
                "RelativisticAverage.generator_loss needs `real_scores`: the generator's loss "
                "compares its fakes with the average real score."
            )
        return self.critic_loss(fake_scores, real_scores)


@keras.saving.register_keras_serializable(package="keras_wgangp")
class RelativisticPairing(AdversarialLoss):
    """The relativistic pairing loss (RpGAN; Jolicoeur-Martineau 2019, and R3GAN's
    loss, Huang et al. 2024): each real example against the fake of its pair.

    critic: mean softplus(−(D(rᵢ) − D(fᵢ))); generator: mean softplus(−(D(fᵢ) − D(rᵢ))).
    With R1 and R2 its training dynamics converge locally (Huang et al. 2024,
    sec. 2). Both batches must have the same size; the generator's loss needs
    the real scores too. Name `relativistic_pairing`, alias `rpgan`.

    Examples:
        >>> loss = RelativisticPairing()
        >>> real, fake = [-5.0, 1.4, 12.5, 2.7], [10.0, 4.4, -5.5, 3.6]  # TF-GAN's test logits
        >>> round(float(loss.critic_loss(real, fake)), 6), round(float(loss.generator_loss(fake, real)), 6)
        (4.822435, 4.597435)
    """

    name = "relativistic_pairing"
    generator_needs_real_scores = True

    def critic_loss(self, real_scores, fake_scores):
        real = keras.ops.cast(keras.ops.reshape(real_scores, [-1]), "float32")
        fake = keras.ops.cast(keras.ops.reshape(fake_scores, [-1]), "float32")
        return _softplus_mean(fake - real)

    def generator_loss(self, fake_scores, real_scores=None):
        if real_scores is None:
            raise ValueError(
                "RelativisticPairing.generator_loss needs `real_scores`: each fake is compared "
                "with the real example of its pair."
            )
        return self.critic_loss(fake_scores, real_scores)


@keras.saving.register_keras_serializable(package="keras_wgangp")
class BEGAN(AdversarialLoss):
    """The BEGAN loss (Berthelot et al. 2017, "BEGAN: Boundary Equilibrium
    Generative Adversarial Networks", eq. 4).

    The critic is an autoencoder whose score for an example is its
    reconstruction error L(x) = mean |x − AE(x)| (see
    `keras_wgangp.architectures.began_critic`). critic: mean L(r) − k·mean L(f);
    generator: mean L(f). After each critic update
    k ← clip(k + λ_k·(γ·mean L(r) − mean L(f)), 0, 1), starting from 0, which
    keeps mean L(f) near γ·mean L(r). Logs `k` (after the update) and the
    convergence measure mean L(r) + |γ·mean L(r) − mean L(f)|. A model
    holding this loss keeps k as one of its (saved) variables.

    Args:
        gamma: γ, the diversity ratio E[L(G(z))] / E[L(x)] the updates aim for
            (0.5 in the paper; lower gives sharper, less varied samples).
        lambda_k: λ_k, the step size of k (0.001 in the paper).

    Examples:
        >>> loss = BEGAN(gamma=0.5)
        >>> float(loss.critic_loss([0.4, 0.6], [0.1]))  # mean L(r) − 0·mean L(f)
        0.5
        >>> logs = loss.after_critic_update([0.4, 0.6], [0.1])  # k += 0.001·(0.25 − 0.1)
        >>> round(float(logs["k"]), 6), round(float(logs["convergence"]), 6)
        (0.00015, 0.65)
    """

    name = "began"
    metric_names = ("k", "convergence")

    def __init__(self, gamma: float = 0.5, lambda_k: float = 0.001):
        if not gamma > 0:
            raise ValueError(f"`gamma` must be > 0, got {gamma!r}.")
        if not lambda_k >= 0:
            raise ValueError(f"`lambda_k` must be >= 0, got {lambda_k!r}.")
        self.gamma = float(gamma)
        self.lambda_k = float(lambda_k)
        self.k = None

    def build(self):
        # "mean": under a distribution strategy the replicas' updates average.
        self.k = keras.Variable(
            0.0, dtype="float32", trainable=False, autocast=False, aggregation="mean", name="began_k"
        )
        return [self.k]

    def critic_loss(self, real_scores, fake_scores):
        k = 0.0 if self.k is None else keras.ops.convert_to_tensor(self.k)
        return _mean(real_scores) - k * _mean(fake_scores)

    def generator_loss(self, fake_scores, real_scores=None):
        return _mean(fake_scores)

    def after_critic_update(self, real_scores, fake_scores):
        if self.k is None:
            self.build()
        real, fake = _mean(real_scores), _mean(fake_scores)
        balance = self.gamma * real - fake
        k = keras.ops.clip(self.k + self.lambda_k * balance, 0.0, 1.0)
        self.k.assign(k)
        return {"k": k, "convergence": real + keras.ops.abs(balance)}

    def get_config(self):
        return {"gamma": self.gamma, "lambda_k": self.lambda_k}


_LOSSES = {
    cls.name: cls
    for cls in (
        Wasserstein,
        Hinge,
        NonSaturating,
        Minimax,
        LeastSquares,
        RelativisticAverage,
        RelativisticPairing,
        BEGAN,
    )
}
_LOSSES["rpgan"] = RelativisticPairing


NAMES = tuple(_LOSSES)  # the names `get` resolves


def get(identifier) -> AdversarialLoss:
    """Resolves a loss name, config or object to an `AdversarialLoss`.

    Args:
        identifier: One of the names `wasserstein`, `hinge`, `non_saturating`,
            `minimax`, `least_squares`, `relativistic_average`,
            `relativistic_pairing` (alias `rpgan`), `began`; a config dict
            from `keras.saving.serialize_keras_object`; or an
            `AdversarialLoss` instance (returned as is).

    Returns:
        An `AdversarialLoss`.

    Examples:
        >>> get("hinge")
        Hinge(margin=1.0)
    """
    return resolve(identifier, _LOSSES, AdversarialLoss, "loss")
