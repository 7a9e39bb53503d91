"""The `WGANGP` Keras model: a thin orchestrator over the pure math.

The losses live in `losses.py` and the penalty in `penalties.py`; this file
wires them into `compile`/`fit`, validates inputs, and handles saving.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_wgangp import losses, penalties

__all__ = ["WGANGP"]

_DEFAULT_BATCH_SIZE = 64


def _paper_adam() -> keras.optimizers.Optimizer:
    # Algorithm 1 of Gulrajani et al.: α = 1e-4, β1 = 0, β2 = 0.9.
    return keras.optimizers.Adam(learning_rate=1e-4, beta_1=0.0, beta_2=0.9)


def _infer_latent_dim(generator) -> int:
    try:
        shape = generator.input_shape
    except (AttributeError, ValueError):
        shape = None
    if isinstance(shape, (list, tuple)) and len(shape) == 2 and isinstance(shape[1], int):
        return int(shape[1])
    raise ValueError(
        "Could not infer `latent_dim` from the generator (it has no single "
        f"(batch, latent_dim) input; input_shape={shape!r}). "
        "Pass `latent_dim=` to WGANGP explicitly."
    )


def _multi_worker(strategy) -> bool:
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


def _clone_generator(generator, latent_dim: int):
    """A structurally identical copy of `generator`, with the same weights."""
    if not generator.built:
        generator(tf.zeros((1, latent_dim)))
    try:
        clone = keras.models.clone_model(generator)
    except Exception:  # subclassed models: rebuild from their config
        clone = generator.__class__.from_config(generator.get_config())
    if not clone.built:
        clone(tf.zeros((1, latent_dim)))
    clone.set_weights(generator.get_weights())
    clone.trainable = False
    return clone


def _apply_after(optimizer, grads, variables, computed) -> None:
    """Applies `grads` once every tensor in `computed` exists.

    TensorFlow orders each variable read before the next write of that
    variable, but not the ops that consume the value read. With the zero
    skip, a bias gradient no longer passes through the critic's forward pass
    on x̂, so the bias update could run while that forward pass was still
    using the bias, and it then saw the updated value in some runs. Waiting
    for the loss and the penalty's norms, which depend on every forward pass
    of the update, makes each update read only the previous update's weights.
    """
    with tf.control_dependencies(computed):
        optimizer.apply_gradients(zip(grads, variables, strict=True))


class _OrderedSeedGenerator(keras.random.SeedGenerator):
    """A SeedGenerator whose seed is copied before its state advances.

    Keras's `next()` copies the state and then assigns the advanced state
    with no dependency between the two, so the copy could observe the new
    state and two draws could share a seed. Same sequence of seeds otherwise.
    """

    def next(self, ordered=True):
        seed = self.state.value * 1
        with tf.control_dependencies([seed]):
            super().next(ordered=ordered)
        return seed


def _has_batch_norm(model) -> bool:
    layers = model._flatten_layers() if hasattr(model, "_flatten_layers") else []
    return any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers)


def _unpack_x(data):
    # Datasets may yield x, (x,) or (x, y); y is ignored.
    if isinstance(data, (tuple, list)):
        return data[0]
    return data


@keras.saving.register_keras_serializable(package="keras_wgangp")
class WGANGP(keras.Model):
    """WGAN-GP (Gulrajani et al. 2017, arXiv:1704.00028) as a Keras model.

    `fit` trains with Algorithm 1 of the paper: every `train_step` makes
    `critic_steps` critic updates, each on its own `batch_size` fresh real
    examples, followed by one generator update. The critic loss is
    `mean D(fake) − mean D(real) + gp_weight · GP` with the penalty of
    `keras_wgangp.gradient_penalty`; the generator loss is `−mean D(G(z))`.

    How batching works: `fit` groups `critic_steps × batch_size` real
    examples into one element of the input pipeline and `train_step` splits
    that element into `critic_steps` slices of `batch_size`. An epoch of
    N examples therefore makes `ceil(N / (critic_steps·batch_size))` generator
    updates and `critic_steps` times as many critic updates. A last, partial
    group of n examples is split into `critic_steps` slices of
    `ceil(n / critic_steps)` (wrapping around to reuse fewer than
    `critic_steps` examples), so the critic always gets exactly
    `critic_steps` updates per generator update.

    Calling the model, `gan(z)`, is the same as `gan.generator(z)`.

    Args:
        generator: Any Keras model or layer mapping `(batch, latent_dim)`
            latents to examples shaped like the data.
        critic: Any Keras model or layer mapping a batch of examples to one
            score per example, shape `(batch, 1)` or `(batch,)`. Avoid
            BatchNormalization (a warning says why); use LayerNormalization.
        latent_dim: Size of z. Inferred from the generator's input shape
            when omitted.
        critic_steps: Critic updates per generator update (n_critic = 5 in
            the paper).
        gp_weight: Penalty coefficient λ (10 in the paper).
        target_norm: Gradient norm the penalty pulls towards (1 in the paper).
        seed: Seed of the model's `keras.random.SeedGenerator`, which draws
            every latent and ε inside `train_step`; its state is saved with
            the model.
        clip_value: If set, clip every critic weight to [−c, c] after each
            critic update: the weight clipping of the original WGAN (Arjovsky
            et al. 2017; c = 0.01 there, with `gp_weight=0` and RMSProp(5e-5)).
        ema_decay: If set (e.g. 0.999), keep `generator_ema`, an exponential
            moving average of the generator's weights, updated after every
            generator step with decay min(ema_decay, (1 + t) / (10 + t)) at
            step t (the warm-up of `tf.train.ExponentialMovingAverage`);
            non-trainable weights (BatchNorm statistics) are copied. When
            enabled, `generate`, `export` and the sample callbacks use it;
            `call` and training always use the raw generator.
        **kwargs: Passed to `keras.Model` (for example `name`).

    Examples:

    >>> import keras_wgangp as kw
    >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=32),
    ...                 kw.architectures.mlp_critic(units=32), critic_steps=2)
    >>> gan.compile()
    >>> history = gan.fit(kw.data.toy_samples("8gaussians", 256, seed=0),
    ...                   batch_size=64, epochs=1, verbose=0)
    >>> gan.generate(4, seed=0).shape
    (4, 2)
    """

    def __init__(
        self,
        generator,
        critic,
        latent_dim: int | None = None,
        critic_steps: int = 5,
        gp_weight: float = 10.0,
        target_norm: float = 1.0,
        seed: int | None = None,
        clip_value: float | None = None,
        ema_decay: float | None = None,
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
        if not np.isfinite(gp_weight) or gp_weight < 0:
            raise ValueError(f"`gp_weight` must be a finite number >= 0, got {gp_weight!r}.")
        if clip_value is not None and not clip_value > 0:
            raise ValueError(f"`clip_value` must be > 0 or None, got {clip_value!r}.")
        if ema_decay is not None and not 0.0 < ema_decay < 1.0:
            raise ValueError(f"`ema_decay` must be in (0, 1) or None, got {ema_decay!r}.")
        self.generator = generator
        self.critic = critic
        self.latent_dim = int(latent_dim) if latent_dim is not None else _infer_latent_dim(generator)
        self.critic_steps = int(critic_steps)
        self.gp_weight = float(gp_weight)
        self.target_norm = float(target_norm)
        self.seed = seed
        self.clip_value = None if clip_value is None else float(clip_value)
        self.ema_decay = None if ema_decay is None else float(ema_decay)
        self.generator_ema = _clone_generator(generator, self.latent_dim) if ema_decay else None
        self.seed_generator = _OrderedSeedGenerator(seed, name="wgangp_seed")
        self.generator_optimizer = None
        self.critic_optimizer = None
        self._wgangp_compile_config = None

        # One critic call on concat(real, fake) is faster and identical for
        # critics without batch statistics; with BatchNorm it would mix the
        # two batches' statistics, so such critics get two separate calls.
        self._critic_uses_batch_stats = _has_batch_norm(critic)
        if self._critic_uses_batch_stats:
            warnings.warn(
                "The critic contains BatchNormalization. The gradient penalty is "
                "defined per example, but BatchNorm makes each score depend on the "
                "whole batch, so the penalised gradient is not the critic's "
                "per-example gradient (Gulrajani et al. 2017, sec. 4). Use "
                "keras.layers.LayerNormalization (or no normalization) instead.",
                UserWarning,
                stacklevel=2,
            )

        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.critic_loss_tracker = keras.metrics.Mean(name="critic_loss")
        self.generator_loss_tracker = keras.metrics.Mean(name="generator_loss")
        self.gradient_penalty_tracker = keras.metrics.Mean(name="gradient_penalty")
        self.wasserstein_tracker = keras.metrics.Mean(name="wasserstein_estimate")
        self.gradient_norm_tracker = keras.metrics.Mean(name="gradient_norm")
        if getattr(generator, "built", False) and getattr(critic, "built", False):
            self.built = True

    # ------------------------------------------------------------------ API
    def call(self, inputs, training=None):
        return self.generator(inputs, training=training)

    @property
    def metrics(self):
        # Listed here so Keras resets them every epoch and logs their
        # running means: each logged value is the average over the epoch.
        return [
            self.loss_tracker,
            self.critic_loss_tracker,
            self.generator_loss_tracker,
            self.gradient_penalty_tracker,
            self.wasserstein_tracker,
            self.gradient_norm_tracker,
        ]

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
                generator. Defaults to the paper's Adam(1e-4, β1=0, β2=0.9).
            critic_optimizer: Same, for the critic; must be a separate instance.
            steps_per_execution: `train_step` calls per `tf.function` call.
            jit_compile: `"auto"` (XLA off on CPU-only machines, as in Keras),
                `True` or `False`.
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
        generator_optimizer = keras.optimizers.get(generator_optimizer) or _paper_adam()
        critic_optimizer = keras.optimizers.get(critic_optimizer) or _paper_adam()
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
        self._wgangp_compile_config = {
            "generator_optimizer": keras.saving.serialize_keras_object(generator_optimizer),
            "critic_optimizer": keras.saving.serialize_keras_object(critic_optimizer),
            "steps_per_execution": steps_per_execution,
            "jit_compile": jit_compile,
            "run_eagerly": run_eagerly,
        }
        # Built now (not lazily in fit) so that load_weights right after
        # compile restores the optimizer state too.
        self._build_optimizers()

    def get_compile_config(self):
        return dict(self._wgangp_compile_config or {})

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("generator_optimizer", "critic_optimizer"):
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        # compile builds the optimizers, so the loader can then restore their
        # variables (iterations, moments) from the file.
        self.compile(**config)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "critic": keras.saving.serialize_keras_object(self.critic),
            "latent_dim": self.latent_dim,
            "critic_steps": self.critic_steps,
            "gp_weight": self.gp_weight,
            "target_norm": self.target_norm,
            "seed": self.seed,
            "clip_value": self.clip_value,
            "ema_decay": self.ema_decay,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["critic"] = keras.saving.deserialize_keras_object(config["critic"])
        trainable = config.pop("trainable", True)
        model = cls(**config)
        model.trainable = trainable
        return model

    _SEED_STATE_KEY = "seed_generator_state"

    def save_own_variables(self, store):
        super().save_own_variables(store)
        # The SeedGenerator's state is not a Keras-tracked weight; saving it
        # makes resumed runs draw the same latents and epsilons.
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
        * `sample`: `(num_samples: int32 scalar, seed: int64 scalar)` to
          `num_samples` samples, deterministic for a given seed, and equal to
          `gan.generate(num_samples, seed=seed)`.

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
        from keras_wgangp.saving import export_generator

        if format != "tf_saved_model":
            raise ValueError(f"WGANGP.export supports format='tf_saved_model' only, got {format!r}.")
        export_generator(
            self.sampling_generator, self.latent_dim, filepath, verbose=verbose, overwrite=overwrite
        )

    def generate(self, num_samples: int, seed: int | None = 0, batch_size: int = 1024) -> np.ndarray:
        """Draws `num_samples` examples from the generator (inference mode).

        Args:
            num_samples: How many examples to draw.
            seed: Integer seed of the latents (same seed, same samples), or
                `None` for fresh randomness.
            batch_size: Generator batch size, to bound memory.

        Returns:
            A float32 NumPy array of shape `(num_samples, *data_shape)`.

        Examples:

        >>> import keras_wgangp as kw
        >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=16),
        ...                 kw.architectures.mlp_critic(units=16))
        >>> bool((gan.generate(3, seed=1) == gan.generate(3, seed=1)).all())
        True
        """
        if num_samples < 0:
            raise ValueError(f"num_samples must be >= 0, got {num_samples}.")
        z = keras.random.normal((int(num_samples), self.latent_dim), seed=seed)
        chunks = [
            keras.ops.convert_to_numpy(self.sampling_generator(z[i : i + batch_size], training=False))
            for i in range(0, int(num_samples), batch_size)
        ]
        if not chunks:
            out_shape = self.sampling_generator.compute_output_shape((0, self.latent_dim))
            return np.zeros((0,) + tuple(out_shape[1:]), "float32")
        return np.concatenate(chunks).astype("float32")

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
        """Trains with Algorithm 1; see the class docstring for the batching.

        Args:
            x: A float NumPy array / tensor of real examples, or a
                `tf.data.Dataset` yielding batches `x`, `(x,)` or `(x, y)`.
            y: Ignored (labels are not used by an unconditional GAN).
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
            A `keras.callbacks.History` whose `history` holds `critic_loss`,
            `generator_loss`, `gradient_penalty`, `wasserstein_estimate` and
            `gradient_norm`, each averaged over the epoch.
        """
        for unsupported in ("validation_data", "validation_split", "sample_weight", "class_weight"):
            if kwargs.get(unsupported):
                raise ValueError(f"WGANGP.fit does not support `{unsupported}`.")
            kwargs.pop(unsupported, None)
        if self.generator_optimizer is None:
            raise RuntimeError("Call `compile()` on the WGANGP model before `fit()`.")
        # The epoch number seeds the array shuffle, so a run resumed at
        # epoch k (BackupAndRestore) sees the same order as an uninterrupted one.
        epoch_variable = tf.Variable(initial_epoch, dtype=tf.int64, trainable=False)
        dataset, sample = self._make_dataset(x, batch_size, shuffle and epoch_variable)
        callbacks = list(callbacks or []) + [_EpochTracker(epoch_variable)]
        self._check_compatible(sample)
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

    def train_step(self, data):
        real_all = _unpack_x(data)
        # Every op of the step, optimizer counters and random draws included,
        # waits for the data: when Keras calls the step once more on an
        # exhausted dataset of unknown length, nothing may advance.
        with tf.control_dependencies([real_all]):
            return self._train_step(real_all)

    def _train_step(self, real_all):
        k = self.critic_steps
        static_n = real_all.shape[0]
        if static_n is not None and static_n % k == 0:
            # Full groups: Python-int sizes keep every shape static in the
            # graph, which the penalty's double backward needs to run fast.
            n = m = None
            m_static = static_n // k
        else:
            n = tf.shape(real_all)[0]
            m = (n + k - 1) // k  # == batch_size except in a partial last group
            m_static = None
        rank = len(real_all.shape)
        # Gradients are summed over replicas; dividing each replica's mean
        # loss by the replica count makes the sum the global-batch mean.
        replicas = self.distribute_strategy.num_replicas_in_sync
        critic_vars = self.critic.trainable_variables
        for i in range(k):
            if m_static is not None:
                real = real_all[i * m_static : (i + 1) * m_static]
            else:
                real = tf.gather(real_all, (tf.range(m) + i * m) % n)
            z = self._draw(keras.random.normal, m_static or m, (self.latent_dim,))
            # Generated outside the tape: no generator gradients are needed here.
            fake = tf.cast(self.generator(z, training=True), real.dtype)
            epsilon = self._draw(keras.random.uniform, m_static or m, (1,) * (rank - 1))
            x_hat = penalties.interpolate(real, fake, epsilon)
            with tf.GradientTape() as tape:
                real_scores, fake_scores = self._score(real, fake)
                norms = penalties.gradient_norms(self.critic, x_hat, training=True)
                penalty = penalties.penalty_from_norms(norms, self.target_norm)
                d_loss = losses.critic_loss(real_scores, fake_scores) + self.gp_weight * penalty
                scaled = self.critic_optimizer.scale_loss(d_loss / replicas)
            # Same gradients, minus a backward pass of zeros through D(x̂).
            with penalties.skip_zero_second_derivatives():
                grads = tape.gradient(scaled, critic_vars)
            _apply_after(self.critic_optimizer, grads, critic_vars, [d_loss, norms])
            if self.clip_value is not None:
                for variable in critic_vars:
                    variable.assign(tf.clip_by_value(variable, -self.clip_value, self.clip_value))
            self.critic_loss_tracker.update_state(d_loss)
            self.loss_tracker.update_state(d_loss)
            self.gradient_penalty_tracker.update_state(penalty)
            self.wasserstein_tracker.update_state(-losses.critic_loss(real_scores, fake_scores))
            self.gradient_norm_tracker.update_state(tf.reduce_mean(norms))

        generator_vars = self.generator.trainable_variables
        z = self._draw(keras.random.normal, m_static or m, (self.latent_dim,))
        with tf.GradientTape() as tape:
            fake_scores = self.critic(self.generator(z, training=True), training=True)
            g_loss = losses.generator_loss(fake_scores)
            scaled = self.generator_optimizer.scale_loss(g_loss / replicas)
        grads = tape.gradient(scaled, generator_vars)
        _apply_after(self.generator_optimizer, grads, generator_vars, [g_loss])
        if self.generator_ema is not None:
            self._update_ema()
        self.generator_loss_tracker.update_state(g_loss)
        logs = {metric.name: metric.result() for metric in self.metrics}
        if _multi_worker(self.distribute_strategy):
            # Keras reduces multi-worker logs with reduce(MEAN, axis=0), which
            # needs a batch axis; a length-1 vector reduces to the scalar.
            logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    def _draw(self, distribution, rows, tail):
        """Draws `rows` random rows for this replica from the model's SeedGenerator.

        Every replica draws the rows of all replicas from the same seed and
        keeps its own slice: replicas get different values, and R replicas
        together see exactly what one replica would draw for the global batch.
        """
        replicas = self.distribute_strategy.num_replicas_in_sync
        if isinstance(rows, int):
            shape = (rows * replicas,) + tuple(tail)  # static
        else:
            shape = tf.concat([[rows * replicas], tail], 0)
        values = distribution(shape, seed=self.seed_generator)
        if replicas == 1:
            return values
        replica = tf.distribute.get_replica_context().replica_id_in_sync_group
        return values[replica * rows : (replica + 1) * rows]

    @property
    def sampling_generator(self):
        """The network used for sampling: `generator_ema` if enabled, else `generator`."""
        return self.generator_ema if self.generator_ema is not None else self.generator

    def _update_ema(self):
        # t counts the generator updates before this one (the optimizer already advanced).
        step = tf.cast(self.generator_optimizer.iterations, tf.float32) - 1.0
        decay = tf.minimum(self.ema_decay, (1.0 + step) / (10.0 + step))
        trainable = {id(v) for v in self.generator.trainable_variables}
        for average, weight in zip(self.generator_ema.weights, self.generator.weights, strict=True):
            if id(weight) in trainable:
                average.assign(decay * average + (1.0 - decay) * weight)
            else:
                average.assign(weight)

    def _score(self, real, fake):
        if self._critic_uses_batch_stats:
            real_scores = self.critic(real, training=True)
            fake_scores = self.critic(fake, training=True)
            return tf.reshape(real_scores, [-1]), tf.reshape(fake_scores, [-1])
        scores = tf.reshape(self.critic(tf.concat([real, fake], 0), training=True), [-1])
        return tf.split(scores, 2)

    # ---------------------------------------------------------- validation
    def _build_optimizers(self):
        for optimizer, net in (
            (self.generator_optimizer, self.generator),
            (self.critic_optimizer, self.critic),
        ):
            if optimizer is not None and not optimizer.built and net.built:
                optimizer.build(net.trainable_variables)

    def _make_dataset(self, x, batch_size, shuffle):
        """Returns (dataset of critic_steps-batch groups, a small sample batch).

        `shuffle` is False or the epoch variable that seeds the array shuffle.
        """
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
            raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}.")
        if x is None:
            raise ValueError("WGANGP.fit needs real data: pass a float array or a tf.data.Dataset as `x`.")
        if isinstance(x, tf.data.Dataset):
            return self._group_dataset(x, batch_size)
        if isinstance(x, (tuple, list)) and len(x) and not np.isscalar(x[0]) and hasattr(x[0], "shape"):
            x = x[0]
        if isinstance(x, tf.Tensor):
            x = x.numpy()
        if not isinstance(x, np.ndarray):
            raise TypeError(
                f"WGANGP.fit takes a NumPy array, a tensor or a tf.data.Dataset; got {type(x).__name__}."
            )
        _check_dtype(x.dtype)
        if x.ndim < 2:
            raise ValueError(f"Data must be batched with shape (num_examples, ...); got shape {x.shape}.")
        if len(x) == 0:
            raise ValueError("The training data is empty (0 examples).")
        if not np.isfinite(x).all():
            bad = int((~np.isfinite(x)).reshape(len(x), -1).any(axis=1).sum())
            raise ValueError(
                f"The training data contains NaN or inf values in {bad} example(s); clean or drop them."
            )
        x = x.astype(keras.backend.floatx(), copy=False)
        group = (batch_size or _DEFAULT_BATCH_SIZE) * self.critic_steps
        return _array_dataset(x, group, shuffle or None), x[:2]

    def _group_dataset(self, dataset, batch_size):
        spec = _unpack_x(dataset.element_spec)
        if not isinstance(spec, tf.TensorSpec):
            raise TypeError(
                f"The dataset must yield a tensor x (or (x, y)); its element spec is {dataset.element_spec}."
            )
        _check_dtype(spec.dtype.as_numpy_dtype)
        first = next(iter(dataset.take(1)), None)
        if first is None:
            raise ValueError("The training dataset is empty (it yields no batches).")
        first = np.asarray(_unpack_x(first))
        if first.ndim < 2 or first.shape[0] == 0:
            raise ValueError(
                "The dataset must yield batches of shape (batch, ...); call "
                f".batch(batch_size) on it. Its first element has shape {first.shape}."
            )
        if not np.isfinite(first).all():
            raise ValueError("The first batch of the training dataset contains NaN or inf values.")
        batch_size = batch_size or first.shape[0]
        dataset = dataset.map(lambda *d: _unpack_x(d) if len(d) > 1 else d[0])
        if spec.dtype != keras.backend.floatx():
            dataset = dataset.map(lambda t: tf.cast(t, keras.backend.floatx()))
        # rebatch regroups without touching single examples; the last group may be partial.
        dataset = dataset.rebatch(batch_size * self.critic_steps).prefetch(tf.data.AUTOTUNE)
        return dataset, first[:2].astype(keras.backend.floatx())

    def _check_compatible(self, sample):
        """Runs both networks on a tiny batch, in inference mode, before training."""
        z = tf.zeros((len(sample), self.latent_dim))
        try:
            generated = self.generator(z, training=False)
        except Exception as error:
            raise ValueError(
                f"The generator failed on a latent batch of shape {tuple(z.shape)} "
                f"(latent_dim={self.latent_dim}): {error}"
            ) from error
        if tuple(generated.shape[1:]) != tuple(sample.shape[1:]):
            raise ValueError(
                f"The generator outputs examples of shape {tuple(generated.shape[1:])} but the "
                f"data has shape {tuple(sample.shape[1:])}. Change the generator's last layers "
                "(or reshape the data) so the two match."
            )
        try:
            scores = self.critic(sample, training=False)
        except Exception as error:
            raise ValueError(f"The critic failed on a data batch of shape {sample.shape}: {error}") from error
        shape = tuple(scores.shape)
        if shape not in ((len(sample),), (len(sample), 1)):
            raise ValueError(
                f"The critic must output one score per example, shape (batch, 1) or (batch,), "
                f"but for a batch of {len(sample)} it returned shape {shape}. End the critic "
                "with Flatten() and Dense(1)."
            )
        self.built = True


class _EpochTracker(keras.callbacks.Callback):
    # Runs before the epoch's iterator is created (Keras creates it after
    # on_epoch_begin), so the shuffle of epoch k always uses seed k.
    def __init__(self, variable):
        super().__init__()
        self.variable = variable

    def on_epoch_begin(self, epoch, logs=None):
        self.variable.assign(epoch)


def _array_dataset(x: np.ndarray, group: int, epoch_variable) -> tf.data.Dataset:
    """Groups of `group` examples; shuffled by a permutation seeded with the epoch."""
    n = len(x)
    num_groups = -(-n // group)
    if epoch_variable is None:
        order = tf.data.Dataset.from_tensors(tf.range(n, dtype=tf.int64))
    else:
        base_seed = int(np.random.randint(0, 2**31 - 1))  # follows keras.utils.set_random_seed

        def permutation(_):
            seed = tf.stack([tf.constant(base_seed, tf.int64), epoch_variable.read_value()])
            return tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=seed)

        order = tf.data.Dataset.from_tensors(0).map(permutation)
    indices = order.unbatch().batch(group).apply(tf.data.experimental.assert_cardinality(num_groups))
    # from_tensors(x) keeps the array as one dataset component, as Keras's own
    # array adapter does, instead of baking it into the graph as a constant.
    data = tf.data.Dataset.from_tensors(x).repeat()
    dataset = tf.data.Dataset.zip((indices, data)).map(lambda i, d: tf.gather(d, i))
    # One gather per step needs no autotuner or thread pool of its own; on a
    # 2-core machine those extra threads competed with the training step.
    options = tf.data.Options()
    options.autotune.enabled = False
    options.threading.private_threadpool_size = 1
    return dataset.prefetch(1).with_options(options)


def _check_dtype(dtype) -> None:
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise TypeError(
            f"WGANGP needs floating-point data, got dtype {np.dtype(dtype).name}. Convert and "
            "scale it to the generator's output range first, e.g. for uint8 images: "
            "x.astype('float32') / 127.5 - 1."
        )
