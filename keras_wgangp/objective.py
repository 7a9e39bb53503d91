"""The objective: a GAN's two losses as sums of small terms.

In the manner of optax's `chain`, the objective is a list of `Term`
objects, each contributing `weight × value` to the critic loss, the
generator loss or both, and logging its own metrics:

| term | critic loss | generator loss |
|---|---|---|
| `PenaltyTerm(penalty)` | `penalty.compute(D, r, f)` | – |
| `AdversarialTerm(loss)` | `loss.critic_loss(D(r), D(f))` | `loss.generator_loss(D(f), D(r))` |
| `ClassifierTerm(w)` (ACGAN) | w·(CE(D_cls(r), y) + CE(D_cls(f), y)) | w·CE(D_cls(f), y) |
| `InformationTerm(codes, w)` (InfoGAN) | w·(−E log Q(c \\| G(z, c))) | the same |

A term sees one update through a `Batch`: the real and generated examples,
the critic's outputs on them (`Scores`), the labels and codes, the score
function the penalties differentiate, and the model's seed generator.
A new kind of term is a new `Term` subclass, not a new branch in the
training step.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import keras

from keras_wgangp import backends, codes, losses, penalties
from keras_wgangp.conditioning import Scores

__all__ = [
    "AdversarialTerm",
    "Batch",
    "ClassifierTerm",
    "InformationTerm",
    "Objective",
    "PenaltyTerm",
    "Term",
    "cross_entropy",
    "from_options",
    "record",
]

Tensor = Any
ops = keras.ops


@dataclass
class Batch:
    """What one update's losses see.

    Attributes:
        real: Real examples (packed, for PacGAN), or None in a generator
            update whose loss needs no real scores.
        fake: Generated examples (packed); in a generator update they carry
            the generator's gradient.
        fake_scores: The critic's outputs on `fake`, a `Scores`.
        real_scores: The critic's outputs on `real`, a `Scores`, or None.
        labels: int class ids of both batches, or None.
        codes: The InfoGAN code columns the fakes were generated from, or None.
        critic: x ↦ D(x) with the labels bound: what a penalty differentiates.
        seed: The model's `keras.random.SeedGenerator`.
        iteration: The critic optimizer's update count before this update.

    Examples:
        >>> batch = Batch(real=None, fake=keras.ops.zeros((2, 2)), fake_scores=Scores(keras.ops.ones((2,))))
        >>> float(keras.ops.mean(batch.fake_scores.score))
        1.0
    """

    real: Tensor | None
    fake: Tensor
    fake_scores: Scores
    real_scores: Scores | None = None
    labels: Tensor | None = None
    codes: Tensor | None = None
    critic: Any = None
    seed: Any = None
    iteration: Any = 0


def cross_entropy(labels: Tensor, logits: Tensor) -> Tensor:
    """Mean sparse categorical cross-entropy of `logits`, in float32.

    Args:
        labels: int class ids `(batch,)`.
        logits: Class logits `(batch, K)`.

    Returns:
        A float32 scalar.

    Examples:
        >>> round(float(cross_entropy(keras.ops.array([0, 1]), keras.ops.zeros((2, 2)))), 6)  # log 2
        0.693147
    """
    logits = ops.cast(logits, "float32")
    return ops.mean(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True))


class Term:
    """One summand of the objective: subclass it for a new kind of term.

    `critic(batch)` and `generator(batch)` return `(value, logs)` or None
    when the term takes no part in that loss; the objective adds
    `weight × value`. `logs` maps names in `metric_names` to float32
    scalars, or to `(value, sample_weight)` pairs whose epoch mean counts
    only the updates with weight 1 (lazy penalties use this).

    Examples:
        >>> class Drift(Term):  # ProGAN's ε·E[D(x)²] on real scores
        ...     metric_names = ("drift",)
        ...     def critic(self, batch):
        ...         drift = keras.ops.mean(keras.ops.square(batch.real_scores.score))
        ...         return drift, {"drift": drift}
        >>> batch = Batch(None, None, Scores(keras.ops.zeros(2)), real_scores=Scores(keras.ops.ones(2)))
        >>> loss, logs = Objective([Drift(weight=1e-3)]).critic_loss(batch)
        >>> round(float(loss), 6), float(logs["drift"])
        (0.001, 1.0)
    """

    metric_names: tuple[str, ...] = ()

    def __init__(self, weight: float = 1.0):
        self.weight = weight

    def critic(self, batch: Batch):
        return None

    def generator(self, batch: Batch):
        return None


class AdversarialTerm(Term):
    """The adversarial loss (`keras_wgangp.losses`): both losses, weight 1.

    Its metrics are the loss's own (`loss.metric_names`), computed after each
    critic update by `after_critic_update` (BEGAN updates its k there).

    Args:
        loss: An `AdversarialLoss`.

    Examples:
        >>> term = AdversarialTerm(losses.Wasserstein())
        >>> real, fake = Scores(keras.ops.array([3.0])), Scores(keras.ops.array([1.0]))
        >>> batch = Batch(None, None, fake, real_scores=real)
        >>> float(term.critic(batch)[0]), float(term.generator(batch)[0])
        (-2.0, -1.0)
    """

    def __init__(self, loss: losses.AdversarialLoss):
        super().__init__(1.0)
        self.loss = loss
        self.metric_names = tuple(loss.metric_names)

    def critic(self, batch):
        return self.loss.critic_loss(batch.real_scores.score, batch.fake_scores.score), {}

    def generator(self, batch):
        real = None if batch.real_scores is None else batch.real_scores.score
        return self.loss.generator_loss(batch.fake_scores.score, real), {}

    def after_critic_update(self, real_scores, fake_scores) -> dict:
        return self.loss.after_critic_update(real_scores, fake_scores)


class PenaltyTerm(Term):
    """A critic penalty (`keras_wgangp.penalties`), which carries its own weight
    (λ, or γ/2 for R1 and R2), so the term's weight is 1.

    With `penalty.every = N` (lazy regularisation) it runs on critic updates
    0, N, 2N, … only, multiplied by N there, and its metrics average the
    updates where it ran.

    Args:
        penalty: A `Penalty`.

    Examples:
        >>> critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="ones")])
        >>> real = keras.ops.zeros((4, 2))
        >>> batch = Batch(real, None, None, critic=critic)
        >>> value, logs = PenaltyTerm(penalties.R1(gamma=10.0)).critic(batch)
        >>> float(value), float(logs["r1"])  # 10/2·‖(1, 1)‖²
        (10.0, 2.0)
    """

    def __init__(self, penalty: penalties.Penalty):
        super().__init__(1.0)
        self.penalty = penalty
        self.metric_names = tuple(penalty.metric_names)
        # Penalties written before weights took schedules have no `iteration`.
        self._takes_iteration = "iteration" in inspect.signature(penalty.compute).parameters

    def _compute(self, batch):
        options = {"iteration": batch.iteration} if self._takes_iteration else {}
        term, values = self.penalty.compute(batch.critic, batch.real, batch.fake, seed=batch.seed, **options)
        return term, [ops.cast(values[name], "float32") for name in self.metric_names]

    def critic(self, batch):
        every = self.penalty.every
        if every == 1:
            term, values = self._compute(batch)
            return term, dict(zip(self.metric_names, values, strict=True))

        def skip():
            return ops.zeros((), "float32"), [ops.zeros((), "float32") for _ in self.metric_names]

        run = ops.equal(batch.iteration % every, 0)
        term, values = backends.current().lazy(run, lambda: self._compute(batch), skip)
        ran = ops.cast(run, "float32")
        return every * term, {
            name: (value, ran) for name, value in zip(self.metric_names, values, strict=True)
        }


class ClassifierTerm(Term):
    """ACGAN's auxiliary classifier (Odena et al. 2017).

    critic: CE(real logits, y) + CE(fake logits, y); generator: CE(fake
    logits, y). Logs `classifier_loss` (the critic's two terms) and
    `classifier_accuracy` (on real examples).

    Args:
        weight: The terms' weight.

    Examples:
        >>> y = keras.ops.array([0, 1])
        >>> logits = Scores(keras.ops.zeros(2), logits=keras.ops.array([[2.0, 0.0], [0.0, 2.0]]))
        >>> value, logs = ClassifierTerm().critic(Batch(None, None, logits, real_scores=logits, labels=y))
        >>> round(float(value), 4), float(logs["classifier_accuracy"])
        (0.2539, 1.0)
    """

    metric_names = ("classifier_loss", "classifier_accuracy")

    def critic(self, batch):
        real_logits = batch.real_scores.logits
        value = cross_entropy(batch.labels, real_logits) + cross_entropy(
            batch.labels, batch.fake_scores.logits
        )
        predicted = ops.cast(ops.argmax(real_logits, axis=-1), batch.labels.dtype)
        accuracy = ops.mean(ops.cast(ops.equal(predicted, batch.labels), "float32"))
        return value, {"classifier_loss": value, "classifier_accuracy": accuracy}

    def generator(self, batch):
        return cross_entropy(batch.labels, batch.fake_scores.logits), {}


class InformationTerm(Term):
    """InfoGAN's mutual-information term (Chen et al. 2016), in both losses.

    The negative lower bound −Σ_codes E log Q(c | G(z, c)) at the fakes
    (`keras_wgangp.codes.mutual_information_penalty`); logged as
    `info_loss` in the generator update.

    Args:
        latent_codes: The InfoGAN codes.
        weight: λ.

    Examples:
        >>> term = InformationTerm([codes.Uniform(1)])
        >>> ones = keras.ops.ones((1, 1))
        >>> batch = Batch(None, None, Scores(keras.ops.zeros(1), q=ones), codes=ones)
        >>> round(float(term.generator(batch)[0]), 4)  # log(2π)/2
        0.9189
    """

    metric_names = ("info_loss",)

    def __init__(self, latent_codes, weight: float = 1.0):
        super().__init__(weight)
        self.latent_codes = list(latent_codes)

    def _value(self, batch):
        return codes.mutual_information_penalty(self.latent_codes, batch.fake_scores.q, batch.codes)

    def critic(self, batch):
        return self._value(batch), {}

    def generator(self, batch):
        value = self._value(batch)
        return value, {"info_loss": value}


class Objective:
    """The terms of a GAN's losses, summed in order, and their metrics.

    Metric names are made unique across terms (a second `r1` logs as
    `r1_2`); the first term's names win.

    Args:
        terms: `Term` objects; the first `AdversarialTerm` is the loss whose
            `after_critic_update` runs after each critic update.

    Examples:
        >>> objective = Objective([AdversarialTerm(losses.Hinge()), PenaltyTerm(penalties.R1())])
        >>> objective.metric_names
        ['real_score', 'fake_score', 'r1']
    """

    RESERVED = ("loss", "critic_loss", "generator_loss")

    def __init__(self, terms):
        self.terms = list(terms)
        taken, self._renames = set(self.RESERVED), []
        for term in self.terms:
            renames = {}
            for name in term.metric_names:
                unique, i = name, 2
                while unique in taken:
                    unique, i = f"{name}_{i}", i + 1
                taken.add(unique)
                renames[name] = unique
            self._renames.append(renames)

    @property
    def metric_names(self) -> list[str]:
        """Every term's logged names, in order."""
        return [name for renames in self._renames for name in renames.values()]

    @property
    def adversarial(self) -> AdversarialTerm | None:
        return next((t for t in self.terms if isinstance(t, AdversarialTerm)), None)

    def _total(self, part: str, batch: Batch) -> tuple[Tensor, dict]:
        total, logs = None, {}
        for term, renames in zip(self.terms, self._renames, strict=True):
            result = getattr(term, part)(batch)
            if result is None:
                continue
            value, term_logs = result
            value = value if term.weight == 1.0 else term.weight * value
            total = value if total is None else total + value
            logs.update({renames[name]: log for name, log in term_logs.items()})
        return (ops.zeros((), "float32") if total is None else total), logs

    def critic_loss(self, batch: Batch) -> tuple[Tensor, dict]:
        """Σ weight × value of the terms' critic parts, and their logs."""
        return self._total("critic", batch)

    def generator_loss(self, batch: Batch) -> tuple[Tensor, dict]:
        """Σ weight × value of the terms' generator parts, and their logs."""
        return self._total("generator", batch)

    def after_critic_update(self, real_scores, fake_scores) -> dict:
        """The adversarial loss's metrics (and state update) after a critic update."""
        term = self.adversarial
        if term is None:
            return {}
        renames = self._renames[self.terms.index(term)]
        values = term.after_critic_update(real_scores, fake_scores)
        return {renames[name]: values[name] for name in term.metric_names}


def from_options(
    loss, penalty=None, classifier_weight=None, latent_codes=(), info_weight: float = 1.0
) -> Objective:
    """The objective of `GAN`'s options: the penalties, the loss, then ACGAN's and InfoGAN's terms.

    The order is the order of the logged metrics (and of the sum).

    Args:
        loss: An `AdversarialLoss` (the model's own copy).
        penalty: `Penalty` objects, in order.
        classifier_weight: ACGAN's weight, or None.
        latent_codes: InfoGAN's codes.
        info_weight: InfoGAN's λ.

    Returns:
        An `Objective`.

    Examples:
        >>> [type(t).__name__ for t in from_options(losses.Wasserstein(), [penalties.R1()], 1.0).terms]
        ['PenaltyTerm', 'AdversarialTerm', 'ClassifierTerm']
    """
    terms = [PenaltyTerm(p) for p in (penalty or [])] + [AdversarialTerm(loss)]
    if classifier_weight is not None:
        terms.append(ClassifierTerm(classifier_weight))
    if latent_codes:
        terms.append(InformationTerm(latent_codes, info_weight))
    return Objective(terms)


def stack_updates(updates: list) -> tuple:
    """Joins several updates' `(loss, logs)` into one: each value becomes a vector of them.

    `record` then adds them to the epoch means in one metric update, which
    gives the same means as one update per value.

    Args:
        updates: `(loss, logs)` pairs with the same log names; a value is a
            scalar or a `(value, sample_weight)` pair (lazy terms).

    Returns:
        `(losses, logs)`: the losses as a vector, and each log as a vector or
        a pair of vectors.

    Examples:
        >>> losses, logs = stack_updates([(1.0, {"r1": (2.0, 1.0)}), (3.0, {"r1": (0.0, 0.0)})])
        >>> values, weights = (keras.ops.convert_to_numpy(v).tolist() for v in logs["r1"])
        >>> keras.ops.convert_to_numpy(losses).tolist(), values, weights
        ([1.0, 3.0], [2.0, 0.0], [1.0, 0.0])
    """

    def stack(values):
        return ops.stack([ops.cast(value, "float32") for value in values])

    losses = stack([loss for loss, _ in updates])
    logs = {}
    for name, first in updates[0][1].items():
        values = [update_logs[name] for _, update_logs in updates]
        if isinstance(first, tuple):
            logs[name] = (stack([v for v, _ in values]), stack([w for _, w in values]))
        else:
            logs[name] = stack(values)
    return losses, logs


def record(metrics, logs: dict) -> None:
    """Adds one update's logs to the model's epoch-mean metrics, by name.

    Args:
        metrics: The model's `keras.metrics.Mean` objects.
        logs: Values, or `(value, sample_weight)` pairs (lazy terms).

    Returns:
        None.

    Examples:
        >>> mean = keras.metrics.Mean(name="r1")
        >>> record([mean], {"r1": (keras.ops.array(4.0), 1.0)}); record([mean], {"r1": (0.0, 0.0)})
        >>> float(mean.result())  # the update where it did not run does not count
        4.0
    """
    by_name = {metric.name: metric for metric in metrics}
    for name, value in logs.items():
        if name not in by_name:
            raise ValueError(
                f"The loss logged {name!r}, which has no metric: add keras.metrics.Mean(name={name!r}) "
                "to the model and list it in `metrics`, or drop it from the logs."
            )
        value, weight = value if isinstance(value, tuple) else (value, None)
        by_name[name].update_state(value, sample_weight=weight)
