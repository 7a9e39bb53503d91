"""Training recipes as data: one table that the command line, the docs and the benchmarks read.

A `Recipe` is every setting of a training run that is not the data:
networks, objective, optimisation, EMA and length. `keras-wgangp train
--dataset D` starts from `get(D)` and lets each flag replace one field;
`build_gan` turns a recipe into a compiled `GAN`; `markdown_table` renders
`RECIPES` for the docs, and each recipe's `why` names the measurement
behind it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

__all__ = ["RECIPES", "Recipe", "build_gan", "get", "markdown_table", "objective_name"]


@dataclass(frozen=True)
class Recipe:
    """The settings of one training run, named as `keras-wgangp train`'s flags.

    Args:
        architecture: `"mlp"`, `"dcgan"` or `"resnet"` (`keras_wgangp.architectures`).
        steps: Generator updates in total, or None for `epochs` passes over the data.
        epochs: Epochs (plots are written after each).
        batch_size: Real examples per critic update.
        critic_steps: Critic updates per generator update.
        loss: An adversarial loss name (`keras_wgangp.losses.NAMES`).
        penalty: A penalty name (`keras_wgangp.penalties.NAMES`), `"r1+r2"` (both, each
            with γ, as R3GAN) or `"none"`.
        gp_weight: The penalty's weight: λ, or γ for R1 and R2.
        width: MLP units or base convolution filters.
        latent_dim: Size of z.
        learning_rate: The generator's Adam learning rate.
        critic_rate_ratio: The critic's rate as a multiple of `learning_rate`.
        beta_1: Adam's β1.
        ema_decay: Generator EMA decay, 0 for none.
        lr_schedule: `"constant"`, `"linear"` decay to 0 over the run, or `"cosine"`
            decay to 1/4 of the rate (R3GAN's 2e-4 → 5e-5).
        pack: PacGAN's packing degree (1: none).
        beta_2: Adam's β2.
        weight_schedule: `"constant"`, or `"cosine"` decay of the penalty weight to 1/10
            over the critic's updates (R3GAN's γ).
        augment: `"none"`, `"diffaugment"` or `"ada"` (`keras_wgangp.augment`; images only).
        why: The measurement behind the choice, for the docs.

    Examples:
        >>> get("25gaussians").loss
        'non_saturating'
        >>> dataclasses.replace(get("8gaussians"), steps=100).steps
        100
    """

    architecture: str
    steps: int | None
    epochs: int
    batch_size: int
    critic_steps: int
    loss: str
    penalty: str
    gp_weight: float
    width: int
    latent_dim: int
    learning_rate: float
    critic_rate_ratio: float
    beta_1: float
    ema_decay: float
    lr_schedule: str
    pack: int = 1
    beta_2: float = 0.9
    weight_schedule: str = "constant"
    augment: str = "none"
    why: str = ""

    @property
    def critic_learning_rate(self) -> float:
        """The critic's learning rate: `critic_rate_ratio × learning_rate`."""
        return self.critic_rate_ratio * self.learning_rate


# Toys: λ = 1, one critic update per generator update with a critic rate twice
# the generator's (TTUR), both decayed linearly to 0, and a 0.999 EMA.
TOYS = Recipe(
    architecture="mlp", steps=8000, epochs=10, batch_size=256, critic_steps=1,
    loss="wasserstein", penalty="gradient_penalty", gp_weight=1.0, width=128, latent_dim=2,
    learning_rate=1e-3, critic_rate_ratio=2.0, beta_1=0.5, ema_decay=0.999, lr_schedule="linear",
    why="At the same wall time this reached more samples within 3σ of a mode than 5 critic "
    "steps with equal rates.",
)  # fmt: skip
# Images: the paper's λ = 10 and 5 critic steps, with Adam(2e-4, 0.5, 0.9).
IMAGES = Recipe(
    architecture="dcgan", steps=None, epochs=100, batch_size=64, critic_steps=5,
    loss="wasserstein", penalty="gradient_penalty", gp_weight=10.0, width=32, latent_dim=64,
    learning_rate=2e-4, critic_rate_ratio=1.0, beta_1=0.5, ema_decay=0.999, lr_schedule="constant",
    why="A linear decay raised the digits FID (2.15 against 1.39 at 3,000 steps), so image rates "
    "stay constant.",
)  # fmt: skip

# Stacked digits and MNIST: non-saturating + R1 (γ = 1) with one critic step and the critic's
# rate twice the generator's, from the images recipe.
NS_R1 = dataclasses.replace(
    IMAGES, steps=12000, epochs=6, critic_steps=1, loss="non_saturating", penalty="r1", gp_weight=1.0,
    critic_rate_ratio=2.0,
)  # fmt: skip

RECIPES: dict[str, Recipe] = {
    "8gaussians": TOYS,
    "25gaussians": dataclasses.replace(
        TOYS,
        steps=24000,
        critic_steps=5,
        critic_rate_ratio=1.0,
        loss="non_saturating",
        penalty="r1",
        why="1 or 2 critic steps collapsed onto one mode; non-saturating + R1 put 93.4-94.4 % of "
        "samples within 3σ at 12,000 steps (WGAN-GP 92.6-93.5 %) in half the time, and "
        "95.4-96.4 % at 24,000.",
    ),  # fmt: skip
    "swissroll": dataclasses.replace(
        TOYS,
        loss="non_saturating",
        penalty="r1",
        why="WGAN-GP left one seed in three collapsed at the centre (0/20 segments); "
        "non-saturating + R1 covered 20/20 in seeds 0-2.",
    ),  # fmt: skip
    "digits": dataclasses.replace(IMAGES, steps=3000, epochs=20, why="FID 1.14-1.39 in 3 seeds, 157-212 s."),
    "stacked_digits": dataclasses.replace(
        NS_R1,
        why="Seed 0: 1,000/1,000 modes, KL 0.124, FID 6.3 in 7.3 min; the digits recipe (WGAN-GP, 6,000 "
        "steps) 1,000 modes, KL 0.160, FID 6.5 in 8.8 min; 24,000 steps with a linear decay KL 0.140.",
    ),  # fmt: skip
    # Real 28×28 MNIST from the mnist extra's 5,000 digits: the stacked_digits settings with
    # rates 5x higher (generator 1e-3, critic 2e-3) and a stronger R1 (γ = 5).
    "mnist": dataclasses.replace(
        NS_R1,
        steps=6000,
        learning_rate=1e-3,
        gp_weight=5.0,
        why="Seeds 0-2 at 6,000 steps (647-684 s): FID 20.6 / 20.5 / 21.6, 2.03 / 2.16 / 1.80x the floor, "
        "the rarest class 7.8-8.7 %; rates 2e-4 / 4e-4 and γ = 1 gave 49.0 / 39.3 / 40.2. Seed 0 at 2,000 "
        "steps: FID 144 at 2e-4, 49.9 at 5e-4, 38.4 at 1e-3, 36.2 at 2e-3, 33.4 at 1e-3 with γ = 5.",
    ),  # fmt: skip
    "stacked_mnist": dataclasses.replace(
        NS_R1,
        steps=13000,
        epochs=5,
        lr_schedule="linear",
        ema_decay=0.9995,
        why="Seeds 0-2 at 13,000 steps (17-19 min of training on 2 cores): modes 1,000 / 1,000 / 998, "
        "KL 0.066 / 0.104 / 0.275, FID 414 / 528 / 628 (floor 27-28.5). Seed 0 with constant rates and "
        "EMA 0.999: 999 modes, KL 0.138, FID 468.",
    ),  # fmt: skip
    "images": IMAGES,
    # R3GAN (Huang et al. 2024) on the DCGAN pair: RpGAN + R1 + R2, γ and the rate on cosine
    # schedules, Adam(β1 = 0, β2 = 0.99: R3GAN moves β2 from 0.9 to 0.99, which a Keras Adam
    # cannot follow), EMA, and augmentation. `--recipe r3gan` picks it for any image data.
    "r3gan": dataclasses.replace(
        IMAGES,
        critic_steps=1,
        loss="relativistic_pairing",
        penalty="r1+r2",
        gp_weight=1.0,
        learning_rate=2e-4,
        beta_1=0.0,
        beta_2=0.99,
        lr_schedule="cosine",
        weight_schedule="cosine",
        augment="ada",
        why="On 10 % of the digits at 1,000 critic updates: FID 2.84 with ADA (p 0.20), 2.68 without "
        "augmentation, 5.98 with DiffAugment; ADA only augments as much as the critic overfits.",
    ),
}


def get(dataset: str) -> Recipe:
    """The recipe of a dataset: its own row, else `"images"` (folders and tfds datasets).

    Args:
        dataset: A built-in dataset name, a tfds name or a folder path.

    Returns:
        A `Recipe`.

    Examples:
        >>> get("my_photos/").architecture
        'dcgan'
    """
    return RECIPES.get(dataset, RECIPES["images"])


def objective_name(loss: str, penalty: str) -> str:
    """A short name of an objective: `"WGAN-GP"` or `"loss + penalty"`.

    Args:
        loss: The loss name.
        penalty: The penalty name or `"none"`.

    Returns:
        The name.

    Examples:
        >>> objective_name("wasserstein", "gradient_penalty"), objective_name("hinge", "r1")
        ('WGAN-GP', 'hinge + r1')
    """
    if loss == "wasserstein" and penalty in ("gradient_penalty", "gp"):
        return "WGAN-GP"
    return loss if penalty == "none" else f"{loss} + {penalty}"


def _penalty(name: str, weight):
    """The named penalties ("a+b" for several) with their weight (λ, or γ for R1/R2) set to `weight`."""
    from keras_wgangp import penalties

    if name == "none":
        return None
    found = []
    for part in name.split("+"):
        penalty = penalties.get(part)
        config = penalty.get_config()
        config["gamma" if "gamma" in config else "weight"] = weight
        found.append(type(penalty).from_config(config))
    return found


# ADA's r_t reads sign(D(x)) for losses whose scores are logits; the others use the pair statistic.
_LOGIT_LOSSES = ("non_saturating", "minimax", "hinge")


def _augmentation(recipe: Recipe, critic_updates: int | None, validation: bool):
    from keras_wgangp import augment

    if recipe.augment != "ada":
        return augment.get(recipe.augment)
    # p may cross [0, 1] in a quarter of the run (ADA's 500k images, for runs of millions).
    images = (critic_updates or 2000) * recipe.batch_size
    statistic = "real" if recipe.loss in _LOGIT_LOSSES else "pair"
    if validation:  # held-out images are watched: steer by r_v, which means the same for every loss
        statistic = "validation"
    return augment.ADA(speed_images=int(min(500_000, max(1000, images // 4))), statistic=statistic)


def build_gan(
    recipe: Recipe,
    data_shape: tuple,
    *,
    total_steps: int | None = None,
    num_classes: int | None = None,
    conditioning: str = "projection",
    seed: int = 0,
    critic_learning_rate: float | None = None,
    validation: bool = False,
):
    """A compiled `GAN` (a `WGANGP` for WGAN-GP) for data of one shape, from a recipe.

    Args:
        recipe: The `Recipe`.
        data_shape: One example's shape, e.g. `(2,)` or `(16, 16, 1)`.
        total_steps: Generator updates of the run, which a linear
            schedule decays over (the critic's over `critic_steps` times as many).
        num_classes: K for a conditional model, else None.
        conditioning: `"projection"`, `"concat"` or `"acgan"` (with `num_classes`).
        seed: The model's seed.
        critic_learning_rate: Overrides `recipe.critic_learning_rate`.
        validation: Held-out real images will be watched by a `CriticOverfitting`
            callback: ADA then steers by their r_v (`statistic="validation"`) instead of
            the recipe's loss-based statistic (`"real"` for logit losses, else `"pair"`).

    Returns:
        The compiled model.

    Examples:
        >>> gan = build_gan(dataclasses.replace(get("8gaussians"), width=16), (2,), total_steps=100)
        >>> type(gan).__name__, gan.critic_steps
        ('WGANGP', 1)
    """
    import keras
    import numpy as np

    from keras_wgangp import architectures as arch
    from keras_wgangp.gan import GAN
    from keras_wgangp.wgangp import WGANGP

    conditional = {}
    if num_classes is not None:
        acgan = conditioning == "acgan"
        conditional = {
            "num_classes": num_classes,
            "conditioning": None if acgan else conditioning,
            "auxiliary_classifier": acgan,
        }
    width = recipe.width
    # With pack m the critic sees m examples joined along the last axis.
    critic_shape = (*data_shape[:-1], data_shape[-1] * recipe.pack)
    if recipe.architecture == "mlp":
        generator = arch.mlp_generator(recipe.latent_dim, data_shape[0], units=width, num_classes=num_classes)
        critic = arch.mlp_critic(critic_shape[0], units=width, **conditional)
    elif recipe.architecture == "dcgan":
        generator = arch.dcgan_generator(
            recipe.latent_dim, data_shape, filters=width, num_classes=num_classes
        )
        critic = arch.dcgan_critic(critic_shape, filters=width, **conditional)
    elif num_classes is not None:
        raise ValueError("--conditional works with --architecture mlp or dcgan")
    else:
        generator = arch.resnet_generator(recipe.latent_dim, data_shape, dim=width)
        critic = arch.resnet_critic(critic_shape, dim=width)
    if recipe.loss == "began":
        if num_classes is not None:
            raise ValueError("--loss began has no conditional critic; drop --conditional")
        units = width // 4 if recipe.architecture == "resnet" else width
        # A bottleneck no wider than the data, so the autoencoder cannot learn the identity.
        critic = arch.began_critic(critic_shape, units=units, code_dim=min(32, int(np.prod(data_shape))))
    # Each schedule counts its own optimizer's updates.
    critic_updates = total_steps and total_steps * recipe.critic_steps
    if not total_steps and (recipe.lr_schedule, recipe.weight_schedule) != ("constant", "constant"):
        raise ValueError("A learning-rate or penalty-weight schedule needs `total_steps`, the run's length.")
    options = {"critic_steps": recipe.critic_steps, "seed": seed, "ema_decay": recipe.ema_decay or None}
    options["augment"] = _augmentation(recipe, critic_updates, validation)
    weight = recipe.gp_weight
    if recipe.weight_schedule == "cosine":
        weight = keras.optimizers.schedules.CosineDecay(weight, critic_updates, alpha=0.1)
    if recipe.pack > 1:
        options["pack"] = recipe.pack
    if num_classes is not None:
        options["num_classes"] = num_classes
        if conditioning == "acgan":
            options["classifier_weight"] = 1.0
    if objective_name(recipe.loss, recipe.penalty) == "WGAN-GP":
        gan = WGANGP(generator, critic, gp_weight=weight, **options)
    else:
        gan = GAN(generator, critic, loss=recipe.loss, penalty=_penalty(recipe.penalty, weight), **options)

    def adam(rate, updates):
        if recipe.lr_schedule == "linear":
            rate = keras.optimizers.schedules.PolynomialDecay(rate, updates, end_learning_rate=0.0)
        elif recipe.lr_schedule == "cosine":
            rate = keras.optimizers.schedules.CosineDecay(rate, updates, alpha=0.25)
        return keras.optimizers.Adam(rate, beta_1=recipe.beta_1, beta_2=recipe.beta_2)

    critic_rate = recipe.critic_learning_rate if critic_learning_rate is None else critic_learning_rate
    gan.compile(adam(recipe.learning_rate, total_steps), adam(critic_rate, critic_updates))
    return gan


def markdown_table() -> str:
    """Every recipe as a Markdown table (the docs' recipes page is built from it).

    Returns:
        The table, one row per recipe and one column per setting.

    Examples:
        >>> markdown_table().splitlines()[0][:30]
        '| recipe | architecture | step'
    """
    fields = [f.name for f in dataclasses.fields(Recipe) if f.name != "why"]
    lines = ["| recipe | " + " | ".join(fields) + " |", "|---" * (len(fields) + 1) + "|"]
    for name, recipe in RECIPES.items():
        values = ["–" if getattr(recipe, f) is None else str(getattr(recipe, f)) for f in fields]
        lines.append(f"| `{name}` | " + " | ".join(values) + " |")
    return "\n".join(lines)
