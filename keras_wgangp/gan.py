"""`GAN`: compile, fit and Algorithm 1 over a composable objective; the other jobs have
their own modules (`objective`, `conditioning`, `checks`, `ema`, `sampling`, `pipeline`,
`optimizers`, `backends`)."""

from __future__ import annotations

import warnings

import keras

from keras_wgangp import augment as augment_lib
from keras_wgangp import backends, checks, codes, ema, losses, penalties, pipeline
from keras_wgangp import objective as objective_lib
from keras_wgangp import optimizers as optimizers_lib
from keras_wgangp._random import OrderedSeedGenerator, load_seed_state, save_seed_state
from keras_wgangp.conditioning import Conditioning, pack
from keras_wgangp.objective import Batch
from keras_wgangp.sampling import Sampling

__all__ = ["GAN"]

ops = keras.ops
_step = backends.current()  # gradients, updates and control flow of the active backend


def _fresh(obj):
    # Each model owns its loss and penalty objects (BEGAN's k is per model).
    return type(obj).from_config(obj.get_config())


def _as_list(items) -> list:
    return [] if items is None else list(items) if isinstance(items, (list, tuple)) else [items]


@keras.saving.register_keras_serializable(package="keras_wgangp")
class GAN(_step.Trainer, Sampling, keras.Model):
    """A generative adversarial network with a pluggable loss and penalties.

    `fit` runs Algorithm 1 of Gulrajani et al. 2017: `critic_steps` critic
    updates, each on fresh real examples, then one generator update. Both
    losses are sums of an `Objective`'s terms (the adversarial loss, each
    penalty, ACGAN's and InfoGAN's terms); subclasses override the public
    hooks `critic_loss` and `generator_loss`. Logged as epoch means:
    `critic_loss` (also `loss`), `generator_loss`, each term's metrics.

    Args:
        generator: A Keras model or layer mapping `(batch, latent_dim)` to examples.
        critic: A Keras model or layer giving one raw score per example; no BatchNorm.
        loss: An `AdversarialLoss` or its name (`keras_wgangp.losses`).
        penalty: None, a `Penalty` or name (`keras_wgangp.penalties`), or a list.
        critic_steps: Critic updates per generator update.
        latent_dim: Size of z; inferred from the generator when omitted.
        seed: Seed of the training draws (latents, penalty noise); saved with the model.
        ema_decay: If set, keep `generator_ema` for sampling (`keras_wgangp.ema`).
        clip_value: If set, clip critic weights to [−c, c] after each update.
        num_classes: K of a conditional GAN: `generator([z, y])`, `critic([x, y])`.
        classifier_weight: ACGAN's weight; the critic returns `[score, class_logits]`.
        latent_codes: InfoGAN codes (`keras_wgangp.codes`); the critic returns Q last.
        info_weight: InfoGAN's λ.
        pack: PacGAN's m: the critic scores m examples joined along the last axis.
        augment: None, `"diffaugment"`, `"ada"` or an `Augmentation` (`keras_wgangp.augment`)
            applied to every image the critic sees, in both updates.
        **kwargs: Passed to `keras.Model` (for example `name`).

    Examples:
        >>> import keras_wgangp as kw
        >>> gan = kw.GAN(kw.architectures.mlp_generator(units=32), kw.architectures.mlp_critic(units=32),
        ...              loss="hinge", penalty=kw.penalties.R1(gamma=1.0))
        >>> gan.compile()
        >>> history = gan.fit(kw.data.toy_samples("8gaussians", 256, seed=0), batch_size=64, verbose=0)
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
        augment=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        options = checks.check_gan_options(
            generator, critic, critic_steps, clip_value, ema_decay, num_classes,
            classifier_weight, latent_codes, info_weight, pack,
        )  # fmt: skip
        for name, value in options.items():
            setattr(self, name, value)
        self.generator, self.critic, self.seed = generator, critic, seed
        self.latent_codes = [_fresh(codes.get(code)) for code in _as_list(latent_codes)]
        self.conditioning = Conditioning(
            self.num_classes, classifier_weight is not None, self.latent_codes, self.pack
        )
        self.code_size = self.conditioning.code_size
        self.objective = objective_lib.from_options(
            _fresh(losses.get(loss)), [_fresh(penalties.get(p)) for p in _as_list(penalty)],
            self.classifier_weight, self.latent_codes, self.info_weight,
        )  # fmt: skip
        if latent_dim is None:
            latent_dim = checks.infer_latent_dim(generator, self.conditional, self.code_size)
        self.latent_dim = int(latent_dim)
        self.generator_ema = None
        if self.ema_decay:
            example = self.conditioning.generator_inputs(ops.zeros((1, self.input_dim)))
            self.generator_ema = ema.clone_generator(generator, example)
        self.seed_generator = OrderedSeedGenerator(seed, name="wgangp_seed")
        self.loss_variables = self.adversarial_loss.build()  # BEGAN's k: tracked, so saved
        augment = augment_lib.get(augment)
        self.augment = augment and _fresh(augment)
        self.augment_variables = self.augment.build() if self.augment else []  # ADA's p
        self.generator_optimizer = self.critic_optimizer = self._gan_compile_config = None
        # One critic call on concat(real, fake) is faster; with BatchNorm it would mix the batches.
        self._joint_critic_call = not checks.has_batch_norm(critic, warn=True)
        self.critic_loss_tracker = keras.metrics.Mean(name="critic_loss")
        self.generator_loss_tracker = keras.metrics.Mean(name="generator_loss")
        names = self.objective.metric_names + list(self.augment.metric_names if self.augment else [])
        self.term_trackers = [keras.metrics.Mean(name=name) for name in names]
        if getattr(generator, "built", False) and getattr(critic, "built", False):
            self.built = True

    def call(self, inputs, training=None):
        return self.generator(inputs, training=training)

    @property
    def metrics(self):
        # Keras resets these every epoch and logs their running means.
        return [self.critic_loss_tracker, self.generator_loss_tracker, *self.term_trackers]

    @property
    def adversarial_loss(self) -> losses.AdversarialLoss:
        """The objective's `AdversarialLoss`."""
        return self.objective.adversarial.loss

    @property
    def penalties(self) -> list:
        """The objective's `Penalty` objects, in order."""
        return [t.penalty for t in self.objective.terms if isinstance(t, objective_lib.PenaltyTerm)]

    @property
    def input_dim(self) -> int:
        """Width of the generator's latent input: `latent_dim` plus the codes' columns."""
        return self.latent_dim + self.code_size

    @property
    def conditional(self) -> bool:
        """Whether the model is class-conditional (`num_classes` is set)."""
        return self.num_classes is not None

    # ------------------------------------------------------ compile and config
    def _default_optimizer(self) -> keras.optimizers.Optimizer:
        return optimizers_lib.dcgan_adam()

    def compile(self, generator_optimizer=None, critic_optimizer=None, *, steps_per_execution: int = 1,
                jit_compile="auto", run_eagerly: bool = False) -> None:  # fmt: skip
        """Sets the two optimizers (each the class's default when None) and the execution options.

        Args:
            generator_optimizer: Optimizer, name or config (default: `GAN` Adam(2e-4, 0.5,
                0.999); `WGANGP` Adam(1e-4, 0, 0.9)).
            critic_optimizer: The same for the critic; a separate instance.
            steps_per_execution: `train_step` calls per compiled call.
            jit_compile: `"auto"` (Keras's choice), `True` or `False`.
            run_eagerly: Run `train_step` eagerly, for debugging.

        Returns:
            None.

        Examples:
            >>> import keras_wgangp as kw
            >>> A = kw.architectures
            >>> gan = kw.WGANGP(A.mlp_generator(units=16), A.mlp_critic(units=16))
            >>> gan.compile(critic_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
            >>> round(float(gan.generator_optimizer.learning_rate), 8)
            0.0001
        """
        generator_optimizer, critic_optimizer = optimizers_lib.pair(
            generator_optimizer, critic_optimizer, self._default_optimizer
        )
        options = dict(
            steps_per_execution=steps_per_execution, jit_compile=jit_compile, run_eagerly=run_eagerly
        )
        super().compile(optimizer=None, **options)
        self.generator_optimizer = optimizers_lib.with_loss_scaling(generator_optimizer, "generator")
        self.critic_optimizer = optimizers_lib.with_loss_scaling(critic_optimizer, "critic")
        self._gan_compile_config = optimizers_lib.compile_config(
            generator_optimizer, critic_optimizer, options
        )
        self._build_optimizers()

    def _build_optimizers(self):
        pairs = [(self.generator_optimizer, self.generator), (self.critic_optimizer, self.critic)]
        optimizers_lib.build(pairs)

    def get_compile_config(self):
        return dict(self._gan_compile_config or {})

    def compile_from_config(self, config):
        self.compile(**optimizers_lib.from_compile_config(config))  # builds them, so their state loads

    _CONFIG = ("critic_steps", "latent_dim", "seed", "ema_decay", "clip_value", "num_classes",
               "classifier_weight", "info_weight", "pack")  # fmt: skip

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        config = {"name": self.name, "trainable": self.trainable, "loss": serialize(self.adversarial_loss)}
        config |= {role: serialize(getattr(self, role)) for role in ("generator", "critic")}
        config["penalty"] = [serialize(p) for p in self.penalties]
        config["latent_codes"] = [serialize(code) for code in self.latent_codes]
        config["augment"] = serialize(self.augment) if self.augment else None
        return config | {key: getattr(self, key) for key in self._CONFIG}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "critic", "loss", "penalty", "latent_codes", "augment"):
            value = config.get(key)
            if isinstance(value, (dict, list)):
                items = [keras.saving.deserialize_keras_object(v) for v in _as_list(value)]
                config[key] = items if isinstance(value, list) else items[0]
        trainable = config.pop("trainable", True)
        model = cls(**config)
        model.trainable = trainable
        return model

    def save_own_variables(self, store):
        super().save_own_variables(store)
        save_seed_state(store, self.seed_generator)

    def load_own_variables(self, store):
        super().load_own_variables(load_seed_state(store, self.seed_generator))

    # ---------------------------------------------------------------- training
    def fit(self, x=None, y=None, batch_size: int | None = None, epochs: int = 1, verbose="auto",
            callbacks=None, shuffle: bool = True, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, **kwargs):  # fmt: skip
        """Trains with Algorithm 1; each step takes `critic_steps × batch_size` real examples.

        Args:
            x: Real examples: a float array or tensor, or a `tf.data.Dataset` of `x` or `(x, y)`.
            y: int class ids of array data (conditional models).
            batch_size: Real examples per critic update (arrays: 64; datasets: their own).
            epochs: Passes over the data.
            verbose: As in `keras.Model.fit`.
            callbacks: Keras callbacks.
            shuffle: Reshuffle arrays every epoch (datasets are used as given).
            initial_epoch: As in `keras.Model.fit`.
            steps_per_epoch: Generator updates per epoch, for infinite datasets.
            **kwargs: Other `keras.Model.fit` arguments (no validation or sample weights).

        Returns:
            A `keras.callbacks.History`.

        Examples:
            >>> import keras_wgangp as kw
            >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8),
            ...                 critic_steps=2)
            >>> gan.compile()
            >>> _ = gan.fit(kw.data.toy_samples("8gaussians", 100, seed=0), batch_size=16, verbose=0)
            >>> int(gan.generator_optimizer.iterations), int(gan.critic_optimizer.iterations)
            (4, 8)
        """
        checks.check_fit_arguments(self, batch_size, kwargs)
        checks.check_overfitting_watch(self, callbacks)
        tracker = pipeline.EpochTracker(initial_epoch)  # the epoch seeds the shuffle: exact resumes
        dataset, (sample, sample_labels) = pipeline.make_dataset(
            x, batch_size, self.critic_steps, shuffle and tracker.epoch, y=y, num_classes=self.num_classes
        )
        checks.check_networks(self, sample, sample_labels)
        self.built = True
        self._build_optimizers()
        with warnings.catch_warnings():
            if steps_per_epoch is None:  # a regrouped dataset's first epoch ends by running out of data
                warnings.filterwarnings("ignore", message="Your input ran out of data")
            return super().fit(
                dataset, epochs=epochs, verbose=verbose, shuffle=False, initial_epoch=initial_epoch,
                callbacks=[*(callbacks or []), tracker],
                steps_per_epoch=steps_per_epoch, **kwargs,
            )  # fmt: skip

    def _train_step(self, data):
        # Algorithm 1, in keras.ops; each backend's Trainer (keras_wgangp.backends)
        # wraps it in the train_step signature its Keras trainer calls.
        updates = []
        for real, labels in pipeline.critic_batches(data, self.critic_steps, self.pack, self.conditional):
            updates.append(self._critic_update(real, labels))
        # The k critic updates reach each metric in one update of k values: the
        # same epoch means, with a fifth of the metric ops at k = 5.
        self._track(self.critic_loss_tracker, *objective_lib.stack_updates(updates))
        self._generator_update(real, labels)
        if self.generator_ema is not None:
            ema.update(
                self.generator_ema, self.generator, self.ema_decay, self.generator_optimizer.iterations
            )
        logs = {metric.name: metric.result() for metric in self.metrics}
        logs["loss"] = logs["critic_loss"]  # stock callbacks (TerminateOnNaN) read `loss`
        return _step.finish_logs(self, logs)

    def critic_loss(self, batch: Batch):
        """The public hook of the critic update: one `Batch`'s loss and the values to log.

        Runs inside the backend's gradient computation (TensorFlow, JAX and
        PyTorch). Each log key needs a metric of that name in `metrics`.

        Args:
            batch: The real and fake examples, the critic's `Scores` on them,
                the labels, codes and the score function penalties differentiate.

        Returns:
            `(loss, logs)`: a float32 scalar and a dict of metric values.

        Examples:
            >>> import keras_wgangp as kw
            >>> class Drift(kw.GAN):  # ProGAN's drift term, 1e-3·E[D(x)²]
            ...     def critic_loss(self, batch):
            ...         loss, logs = super().critic_loss(batch)
            ...         return loss + 1e-3 * keras.ops.mean(batch.real_scores.score ** 2), logs
        """
        return self.objective.critic_loss(batch)

    def generator_loss(self, batch: Batch):
        """The public hook of the generator update (see `critic_loss`).

        Args:
            batch: The fakes (carrying the generator's gradient) and their `Scores`.

        Returns:
            `(loss, logs)`: a float32 scalar and a dict of metric values.

        Examples:
            >>> import keras_wgangp as kw
            >>> class Doubled(kw.GAN):
            ...     def generator_loss(self, batch):
            ...         loss, logs = super().generator_loss(batch)
            ...         return 2.0 * loss, logs
        """
        return self.objective.generator_loss(batch)

    def _augmented(self, images):
        return images if self.augment is None else self.augment(images, seed=self.seed_generator)

    def _latents(self, real):
        rows = real.shape[0] if real.shape[0] is not None else ops.shape(real)[0]
        return self.conditioning.draw_latents(self.latent_dim, rows, self.seed_generator)

    def _critic_update(self, real, labels):
        variables = self.critic.trainable_variables
        z, code_columns = self._latents(real)
        fake = self.generator(self.conditioning.generator_inputs(z, labels), training=True)
        fake = ops.cast(ops.stop_gradient(fake), real.dtype)
        real, fake = (pack(self._augmented(x), self.pack) for x in (real, fake))  # T before packing

        def loss_fn():
            real_out, fake_out = self.conditioning.score_pair(
                self.critic, real, fake, labels, self._joint_critic_call
            )
            critic = self.conditioning.score_function(self.critic, labels)
            batch = Batch(real, fake, fake_out, real_out, labels, code_columns, critic, self.seed_generator,
                          self.critic_optimizer.iterations)  # fmt: skip
            loss, logs = self.critic_loss(batch)
            scaled = self.critic_optimizer.scale_loss(loss / _step.replicas(self))
            return scaled, (loss, logs, real_out.score, fake_out.score)

        (loss, logs, real_scores, fake_scores), grads = _step.gradients(loss_fn, variables, self)
        computed = [loss] + [v[0] if isinstance(v, tuple) else v for v in logs.values()]
        _step.apply(self.critic_optimizer, grads, variables, computed)
        if self.clip_value is not None:
            for variable in variables:
                variable.assign(ops.clip(variable, -self.clip_value, self.clip_value))
        with _step.ordered([loss]):  # BEGAN reads k in the loss, then writes it
            logs.update(self.objective.after_critic_update(real_scores, fake_scores))
            logs.update(self.augment.after_critic_update(real_scores, fake_scores) if self.augment else {})
        return loss, logs

    def _generator_update(self, real, labels):
        variables = self.generator.trainable_variables
        z, code_columns = self._latents(real)
        needs_real = self.adversarial_loss.generator_needs_real_scores

        def loss_fn():
            fake = self.generator(self.conditioning.generator_inputs(z, labels), training=True)
            fake = pack(self._augmented(fake), self.pack)
            fake_out = self.conditioning.score(self.critic, fake, labels)
            packed_real = real_out = None
            if needs_real:  # relativistic losses compare with the last real batch
                packed_real = pack(self._augmented(real), self.pack)
                real_out = self.conditioning.score(self.critic, packed_real, labels)
            loss, logs = self.generator_loss(
                Batch(packed_real, fake, fake_out, real_out, labels, code_columns)
            )
            return self.generator_optimizer.scale_loss(loss / _step.replicas(self)), (loss, logs)

        (loss, logs), grads = _step.gradients(loss_fn, variables, self)
        _step.apply(self.generator_optimizer, grads, variables, [loss])
        self._track(self.generator_loss_tracker, loss, logs)

    def _track(self, loss_tracker, loss, logs: dict) -> None:
        loss_tracker.update_state(loss)
        objective_lib.record(self.metrics, logs)
