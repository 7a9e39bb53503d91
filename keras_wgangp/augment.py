"""Differentiable augmentation of everything the critic sees: DiffAugment and ADA.

With a few hundred training images a critic memorises them, and the
generator's samples degrade. Zhao et al. 2020 ("Differentiable Augmentation
for Data-Efficient GAN Training") and Karras et al. 2020 ("Training
Generative Adversarial Networks with Limited Data", ADA) apply one random
transform T to every critic input, real and generated, in the critic update
and in the generator update; T is differentiable, so the generator's
gradient flows through it, and the GAN matches T(data) to T(G(z)), which
for these transforms means the data itself.

`GAN(..., augment=...)` takes `DiffAugment` (every transform on every
image), `ADA` (each transform with a probability p that a controller
raises when the critic overfits) or their names. The penalties see the
augmented points: R1 at T(x), R2 at T(G(z)), the gradient penalty at
ε·T(x) + (1 − ε)·T(G(z)), each the gradient of D there. `generate` and
`export` never augment.

The transforms are DiffAugment's, on NHWC images in [−1, 1], drawn per image:

| policy | transforms |
|---|---|
| `color` | brightness x + (u − 0.5); saturation (x − x̄_c)·2u + x̄_c; contrast (x − x̄)·(u + ½) + x̄ |
| `translation` | shift by up to 1/8 of each side (rounded), zero padding |
| `cutout` | zero a square of half the side, at a uniform centre |

with u ~ U[0, 1) per image; x̄_c is each pixel's mean over channels (saturation leaves 1-channel images
unchanged), x̄ the image's mean.
"""

from __future__ import annotations

from typing import Any

import keras

from keras_wgangp._options import Configurable, check_count, resolve
from keras_wgangp._random import draw

Tensor = Any
ops = keras.ops

__all__ = ["ADA", "NAMES", "POLICIES", "Augmentation", "DiffAugment", "get", "transforms"]

POLICIES = ("color", "translation", "cutout")


def _uniform(x, seed, rows):
    return draw(keras.random.uniform, rows, (1, 1, 1), seed=seed, dtype=x.dtype)


def _brightness(x, seed, rows):
    return x + (_uniform(x, seed, rows) - 0.5)


def _saturation(x, seed, rows):
    mean = ops.mean(x, axis=3, keepdims=True)
    return (x - mean) * (2.0 * _uniform(x, seed, rows)) + mean


def _contrast(x, seed, rows):
    mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * (_uniform(x, seed, rows) + 0.5) + mean


def _shift_matrices(size, shifts, dtype):
    # M[b, i, j] = 1 where j = i + shift_b: (M @ x)[i] = x[i + shift], 0 outside.
    index = ops.arange(size, dtype="float32")
    return ops.cast(ops.equal(index[None, None, :], index[None, :, None] + shifts[:, None, None]), dtype)


def _integers(seed, rows, low, high):
    # Uniform integers in [low, high), as float32.
    u = draw(keras.random.uniform, rows, (), seed=seed)
    return ops.minimum(ops.floor(u * (high - low)), high - low - 1) + low


def _translation(x, seed, rows, ratio=0.125):
    height, width = x.shape[1], x.shape[2]
    dy, dx = int(height * ratio + 0.5), int(width * ratio + 0.5)
    rows_shift = _shift_matrices(height, _integers(seed, rows, -dy, dy + 1), x.dtype)
    cols_shift = _shift_matrices(width, _integers(seed, rows, -dx, dx + 1), x.dtype)
    x = ops.einsum("bij,bjwc->biwc", rows_shift, x)
    return ops.einsum("bkl,bilc->bikc", cols_shift, x)


def _window(size, cut, seed, rows):
    # 1 on [centre − cut//2, centre − cut//2 + cut), the centre uniform as in DiffAugment.
    start = _integers(seed, rows, 0, size + (1 - cut % 2)) - cut // 2
    index = ops.arange(size, dtype="float32")[None, :]
    return ops.cast((index >= start[:, None]) & (index < start[:, None] + cut), "float32")


def _cutout(x, seed, rows, ratio=0.5):
    height, width = x.shape[1], x.shape[2]
    in_rows = _window(height, int(height * ratio + 0.5), seed, rows)
    in_cols = _window(width, int(width * ratio + 0.5), seed, rows)
    keep = 1.0 - in_rows[:, :, None] * in_cols[:, None, :]
    return x * ops.cast(keep[..., None], x.dtype)


_TRANSFORMS = {
    "color": (_brightness, _saturation, _contrast),
    "translation": (_translation,),
    "cutout": (_cutout,),
}


def _parse_policy(policy) -> str:
    if not isinstance(policy, str):
        raise TypeError(
            f"`policy` must be a comma-separated string of {', '.join(POLICIES)}, got {policy!r}."
        )
    names = [name.strip() for name in policy.split(",") if name.strip()]
    unknown = [name for name in names if name not in _TRANSFORMS]
    if unknown or not names:
        raise ValueError(
            f"Unknown augmentation policy {policy!r}; use a comma-separated list of {', '.join(POLICIES)} "
            '(for example "color,translation,cutout").'
        )
    return ",".join(names)


def transforms(policy: str) -> list:
    """The transform functions of a policy, in order.

    Args:
        policy: Comma-separated names from `POLICIES`.

    Returns:
        A list of functions `f(images, seed, rows) -> images`.

    Examples:
        >>> [f.__name__ for f in transforms("translation,cutout")]
        ['_translation', '_cutout']
    """
    return [f for name in _parse_policy(policy).split(",") for f in _TRANSFORMS[name]]


def _rows(x):
    return x.shape[0] if x.shape[0] is not None else ops.shape(x)[0]


class Augmentation(Configurable):
    """Base class of the critic-input augmentations: subclass it for your own.

    `__call__(images, seed)` returns T(images); `build()` creates the
    augmentation's state variables (a `GAN` tracks them, so they are saved);
    `after_critic_update(real_scores, fake_scores)` updates that state after
    each critic update and returns the values to log under `metric_names`;
    `observe_overfitting(r_v)` receives each measurement of a
    `CriticOverfitting` callback (an augmentation that needs them sets
    `needs_validation`, and `fit` then refuses to run without that callback).

    Args:
        policy: Comma-separated transform names from `POLICIES`.
    """

    name = "augmentation"
    metric_names: tuple[str, ...] = ()

    def __init__(self, policy: str = "color,translation,cutout"):
        self.policy = _parse_policy(policy)
        self._transforms = transforms(self.policy)

    def probability(self):
        """Each transform's probability per image, or None for always."""
        return None

    def __call__(self, images: Tensor, seed=None) -> Tensor:
        images = ops.convert_to_tensor(images)
        if len(images.shape) != 4:
            raise ValueError(
                f"Augmentation works on images of shape (batch, height, width, channels), got shape "
                f"{tuple(images.shape)}; train without `augment` on vector data."
            )
        rows, p = _rows(images), self.probability()
        for transform in self._transforms:
            changed = transform(images, seed, rows)
            if p is not None:  # ADA: each transform applies to an image with probability p
                applied = _uniform(images, seed, rows) < ops.cast(p, images.dtype)
                changed = ops.where(applied, changed, images)
            images = changed
        return images

    def build(self) -> list:
        return []

    def after_critic_update(self, real_scores, fake_scores) -> dict:
        return {}

    needs_validation = False

    def observe_overfitting(self, overfit_rv: float) -> None:
        """Takes a measured r_v (`keras_wgangp.callbacks.CriticOverfitting`); ignored here."""

    def get_config(self) -> dict:
        return {"policy": self.policy}


@keras.saving.register_keras_serializable(package="keras_wgangp")
class DiffAugment(Augmentation):
    """DiffAugment (Zhao et al. 2020): every transform of the policy on every critic input.

    Args:
        policy: Comma-separated transform names from `POLICIES`; the
            paper's default `"color,translation,cutout"`.

    Examples:
        >>> T = DiffAugment("translation")
        >>> images = keras.ops.ones((2, 8, 8, 1))
        >>> tuple(T(images, seed=0).shape)
        (2, 8, 8, 1)
    """

    name = "diffaugment"


@keras.saving.register_keras_serializable(package="keras_wgangp")
class ADA(Augmentation):
    """Adaptive discriminator augmentation (Karras et al. 2020), over DiffAugment's transforms.

    Each transform applies to an image with probability p. p starts at
    `initial_p`; after every `adjust_every` critic updates it moves by
    sign(r_t − target)·N/speed_images, clipped to [0, 1], where N is the
    number of real images of those updates (batch × adjust_every) and r_t
    the overfitting heuristic over them:

    - `statistic="real"` (the paper's r_t): E[sign(D(x))], for losses whose
      scores are logits (non-saturating, hinge), where D(x) > 0 means "real".
    - `statistic="pair"`: E[sign(D(xᵢ) − D(G(zᵢ)))], the fraction of pairs the
      critic orders correctly, mapped to [−1, 1]. Wasserstein and relativistic
      critics are defined up to an added constant, so their sign(D(x)) says
      where that constant drifted, not whether the critic memorised the data;
      use this statistic with them.
    - `statistic="validation"`: the ADA paper's first heuristic, r_v =
      (E[D(x_train)] − E[D(x_val)]) / (E[D(x_train)] − E[D(G(z))]), measured
      on real images the critic never trains on by a
      `keras_wgangp.callbacks.CriticOverfitting` callback in the same `fit`
      (`fit` refuses this statistic without one). r_v is 0 when the critic
      scores unseen reals like the training images and 1 when it scores them
      like fakes; it is unchanged by adding a constant to the critic or
      scaling it, so it means the same for every loss. Between measurements
      the controller keeps integrating the last measured r_v. Its default
      target is 0.3, measured on real MNIST with R3GAN
      (`benchmarks/limited_data.py --mnist`): on all 4,000 training digits
      r_v stayed below 0.18 for 3,000 generator steps, while on 100 digits
      it passed 0.5 within the first 300 and reached 1.17.

    p is a model variable (saved, restored) and logged as `augment_p`. The
    transforms are DiffAugment's (`POLICIES`), not ADA's 18-transform
    pipeline; on small images the two cover the same ground (colour,
    position, occlusion).

    Args:
        target: The r_t the controller aims for: None gives 0.6 (the paper's) for
            `"real"` and `"pair"`, 0.3 for `"validation"`.
        adjust_every: Critic updates between adjustments (4 in the paper).
        speed_images: Images over which p can move from 0 to 1 (500,000 in
            the paper, sized for runs of millions of images; runs of a few
            thousand updates need about 50,000).
        policy: Comma-separated transform names from `POLICIES`.
        statistic: `"real"`, `"pair"` or `"validation"` (see above).
        initial_p: p before the first adjustment.

    Examples:
        >>> ada = ADA(adjust_every=1, speed_images=100)
        >>> _ = ada.build()
        >>> logs = ada.after_critic_update(keras.ops.ones(10), keras.ops.zeros(10))  # r_t = 1 > 0.6
        >>> round(float(logs["augment_p"]), 6)  # 0 + 10/100
        0.1
        >>> ada = ADA(statistic="validation", adjust_every=1, speed_images=100)
        >>> _ = ada.build()
        >>> ada.observe_overfitting(0.9)  # a measured r_v above the target 0.3: p rises
        >>> round(float(ada.after_critic_update(keras.ops.ones(10), keras.ops.ones(10))["augment_p"]), 6)
        0.1
    """

    name = "ada"
    metric_names = ("augment_p",)
    STATISTICS = ("real", "pair", "validation")
    TARGETS = {"real": 0.6, "pair": 0.6, "validation": 0.3}

    def __init__(
        self,
        target: float | None = None,
        adjust_every: int = 4,
        speed_images: int = 500_000,
        policy: str = "color,translation,cutout",
        statistic: str = "real",
        initial_p: float = 0.0,
    ):
        super().__init__(policy)
        if statistic not in self.STATISTICS:
            raise ValueError(f'`statistic` must be "real", "pair" or "validation", got {statistic!r}.')
        target = self.TARGETS[statistic] if target is None else target
        if not -1.0 <= float(target) <= 1.0:
            raise ValueError(f"`target` must be in [-1, 1], got {target!r}.")
        if not 0.0 <= float(initial_p) <= 1.0:
            raise ValueError(f"`initial_p` must be in [0, 1], got {initial_p!r}.")
        self.target, self.statistic, self.initial_p = float(target), statistic, float(initial_p)
        self.adjust_every = check_count("adjust_every", adjust_every)
        self.speed_images = check_count("speed_images", speed_images)
        self.p = None
        self.overfit_rv = None

    @property
    def needs_validation(self) -> bool:
        """Whether `fit` needs a `CriticOverfitting` callback to feed `observe_overfitting`."""
        return self.statistic == "validation"

    def build(self) -> list:
        def variable(name, value=0.0):
            # "mean": under a distribution strategy the replicas' updates average.
            return keras.Variable(
                value, dtype="float32", trainable=False, autocast=False, aggregation="mean", name=name
            )

        # p, and the running sum of signs, images and updates of the current interval.
        self.p = variable("augment_p", self.initial_p)
        self._interval = [variable("ada_sign_sum"), variable("ada_images"), variable("ada_updates")]
        if self.statistic != "validation":
            return [self.p, *self._interval]
        # The last measured r_v; the target until the first measurement, so p holds until then.
        self.overfit_rv = variable("ada_overfit_rv", self.target)
        return [self.p, *self._interval, self.overfit_rv]

    def observe_overfitting(self, overfit_rv: float) -> None:
        """Keeps r_v for the `"validation"` statistic (the other statistics ignore it)."""
        if self.needs_validation:
            if self.p is None:
                self.build()
            self.overfit_rv.assign(float(overfit_rv))

    def probability(self):
        if self.p is None:
            self.build()
        return ops.convert_to_tensor(self.p)

    def after_critic_update(self, real_scores, fake_scores) -> dict:
        if self.p is None:
            self.build()
        real = ops.reshape(ops.cast(real_scores, "float32"), (-1,))
        if self.statistic == "pair":
            real = real - ops.reshape(ops.cast(fake_scores, "float32"), (-1,))
        sign_sum, images, updates = (ops.convert_to_tensor(v) for v in self._interval)
        signs = sign_sum + ops.sum(ops.sign(real))
        seen = images + ops.cast(ops.shape(real)[0], "float32")
        count = updates + 1.0
        due = count >= self.adjust_every
        if self.statistic == "validation":
            r_t = ops.convert_to_tensor(self.overfit_rv)
        else:
            r_t = signs / ops.maximum(seen, 1.0)
        p = ops.convert_to_tensor(self.p)
        p = ops.where(due, ops.clip(p + ops.sign(r_t - self.target) * seen / self.speed_images, 0.0, 1.0), p)
        for variable, value in zip(self._interval, (signs, seen, count), strict=True):
            variable.assign(ops.where(due, 0.0, value))
        self.p.assign(p)
        return {"augment_p": p}

    def get_config(self) -> dict:
        return {
            "target": self.target,
            "adjust_every": self.adjust_every,
            "speed_images": self.speed_images,
            "policy": self.policy,
            "statistic": self.statistic,
            "initial_p": self.initial_p,
        }


_AUGMENTATIONS = {"diffaugment": DiffAugment, "ada": ADA}
NAMES = tuple(_AUGMENTATIONS)  # the names `get` resolves


def get(identifier) -> Augmentation | None:
    """Resolves an augmentation name, config or object; None and `"none"` give None.

    Args:
        identifier: `"diffaugment"`, `"ada"`, `"none"`, None, a config dict
            from `keras.saving.serialize_keras_object`, or an `Augmentation`.

    Returns:
        An `Augmentation`, or None.

    Examples:
        >>> get("ada").get_config()["target"]
        0.6
        >>> get("none") is None
        True
    """
    if identifier is None or identifier == "none":
        return None
    return resolve(identifier, _AUGMENTATIONS, Augmentation, "augmentation")
