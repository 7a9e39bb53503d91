"""`WGANGP`: the `GAN` preset of Gulrajani et al. 2017, the package's headline model."""

from __future__ import annotations

import keras

from keras_wgangp._options import check_scheduled_weight, weight_config
from keras_wgangp.gan import GAN
from keras_wgangp.losses import Wasserstein
from keras_wgangp.optimizers import paper_adam
from keras_wgangp.penalties import GradientPenalty

__all__ = ["WGANGP"]


@keras.saving.register_keras_serializable(package="keras_wgangp")
class WGANGP(GAN):
    """WGAN-GP (Gulrajani et al. 2017, arXiv:1704.00028) as a Keras model.

    The same as `GAN(generator, critic, loss="wasserstein",
    penalty=GradientPenalty(weight=gp_weight, target=target_norm),
    critic_steps=5)`, with the paper's Adam(1e-4, β1=0, β2=0.9) as the
    default optimizers. `fit` trains with Algorithm 1 of the paper: every
    training step makes `critic_steps` critic updates, each on its own
    `batch_size` fresh real examples, followed by one generator update. The
    critic loss is `mean D(fake) − mean D(real) + gp_weight · GP` with the
    penalty of `keras_wgangp.gradient_penalty` (ε ~ U[0, 1] once per
    example); the generator loss is `−mean D(G(z))`. See `GAN` for the
    batching, EMA, saving and export.

    The paper's settings are the defaults here. The recipes of
    `keras-wgangp train` (`keras_wgangp.recipes`, built by
    `keras_wgangp.recipes.build_gan`) train faster on a CPU budget; the docs'
    results pages give the measurements behind them.

    Logged metrics, each averaged over the epoch: `loss` (= `critic_loss`),
    `critic_loss`, `generator_loss`, `gradient_penalty` (unweighted),
    `gradient_norm` (mean ‖∇D(x̂)‖) and `wasserstein_estimate`
    (mean D(real) − mean D(fake)).

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
        gp_weight: Penalty coefficient λ (10 in the paper), or a `LearningRateSchedule`.
        target_norm: Gradient norm the penalty pulls towards (1 in the paper).
        seed: Seed of the model's `keras.random.SeedGenerator`, which draws
            every latent and ε in training; its state is saved with
            the model.
        clip_value: If set, clip every critic weight to [−c, c] after each
            critic update: the weight clipping of the original WGAN (Arjovsky
            et al. 2017; c = 0.01 there, with `gp_weight=0` and RMSProp(5e-5)).
        ema_decay: If set (e.g. 0.999), keep `generator_ema`, an exponential
            moving average of the generator's weights (see `GAN`).
        **kwargs: Other `GAN` options: `num_classes` (conditional WGAN-GP),
            `classifier_weight` (ACGAN), `latent_codes` and `info_weight`
            (InfoGAN); the rest go to `keras.Model` (for example `name`).

    Examples:
        >>> import keras_wgangp as kw
        >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=32),
        ...                 kw.architectures.mlp_critic(units=32), critic_steps=2)
        >>> gan.compile()
        >>> history = gan.fit(kw.data.toy_samples("8gaussians", 256, seed=0),
        ...                   batch_size=64, epochs=1, verbose=0)
        >>> sorted(history.history)  # doctest: +NORMALIZE_WHITESPACE
        ['critic_loss', 'generator_loss', 'gradient_norm', 'gradient_penalty', 'loss',
         'wasserstein_estimate']
        >>> gan.generate(4, seed=0).shape
        (4, 2)
    """

    def __init__(
        self,
        generator,
        critic,
        latent_dim: int | None = None,
        critic_steps: int = 5,
        gp_weight=10.0,
        target_norm: float = 1.0,
        seed: int | None = None,
        clip_value: float | None = None,
        ema_decay: float | None = None,
        **kwargs,
    ):
        gp_weight = check_scheduled_weight("gp_weight", gp_weight)
        super().__init__(
            generator,
            critic,
            loss=Wasserstein(),
            penalty=GradientPenalty(weight=gp_weight, target=target_norm),
            critic_steps=critic_steps,
            latent_dim=latent_dim,
            seed=seed,
            ema_decay=ema_decay,
            clip_value=clip_value,
            **kwargs,
        )
        self.gp_weight = gp_weight
        self.target_norm = float(target_norm)

    def _default_optimizer(self) -> keras.optimizers.Optimizer:
        return paper_adam()

    def get_config(self):
        config = super().get_config()
        for key in ("loss", "penalty"):  # fixed by the preset
            del config[key]
        config.update(gp_weight=weight_config(self.gp_weight), target_norm=self.target_norm)
        return config
