"""`GAN`: a Keras model that trains any generator and critic with a pluggable
adversarial loss and penalties.

The math lives in `losses.py` and `penalties.py`, the input pipeline in
`pipeline.py`, serving in `export.py`. This file orchestrates: `compile`,
`fit`, the training step, the generator EMA, saving and validation. The
TensorFlow-only parts of the step (GradientTape, the zero-skipping context,
control dependencies) are in `train_step` and its helpers.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np

from keras_wgangp import backends, codes, losses, penalties, pipeline
from keras_wgangp._options import check_num_classes
from keras_wgangp._random import OrderedSeedGenerator, draw
from keras_wgangp.export import export_generator

__all__ = ["GAN"]

ops = keras.ops
# The backend's gradient, update and control-flow primitives (see `backends`).
_step = backends.current()


def _dcgan_adam() -> keras.optimizers.Optimizer:
    # Radford et al. 2016 (DCGAN): α = 2e-4, β1 = 0.5, β2 = 0.999.
    return keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5, beta_2=0.999)


def _infer_latent_dim(generator, conditional: bool, code_size: int) -> int:
    try:
        shape = generator.input_shape
    except (AttributeError, ValueError):
        shape = None
    if conditional and isinstance(shape, list) and len(shape) == 2:
        shape = shape[0]  # [(batch, latent_dim), (batch,)]
    if isinstance(shape, (list, tuple)) and len(shape) == 2 and isinstance(shape[1], int):
        if shape[1] - code_size < 1:
            raise ValueError(
                f"The generator takes {shape[1]} latent inputs, but the latent codes alone need "
                f"{code_size}; give it latent_dim + {code_size} inputs (z, then the codes)."
            )
        return int(shape[1]) - code_size
    expected = (
        "[(batch, latent_dim), (batch,)] inputs" if conditional else "a single (batch, latent_dim) input"
    )
    raise ValueError(
        f"Could not infer `latent_dim` from the generator (it has no {expected}; "
        f"input_shape={shape!r}). Pass `latent_dim=` explicitly."
    )


def _pack(x, pack: int):
    """PacGAN packing: (B, ..., C) -> (B/pack, ..., pack·C), consecutive rows
    joined along the last axis (features for vectors, channels for images).
    Rows past the last full pack are dropped."""
    if pack == 1:
        return x
    shape = ops.shape(x)
    packs = shape[0] // pack
    x = x[: packs * pack]
    inner = tuple(x.shape[1:])
    x = ops.reshape(x, (packs, pack) + inner)
    if len(inner) > 1:  # move the pack axis next to the channels
        x = ops.moveaxis(x, 1, -2)
    return ops.reshape(x, (packs,) + inner[:-1] + (pack * inner[-1],))


def _multi_worker(strategy) -> bool:
    import tensorflow as tf

    extended = getattr(strategy, "extended", None)
    in_multi_worker = getattr(extended, "_in_multi_worker_mode", lambda: False)
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and in_multi_worker()


def _with_loss_scaling(optimizer, role: str):
    # float16 needs dynamic loss scaling to keep small gradients from
    # flushing to zero; bfloat16 has float32's range and needs none.
    policy = keras.mixed_precision.global_policy()
    if policy.name == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer, name=f"{role}_loss_scale_optimizer")
    return optimizer


def _clone_generator(generator, example_inputs):
    """A structurally identical copy of `generator`, with the same weights."""
    if not generator.built:
        generator(example_inputs)
    try:
        clone = keras.models.clone_model(generator)
    except Exception:  # subclassed models: rebuild from their config
        clone = generator.__class__.from_config(generator.get_config())
    if not clone.built:
        clone(example_inputs)
    clone.set_weights(generator.get_weights())
    clone.trainable = False
    return clone


def _portable(config):
    """An optimizer config that deserializes on every backend. PyTorch's
    built-in optimizers serialize under their backend module (for example
    `keras.src.backend.torch.optimizers.torch_adam`), which the other
    backends cannot import; the public `keras.optimizers` name resolves to
    each backend's own class."""
    if isinstance(config, dict) and str(config.get("module", "")).startswith("keras.src.backend."):
        config = {**config, "module": "keras.optimizers"}
    return config


def _seeded_draw(kind: str, shape, seed) -> np.ndarray:
    """float32 N(0, 1) or U[0, 1) values: TensorFlow's stateless draw for an
    int seed (the same numbers on every Keras backend and in the exported
    SavedModel), the backend's own fresh draw for seed=None."""
    if seed is None:
        draw_fn = keras.random.normal if kind == "normal" else keras.random.uniform
        return keras.ops.convert_to_numpy(draw_fn(shape))
    import tensorflow as tf

    draw_fn = tf.random.stateless_normal if kind == "normal" else tf.random.stateless_uniform
    return draw_fn(shape, seed=[int(seed), 0]).numpy()


def _has_batch_norm(model) -> bool:
    layers = model._flatten_layers() if hasattr(model, "_flatten_layers") else []
    return any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers)


def _check_pack(pack, num_classes, latent_codes) -> int:
    if isinstance(pack, bool) or not isinstance(pack, (int, np.integer)) or pack < 1:
        raise ValueError(f"`pack` must be an integer >= 1 (1: no packing), got {pack!r}.")
    if pack > 1 and (num_classes is not None or latent_codes):
        raise ValueError(
            "`pack` > 1 (PacGAN) scores groups of examples, so it cannot be combined with "
            "num_classes (one label per example) or latent_codes (one code per example); "
            "use pack=1 for conditional and InfoGAN models."
        )
    return int(pack)


def _fresh(obj):
    # Each model owns its loss and penalty objects (BEGAN's k is per model).
    return type(obj).from_config(obj.get_config())


def _check_penalties(penalty) -> list:
    if penalty is None:
        return []
    items = list(penalty) if isinstance(penalty, (list, tuple)) else [penalty]
    return [_fresh(penalties.get(item)) for item in items]


def _check_codes(latent_codes) -> list:
    if latent_codes is None:
        return []
    if not isinstance(latent_codes, (list, tuple)):
        latent_codes = [latent_codes]
    return [_fresh(codes.get(code)) for code in latent_codes]


def _cross_entropy(labels, logits):
    return keras.ops.mean(
        keras.ops.sparse_categorical_crossentropy(labels, keras.ops.cast(logits, "float32"), from_logits=True)
    )


class _Scores:
    """The critic's outputs for one batch, split into score, class logits and Q."""

    def __init__(self, outputs, classifier: bool, info: bool):
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        self.score = ops.reshape(outputs.pop(0), (-1,))
        self.logits = outputs.pop(0) if classifier else None
        self.q = outputs.pop(0) if info else None


class _ScoreFunction:
    """x ↦ the critic's score at x, with the labels bound: what a penalty differentiates."""

    def __init__(self, critic, labels, multi_output: bool):
        self.critic, self.labels, self.multi_output = critic, labels, multi_output

    def __call__(self, x, training=True):
        out = self.critic(x if self.labels is None else [x, self.labels], training=training)
        return out[0] if self.multi_output else out


def _metric_names(adversarial_loss, penalty_list, extra=()) -> list[list[str]]:
    """Per penalty, its metric names, made unique across penalties and the loss."""
    taken = {"loss", "critic_loss", "generator_loss", *adversarial_loss.metric_names, *extra}
    result = []
    for penalty in penalty_list:
        names = []
        for name in penalty.metric_names:
            unique, i = name, 2
            while unique in taken:
                unique, i = f"{name}_{i}", i + 1
            taken.add(unique)
            names.append(unique)
        result.append(names)
    return result


@keras.saving.register_keras_serializable(package="keras_wgangp")
class GAN(_step.Trainer, keras.Model):
    """A generative adversarial network with a pluggable loss and penalties.

    `fit` trains with the alternating scheme of Algorithm 1 of Gulrajani et
    al. 2017: every `train_step` makes `critic_steps` critic updates, each
    on its own `batch_size` fresh real examples, followed by one generator
    update. A critic update minimises `loss.critic_loss(D(real), D(fake))`
    plus the sum of the penalties' terms; the generator update minimises
    `loss.generator_loss(D(G(z)))`. Losses are in `keras_wgangp.losses`,
    penalties in `keras_wgangp.penalties`; `WGANGP` is this class with the
    Wasserstein loss, the gradient penalty and 5 critic steps.

    How batching works: `fit` groups `critic_steps × batch_size` real
    examples into one element of the input pipeline and `train_step` splits
    that element into `critic_steps` slices of `batch_size`. An epoch of
    N examples therefore makes `ceil(N / (critic_steps·batch_size))` generator
    updates and `critic_steps` times as many critic updates. A last, partial
    group of n examples is split into `critic_steps` slices of
    `ceil(n / critic_steps)` (wrapping around to reuse fewer than
    `critic_steps` examples), so the critic always gets exactly
    `critic_steps` updates per generator update. The generator update
    uses a fresh latent batch of the same size; a loss whose generator term
    needs real scores (relativistic) scores the last real slice again.

    Logged metrics, each averaged over the epoch: `critic_loss` (penalties
    included), `generator_loss`, the loss's own metrics (for example
    `wasserstein_estimate`, or `real_score` and `fake_score`, the mean raw
    critic outputs), and each penalty's unweighted value and mean gradient
    norm. `loss` repeats `critic_loss` because stock callbacks such as
    `keras.callbacks.TerminateOnNaN` read `loss`.

    Conditional generation (`num_classes=K`): labels are int class ids in
    [0, K) of shape `(batch,)`, given to `fit(x, y)` or in a dataset of
    `(x, y)` batches. The generator is called as `generator([z, y])` and the
    critic as `critic([x, y])`. Each critic update generates its fakes with
    the labels of its real batch, so a penalty's interpolates pair examples
    of one class, and the penalties pass those labels to the critic at
    every point they differentiate. The generator update uses the labels
    of the last real batch, so the class mix follows the data.

    ACGAN (Odena et al. 2017): with `classifier_weight=w` the critic returns
    `[score, class_logits]`; the critic loss gains
    w·(CE(real logits, y) + CE(fake logits, y)) and the generator loss
    w·CE(fake logits, y), and `classifier_loss` (the critic's two terms,
    unweighted) and `classifier_accuracy` (on real examples) are logged.

    InfoGAN (Chen et al. 2016): with `latent_codes` (see
    `keras_wgangp.codes`) the generator's input is z concatenated with the
    codes' columns (`latent_dim` is the size of z alone), the critic returns
    its Q outputs last, and info_weight times the negative mutual
    information bound is added to both losses and logged as `info_loss`.

    Calling the model, `gan(inputs)`, is the same as `gan.generator(inputs)`.

    Backends: the step is written in `keras.ops` and trains on TensorFlow,
    JAX and PyTorch (`keras_wgangp.backends` holds the per-backend part);
    `.keras` files load under any backend.

    Args:
        generator: Any Keras model or layer mapping `(batch, latent_dim)`
            latents to examples shaped like the data.
        critic: Any Keras model or layer mapping a batch of examples to one
            raw score (logit) per example, shape `(batch, 1)` or `(batch,)`.
            Avoid BatchNormalization (a warning says why); use
            LayerNormalization.
        loss: An `AdversarialLoss` or its name: `"wasserstein"`, `"hinge"`,
            `"non_saturating"`, `"minimax"`, `"least_squares"`,
            `"relativistic_average"`, `"began"`.
        penalty: None, a `Penalty` or its name (`"gradient_penalty"`/`"gp"`,
            `"one_sided_gradient_penalty"`, `"dragan"`, `"r1"`, `"r2"`), or a
            list of them; their terms are summed into the critic loss.
        critic_steps: Critic updates per generator update.
        latent_dim: Size of z. Inferred from the generator's input shape
            when omitted.
        seed: Seed of the model's `keras.random.SeedGenerator`, which draws
            every latent and every penalty's random numbers inside
            `train_step`; its state is saved with the model.
        ema_decay: If set (e.g. 0.999), keep `generator_ema`, an exponential
            moving average of the generator's weights, updated after every
            generator step with decay min(ema_decay, (1 + t) / (10 + t)) at
            step t (the warm-up of `tf.train.ExponentialMovingAverage`);
            non-trainable weights (BatchNorm statistics) are copied. When
            enabled, `generate`, `export` and the sample callbacks use it;
            `call` and training always use the raw generator.
        clip_value: If set, clip every critic weight to [−c, c] after each
            critic update: the weight clipping of the original WGAN (Arjovsky
            et al. 2017; c = 0.01 there, with no penalty and RMSProp(5e-5)).
        num_classes: Number of classes K of a conditional GAN, or None.
        classifier_weight: ACGAN's weight of the auxiliary classifier terms;
            None for a critic without a classifier head. Needs `num_classes`.
        latent_codes: InfoGAN codes: a list of `keras_wgangp.codes` objects.
        info_weight: Weight of the mutual-information term (InfoGAN's λ).
        pack: PacGAN's packing degree m (Lin et al. 2018): the critic scores
            groups of m examples joined along the last axis, so it takes
            `(batch/m, ..., m·C)` (for toys `mlp_critic(input_dim=m·d)`;
            for images `m·C` channels). Real and fake batches are packed
            before the critic, so penalties are taken at interpolates of
            packed groups, one ε per group. Fakes are packed with fakes
            only. `batch_size` should be a multiple of m; a partial last
            group is padded by reusing examples. 1 (the default) packs
            nothing. Not with `num_classes` or `latent_codes`.
        **kwargs: Passed to `keras.Model` (for example `name`).

    The default optimizers (`compile()` with none given) are one
    Adam(2e-4, β1=0.5, β2=0.999) per network, the DCGAN setting of Radford
    et al. 2016; `WGANGP` uses the paper's Adam(1e-4, 0, 0.9) instead.

    Examples:

    >>> import keras_wgangp as kw
    >>> gan = kw.GAN(kw.architectures.mlp_generator(units=32),
    ...              kw.architectures.mlp_critic(units=32),
    ...              loss="hinge", penalty=kw.penalties.R1(gamma=1.0))
    >>> gan.compile()
    >>> history = gan.fit(kw.data.toy_samples("8gaussians", 256, seed=0),
    ...                   batch_size=64, epochs=1, verbose=0)
    >>> sorted(history.history)
    ['critic_loss', 'fake_score', 'generator_loss', 'loss', 'r1', 'real_score']
    >>> gan.generate(4, seed=0).shape
    (4, 2)
    """

    def __init__(
        self,
        generator,
        critic,
        loss="wasserstein",
        penalty=None,
        critic_steps: int = 1,
        latent_dim: int | None = None,
        seed: int | None = None,
        ema_decay: float | None = None,
        clip_value: float | None = None,
        num_classes: int | None = None,
        classifier_weight: float | None = None,
        latent_codes=None,
        info_weight: float = 1.0,
        pack: int = 1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for role, net in (("generator", generator), ("critic", critic)):
            if not isinstance(net, keras.layers.Layer):
                raise TypeError(f"`{role}` must be a Keras model or layer, got {type(net).__name__}.")
        if (
            isinstance(critic_steps, bool)
            or not isinstance(critic_steps, (int, np.integer))
            or critic_steps < 1
        ):
            raise ValueError(f"`critic_steps` must be an integer >= 1, got {critic_steps!r}.")
        if clip_value is not None and not clip_value > 0:
            raise ValueError(f"`clip_value` must be > 0 or None, got {clip_value!r}.")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"`ema_decay` must be in (0, 1) or None, got {ema_decay!r}.")
        self.num_classes = check_num_classes(num_classes)
        self.pack = _check_pack(pack, num_classes, latent_codes)
        if classifier_weight is not None:
            if self.num_classes is None:
                raise ValueError(
                    "`classifier_weight` (ACGAN) needs labels: pass num_classes=K too, with a critic "
                    "returning [score, class_logits]."
                )
            classifier_weight = penalties._check_weight("classifier_weight", classifier_weight)
        self.classifier_weight = classifier_weight
        self.latent_codes = _check_codes(latent_codes)
        self.info_weight = penalties._check_weight("info_weight", info_weight)
        self.code_size = sum(code.size for code in self.latent_codes)
        self.generator = generator
        self.critic = critic
        self.adversarial_loss = _fresh(losses.get(loss))
        self.penalties = _check_penalties(penalty)
        if latent_dim is None:
            latent_dim = _infer_latent_dim(generator, self.num_classes is not None, self.code_size)
        self.latent_dim = int(latent_dim)
        self.critic_steps = int(critic_steps)
        self.seed = seed
        self.clip_value = None if clip_value is None else float(clip_value)
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.generator_ema = None
        if ema_decay:
            self.generator_ema = _clone_generator(
                generator, self._generator_inputs(ops.zeros((1, self.input_dim)))
            )
        self.seed_generator = OrderedSeedGenerator(seed, name="wgangp_seed")
        # State of the loss (BEGAN's k): tracked, so saved with the weights.
        self.loss_variables = self.adversarial_loss.build()
        self.generator_optimizer = None
        self.critic_optimizer = None
        self._gan_compile_config = None

        # One critic call on concat(real, fake) is faster and identical for
        # critics without batch statistics; with BatchNorm it would mix the
        # two batches' statistics, so such critics get two separate calls.
        self._critic_uses_batch_stats = _has_batch_norm(critic)
        if self._critic_uses_batch_stats:
            warnings.warn(
                "The critic contains BatchNormalization. Gradient penalties are "
                "defined per example, but BatchNorm makes each score depend on the "
                "whole batch, so the penalised gradient is not the critic's "
                "per-example gradient (Gulrajani et al. 2017, sec. 4). Use "
                "keras.layers.LayerNormalization (or no normalization) instead.",
                UserWarning,
                stacklevel=2,
            )

        self.critic_loss_tracker = keras.metrics.Mean(name="critic_loss")
        self.generator_loss_tracker = keras.metrics.Mean(name="generator_loss")
        self.extra_trackers = {}
        if self.classifier_weight is not None:
            self.extra_trackers["classifier_loss"] = keras.metrics.Mean(name="classifier_loss")
            self.extra_trackers["classifier_accuracy"] = keras.metrics.Mean(name="classifier_accuracy")
        if self.latent_codes:
            self.extra_trackers["info_loss"] = keras.metrics.Mean(name="info_loss")
        self._penalty_metric_names = _metric_names(self.adversarial_loss, self.penalties, self.extra_trackers)
        self.penalty_trackers = [
            [keras.metrics.Mean(name=name) for name in names] for names in self._penalty_metric_names
        ]
        self.loss_metric_trackers = [
            keras.metrics.Mean(name=name) for name in self.adversarial_loss.metric_names
        ]
        if getattr(generator, "built", False) and getattr(critic, "built", False):
            self.built = True

    # ------------------------------------------------------------------ API
    def call(self, inputs, training=None):
        return self.generator(inputs, training=training)

    @property
    def metrics(self):
        # Listed here so Keras resets them every epoch and logs their
        # running means: each logged value is the average over the epoch.
        penalty_metrics = [tracker for trackers in self.penalty_trackers for tracker in trackers]
        return [
            self.critic_loss_tracker,
            self.generator_loss_tracker,
            *penalty_metrics,
            *self.loss_metric_trackers,
            *self.extra_trackers.values(),
        ]

    @property
    def input_dim(self) -> int:
        """Width of the generator's latent input: `latent_dim` plus the codes' columns."""
        return self.latent_dim + self.code_size

    @property
    def conditional(self) -> bool:
        """Whether the model is class-conditional (`num_classes` is set)."""
        return self.num_classes is not None

    def _generator_inputs(self, z, labels=None):
        if self.num_classes is None:
            return z
        if labels is None:
            labels = ops.zeros((ops.shape(z)[0],), "int32")
        return [z, labels]

    def _critic_inputs(self, x, labels):
        return x if self.num_classes is None else [x, labels]

    def _scores(self, outputs) -> _Scores:
        return _Scores(outputs, self.classifier_weight is not None, bool(self.latent_codes))

    @property
    def _critic_outputs(self) -> int:
        return 1 + (self.classifier_weight is not None) + bool(self.latent_codes)

    def _default_optimizer(self) -> keras.optimizers.Optimizer:
        return _dcgan_adam()

    def compile(
        self,
        generator_optimizer=None,
        critic_optimizer=None,
        *,
        steps_per_execution: int = 1,
        jit_compile="auto",
        run_eagerly: bool = False,
    ) -> None:
        """Sets the two optimizers and the execution options.

        Args:
            generator_optimizer: Optimizer instance, name or config for the
                generator. Defaults to a new instance of the class's default
                (see the class docstring).
            critic_optimizer: Same, for the critic; must be a separate instance.
            steps_per_execution: `train_step` calls per `tf.function` call.
            jit_compile: `"auto"` (Keras's choice: XLA on JAX, off for
                TensorFlow on CPU-only machines, eager on PyTorch), `True` or
                `False`.
            run_eagerly: Run `train_step` eagerly, for debugging.

        Returns:
            None.

        Examples:

        >>> import keras_wgangp as kw
        >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=16),
        ...                 kw.architectures.mlp_critic(units=16))
        >>> gan.compile(critic_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
        >>> round(float(gan.generator_optimizer.learning_rate), 8)  # a float32 variable
        0.0001
        """
        generator_optimizer = keras.optimizers.get(generator_optimizer) or self._default_optimizer()
        critic_optimizer = keras.optimizers.get(critic_optimizer) or self._default_optimizer()
        if generator_optimizer is critic_optimizer:
            raise ValueError(
                "generator_optimizer and critic_optimizer are the same object; "
                "each network needs its own optimizer instance (their moments "
                "and iteration counts must not be shared)."
            )
        super().compile(
            optimizer=None,
            steps_per_execution=steps_per_execution,
            jit_compile=jit_compile,
            run_eagerly=run_eagerly,
        )
        self.generator_optimizer = _with_loss_scaling(generator_optimizer, "generator")
        self.critic_optimizer = _with_loss_scaling(critic_optimizer, "critic")
        self._gan_compile_config = {
            "generator_optimizer": _portable(keras.saving.serialize_keras_object(generator_optimizer)),
            "critic_optimizer": _portable(keras.saving.serialize_keras_object(critic_optimizer)),
            "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile,
            "run_eagerly": run_eagerly,
        }
        # Built now (not lazily in fit) so that load_weights right after
        # compile restores the optimizer state too.
        self._build_optimizers()

    def get_compile_config(self):
        return dict(self._gan_compile_config or {})

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("generator_optimizer", "critic_optimizer"):
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(_portable(config[key]))
        # compile builds the optimizers, so the loader can then restore their
        # variables (iterations, moments) from the file.
        self.compile(**config)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "critic": keras.saving.serialize_keras_object(self.critic),
            "loss": keras.saving.serialize_keras_object(self.adversarial_loss),
            "penalty": [keras.saving.serialize_keras_object(p) for p in self.penalties],
            "critic_steps": self.critic_steps,
            "latent_dim": self.latent_dim,
            "seed": self.seed,
            "ema_decay": self.ema_decay,
            "clip_value": self.clip_value,
            "num_classes": self.num_classes,
            "classifier_weight": self.classifier_weight,
            "latent_codes": [keras.saving.serialize_keras_object(code) for code in self.latent_codes],
            "info_weight": self.info_weight,
            "pack": self.pack,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "critic", "loss"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        for key in ("penalty", "latent_codes"):
            if isinstance(config.get(key), list):
                config[key] = [keras.saving.deserialize_keras_object(item) for item in config[key]]
        trainable = config.pop("trainable", True)
        model = cls(**config)
        model.trainable = trainable
        return model

    _SEED_STATE_KEY = "seed_generator_state"

    def save_own_variables(self, store):
        super().save_own_variables(store)
        # The SeedGenerator's state is not a Keras-tracked weight; saving it
        # makes resumed runs draw the same latents and penalty noise.
        store[self._SEED_STATE_KEY] = keras.ops.convert_to_numpy(self.seed_generator.state)

    def load_own_variables(self, store):
        keys = list(store.keys())
        if self._SEED_STATE_KEY in keys:
            self.seed_generator.state.assign(np.asarray(store[self._SEED_STATE_KEY]))
            store = {k: store[k] for k in keys if k != self._SEED_STATE_KEY}
        super().load_own_variables(store)

    def export(
        self,
        filepath: str,
        format: str = "tf_saved_model",
        verbose: bool = True,
        overwrite: bool = False,
        **kwargs,
    ) -> None:
        """Exports the generator as a TensorFlow SavedModel for serving.

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
        draw with seed `seed + 1` (`keras_wgangp.codes.from_uniform`). The
        draw is the same on every backend, so a model moved between
        backends, and its exported `sample` endpoint, give the same samples.

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
            z = _seeded_draw("normal", (n, self.latent_dim), seed)
        else:
            z = np.asarray(latents, "float32")
            if z.shape != (n, self.latent_dim):
                raise ValueError(f"`latents` must have shape ({n}, {self.latent_dim}), got {z.shape}.")
        if self.latent_codes:
            z = np.concatenate([z, self._code_columns(n, seed, codes)], axis=1)
        elif codes is not None:
            raise ValueError("`codes` needs a model with latent_codes (InfoGAN); this model has none.")
        y = self._generation_labels(n, labels)
        chunks = []
        for i in range(0, n, batch_size):
            inputs = z[i : i + batch_size] if y is None else [z[i : i + batch_size], y[i : i + batch_size]]
            chunks.append(keras.ops.convert_to_numpy(self.sampling_generator(inputs, training=False)))
        if not chunks:
            shape = (0, self.input_dim) if y is None else [(0, self.input_dim), (0,)]
            out_shape = self.sampling_generator.compute_output_shape(shape)
            return np.zeros((0,) + tuple(out_shape[1:]), "float32")
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
        pipeline._check_label_range(labels, self.num_classes)
        return labels.astype("int32")

    def _code_columns(self, n: int, seed, fixed) -> np.ndarray:
        fixed = [None] * len(self.latent_codes) if fixed is None else list(fixed)
        if len(fixed) != len(self.latent_codes):
            raise ValueError(
                f"`codes` needs one entry per latent code ({len(self.latent_codes)}), got {len(fixed)}."
            )
        columns = sum(code.random_columns for code in self.latent_codes)
        uniform = _seeded_draw("uniform", (n, columns), None if seed is None else seed + 1)
        drawn = keras.ops.convert_to_numpy(codes.from_uniform(self.latent_codes, uniform))
        parts, start = [], 0
        for code, value in zip(self.latent_codes, fixed, strict=True):
            part = drawn[:, start : start + code.size]
            parts.append(part if value is None else code.fixed_columns(value, n))
            start += code.size
        return np.concatenate(parts, axis=1).astype("float32")

    @property
    def sampling_generator(self):
        """The network used for sampling: `generator_ema` if enabled, else `generator`."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    # ------------------------------------------------------------ training
    def fit(
        self,
        x=None,
        y=None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose="auto",
        callbacks=None,
        shuffle: bool = True,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        **kwargs,
    ):
        """Trains with alternating updates; see the class docstring for the batching.

        Args:
            x: A float NumPy array / tensor of real examples, or a
                `tf.data.Dataset` yielding batches `x`, `(x,)` or `(x, y)`.
            y: Labels of array data: int class ids in [0, num_classes),
                required by a conditional model and ignored otherwise.
            batch_size: Real examples per critic update. Defaults to 64 for
                arrays and to the dataset's own batch size for datasets.
            epochs: Passes over the data.
            verbose: As in `keras.Model.fit`.
            callbacks: Keras callbacks.
            shuffle: Reshuffle arrays every epoch (datasets are used as given).
            initial_epoch: As in `keras.Model.fit`.
            steps_per_epoch: Generator updates per epoch (each consumes
                `critic_steps` batches), for infinite datasets.
            **kwargs: Other `keras.Model.fit` arguments; validation data and
                sample/class weights are rejected, since a GAN has no
                validation loss to compute.

        Returns:
            A `keras.callbacks.History` whose `history` holds the metrics
            listed in the class docstring, each averaged over the epoch.
        """
        for unsupported in ("validation_data", "validation_split", "sample_weight", "class_weight"):
            if kwargs.get(unsupported):
                raise ValueError(f"{type(self).__name__}.fit does not support `{unsupported}`.")
            kwargs.pop(unsupported, None)
        if self.generator_optimizer is None:
            raise RuntimeError(f"Call `compile()` on the {type(self).__name__} model before `fit()`.")
        if self.pack > 1 and batch_size is not None and batch_size % self.pack:
            raise ValueError(
                f"`batch_size` ({batch_size}) must be a multiple of pack={self.pack}, so that "
                "every critic update scores whole packed groups."
            )
        # The epoch number seeds the array shuffle, so a run resumed at
        # epoch k (BackupAndRestore) sees the same order as an uninterrupted one.
        import tensorflow as tf  # the input pipeline is tf.data on every backend

        epoch_variable = tf.Variable(initial_epoch, dtype=tf.int64, trainable=False)
        dataset, (sample, sample_labels) = pipeline.make_dataset(
            x, batch_size, self.critic_steps, shuffle and epoch_variable, y=y, num_classes=self.num_classes
        )
        callbacks = list(callbacks or []) + [pipeline.EpochTracker(epoch_variable)]
        self._check_compatible(sample, sample_labels)
        self._build_optimizers()
        with warnings.catch_warnings():
            if steps_per_epoch is None:
                # A regrouped dataset has unknown length, so Keras finds the end
                # of the first epoch by running out of data; that is expected.
                warnings.filterwarnings("ignore", message="Your input ran out of data")
            return super().fit(
                dataset,
                epochs=epochs,
                verbose=verbose,
                callbacks=callbacks,
                shuffle=False,  # arrays were shuffled above; datasets are used as given
                initial_epoch=initial_epoch,
                steps_per_epoch=steps_per_epoch,
                **kwargs,
            )

    # ------------------------------------------------------ the training step
    # Written once in keras.ops; `train_step` itself comes from the backend's
    # `Trainer` mixin (keras_wgangp.backends), which calls `_train_step`.
    def _train_step(self, data):
        real_all, labels_all = pipeline.unpack_xy(data, self.conditional)
        k = self.critic_steps
        static_n = real_all.shape[0]
        if static_n is not None and static_n % k == 0 and (static_n // k) % self.pack == 0:
            # Full groups: Python-int sizes keep every shape static in the
            # graph, which the penalty's double backward needs to run fast.
            n = m = None
            rows = static_n // k
        else:
            n = ops.shape(real_all)[0]
            m = (n + k - 1) // k  # == batch_size except in a partial last group
            m = (m + self.pack - 1) // self.pack * self.pack  # whole packs
            rows = m
        replicas = _step.replicas(self)
        labels = None
        for i in range(k):
            if n is None:
                real = real_all[i * rows : (i + 1) * rows]
                if labels_all is not None:
                    labels = labels_all[i * rows : (i + 1) * rows]
            else:
                index = (ops.arange(m) + i * m) % n
                real = ops.take(real_all, index, axis=0)
                if labels_all is not None:
                    labels = ops.take(labels_all, index, axis=0)
            self._critic_update(real, labels, rows, replicas)
        g_loss = self._generator_update(real, labels, rows, replicas)
        if self.generator_ema is not None:
            self._update_ema()
        self.generator_loss_tracker.update_state(g_loss)
        logs = {metric.name: metric.result() for metric in self.metrics}
        logs["loss"] = logs["critic_loss"]
        if keras.backend.backend() == "tensorflow" and _multi_worker(self.distribute_strategy):
            # Keras reduces multi-worker logs with reduce(MEAN, axis=0), which
            # needs a batch axis; a length-1 vector reduces to the scalar.
            logs = {name: ops.reshape(value, (1,)) for name, value in logs.items()}
        return logs

    def _draw_latents(self, rows):
        """z for one batch, and the InfoGAN code columns (None without codes)."""
        z = draw(keras.random.normal, rows, (self.latent_dim,), seed=self.seed_generator)
        if not self.latent_codes:
            return z, None
        columns = sum(code.random_columns for code in self.latent_codes)
        uniform = draw(keras.random.uniform, rows, (columns,), seed=self.seed_generator)
        code_columns = codes.from_uniform(self.latent_codes, uniform)
        return ops.concatenate([z, ops.cast(code_columns, z.dtype)], axis=1), code_columns

    def _critic_update(self, real, labels, rows, replicas):
        critic_vars = self.critic.trainable_variables
        z, code_columns = self._draw_latents(rows)
        # No generator gradients are needed here.
        fake = self.generator(self._generator_inputs(z, labels), training=True)
        fake = ops.cast(ops.stop_gradient(fake), real.dtype)
        real, fake = _pack(real, self.pack), _pack(fake, self.pack)

        def loss_fn():
            extra_logs = {}
            real_out, fake_out = self._score(real, fake, labels)
            d_loss = self.adversarial_loss.critic_loss(real_out.score, fake_out.score)
            if self.classifier_weight is not None:
                classifier_loss = _cross_entropy(labels, real_out.logits) + _cross_entropy(
                    labels, fake_out.logits
                )
                d_loss = d_loss + self.classifier_weight * classifier_loss
                predicted = ops.cast(ops.argmax(real_out.logits, axis=-1), labels.dtype)
                extra_logs["classifier_loss"] = classifier_loss
                extra_logs["classifier_accuracy"] = ops.mean(
                    ops.cast(ops.equal(predicted, labels), "float32")
                )
            if self.latent_codes:
                info = codes.mutual_information_penalty(self.latent_codes, fake_out.q, code_columns)
                d_loss = d_loss + self.info_weight * info
            score_fn = self._score_function(labels)
            penalty_results = []
            for penalty in self.penalties:
                term, values, ran = self._penalty(penalty, score_fn, real, fake)
                d_loss = d_loss + term
                penalty_results.append((values, ran))
            scaled = self.critic_optimizer.scale_loss(d_loss / replicas)
            aux = (d_loss, real_out.score, fake_out.score, extra_logs, penalty_results)
            return scaled, aux

        aux, grads = _step.gradients(loss_fn, critic_vars, self)
        d_loss, real_scores, fake_scores, extra_logs, penalty_results = aux
        computed = [d_loss] + [value for values, _ in penalty_results for value in values]
        _step.apply(self.critic_optimizer, grads, critic_vars, computed)
        if self.clip_value is not None:
            for variable in critic_vars:
                variable.assign(ops.clip(variable, -self.clip_value, self.clip_value))
        with _step.ordered([d_loss]):  # BEGAN reads k in d_loss, then writes it
            loss_logs = self.adversarial_loss.after_critic_update(real_scores, fake_scores)
        self.critic_loss_tracker.update_state(d_loss)
        for name, value in extra_logs.items():
            self.extra_trackers[name].update_state(value)
        for (values, ran), trackers in zip(penalty_results, self.penalty_trackers, strict=True):
            for value, tracker in zip(values, trackers, strict=True):
                tracker.update_state(value, sample_weight=ran)
        for name, tracker in zip(self.adversarial_loss.metric_names, self.loss_metric_trackers, strict=True):
            tracker.update_state(loss_logs[name])

    def _score_function(self, labels):
        """What the penalties differentiate: the critic itself when it takes x
        alone and returns only a score, else x ↦ score with `labels` bound."""
        if self.num_classes is None and self._critic_outputs == 1:
            return self.critic
        return _ScoreFunction(self.critic, labels, self._critic_outputs > 1)

    def _penalty(self, penalty, critic, real, fake):
        """Returns (term, metric values, ran) of one penalty; `ran` (1.0 or 0.0)
        weights its metrics, so they average the updates where it ran."""

        def compute():
            term, values = penalty.compute(critic, real, fake, seed=self.seed_generator)
            return term, [ops.cast(values[name], "float32") for name in penalty.metric_names]

        if penalty.every == 1:
            term, values = compute()
            return term, values, 1.0

        def skip():
            return ops.zeros((), "float32"), [ops.zeros((), "float32") for _ in penalty.metric_names]

        # Lazy regularisation: on critic updates 0, N, 2N, ... only, ×N.
        run = ops.equal(self.critic_optimizer.iterations % penalty.every, 0)
        term, values = _step.lazy(run, compute, skip)
        return penalty.every * term, values, ops.cast(run, "float32")

    def _generator_update(self, real, labels, rows, replicas):
        generator_vars = self.generator.trainable_variables
        z, code_columns = self._draw_latents(rows)

        def loss_fn():
            fake = _pack(self.generator(self._generator_inputs(z, labels), training=True), self.pack)
            fake_out = self._scores(self.critic(self._critic_inputs(fake, labels), training=True))
            real_scores = None
            if self.adversarial_loss.generator_needs_real_scores:
                packed = _pack(real, self.pack)
                real_scores = self._scores(
                    self.critic(self._critic_inputs(packed, labels), training=True)
                ).score
            g_loss = self.adversarial_loss.generator_loss(fake_out.score, real_scores)
            if self.classifier_weight is not None:
                g_loss = g_loss + self.classifier_weight * _cross_entropy(labels, fake_out.logits)
            info = None
            if self.latent_codes:
                info = codes.mutual_information_penalty(self.latent_codes, fake_out.q, code_columns)
                g_loss = g_loss + self.info_weight * info
            return self.generator_optimizer.scale_loss(g_loss / replicas), (g_loss, info)

        (g_loss, info), grads = _step.gradients(loss_fn, generator_vars, self)
        _step.apply(self.generator_optimizer, grads, generator_vars, [g_loss])
        if self.latent_codes:
            self.extra_trackers["info_loss"].update_state(info)
        return g_loss

    def _update_ema(self):
        # t counts the generator updates before this one (the optimizer already advanced).
        step = ops.cast(self.generator_optimizer.iterations, "float32") - 1.0
        decay = ops.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        trainable = {id(v) for v in self.generator.trainable_variables}
        for average, weight in zip(self.generator_ema.weights, self.generator.weights, strict=True):
            if id(weight) in trainable:
                average.assign(decay * average + (1.0 - decay) * weight)
            else:
                average.assign(weight)

    def _score(self, real, fake, labels=None):
        """The critic's outputs on the real and the fake batch, as two `_Scores`."""
        if self._critic_uses_batch_stats:
            real_out = self.critic(self._critic_inputs(real, labels), training=True)
            fake_out = self.critic(self._critic_inputs(fake, labels), training=True)
            return self._scores(real_out), self._scores(fake_out)
        both = ops.concatenate([real, fake], 0)
        both_labels = None if labels is None else ops.concatenate([labels, labels], 0)
        outputs = self.critic(self._critic_inputs(both, both_labels), training=True)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        halves = [ops.split(output, 2) for output in outputs]
        return self._scores([h[0] for h in halves]), self._scores([h[1] for h in halves])

    # ---------------------------------------------------------- validation
    def _build_optimizers(self):
        for optimizer, net in (
            (self.generator_optimizer, self.generator),
            (self.critic_optimizer, self.critic),
        ):
            if optimizer is not None and not optimizer.built and net.built:
                optimizer.build(net.trainable_variables)

    def _check_compatible(self, sample, labels=None):
        """Runs both networks on a tiny batch, in inference mode, before training."""
        n = len(sample)
        sample = ops.convert_to_tensor(sample)
        z = ops.zeros((n, self.input_dim))
        conditional = self.num_classes is not None
        if conditional:
            labels = ops.convert_to_tensor(np.asarray(labels, "int32"))
        takes = "[z, labels]" if conditional else "z"
        try:
            generated = self.generator(self._generator_inputs(z, labels), training=False)
        except Exception as error:
            hint = (
                f" A conditional GAN (num_classes={self.num_classes}) calls generator([z, labels]) "
                "with int labels of shape (batch,); build it with num_classes (e.g. "
                "mlp_generator(..., num_classes=K))."
                if conditional
                else " If the generator takes labels, pass num_classes=K to the GAN."
            )
            raise ValueError(
                f"The generator failed on {takes} with z of shape {tuple(z.shape)} "
                f"(latent_dim={self.latent_dim}, code columns={self.code_size}): {error}.{hint}"
            ) from error
        if isinstance(generated, (list, tuple)):
            raise ValueError(
                f"The generator must return one tensor of examples, got {len(generated)} outputs."
            )
        if tuple(generated.shape[1:]) != tuple(sample.shape[1:]):
            raise ValueError(
                f"The generator outputs examples of shape {tuple(generated.shape[1:])} but the "
                f"data has shape {tuple(sample.shape[1:])}. Change the generator's last layers "
                "(or reshape the data) so the two match."
            )
        if self.pack > 1:  # n groups of pack examples
            sample = _pack(ops.concatenate([sample] * self.pack, 0), self.pack)
        try:
            outputs = self.critic(self._critic_inputs(sample, labels), training=False)
        except Exception as error:
            hint = (
                " A conditional GAN calls critic([x, labels]); build it with num_classes=K."
                if conditional
                else " If the critic takes labels, pass num_classes=K to the GAN."
            )
            if self.pack > 1:
                hint = (
                    f" With pack={self.pack} the critic scores packed groups of shape "
                    f"{tuple(sample.shape[1:])}: build it for that input (for example "
                    f"mlp_critic(input_dim={sample.shape[-1]}))."
                )
            raise ValueError(
                f"The critic failed on {'[x, labels]' if conditional else 'x'} with x of shape "
                f"{sample.shape}: {error}.{hint}"
            ) from error
        self._check_critic_outputs(outputs, n)
        self.built = True

    def _check_critic_outputs(self, outputs, n: int) -> None:
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        expected = ["score"]
        if self.classifier_weight is not None:
            expected.append(f"class_logits ({self.num_classes})")
        if self.latent_codes:
            expected.append(f"q ({self.code_size})")
        if len(outputs) != len(expected):
            raise ValueError(
                f"The critic returns {len(outputs)} output(s), but this GAN expects "
                f"{len(expected)}: [{', '.join(expected)}]. An ACGAN critic (classifier_weight) adds "
                "class logits and InfoGAN codes add a Q head: build the critic with "
                "auxiliary_classifier=True / q_outputs=N, or change the GAN's options."
            )
        shape = tuple(outputs[0].shape)
        if shape not in ((n,), (n, 1)):
            raise ValueError(
                f"The critic must output one score per example, shape (batch, 1) or (batch,), "
                f"but for a batch of {n} it returned shape {shape}. End the critic "
                "with Flatten() and Dense(1)."
            )
        widths = []
        if self.classifier_weight is not None:
            widths.append(("class_logits", self.num_classes))
        if self.latent_codes:
            widths.append(("q", self.code_size))
        for output, (name, width) in zip(outputs[1:], widths, strict=True):
            if tuple(output.shape) != (n, width):
                raise ValueError(
                    f"The critic's {name} output must have shape (batch, {width}), got {tuple(output.shape)}."
                )
