"""Watching the critic overfit: the ADA paper's r_v on images the critic never trained on.

Karras et al. 2020 ("Training Generative Adversarial Networks with Limited Data", §3) measure
how far a critic has memorised its training set by scoring three sets, training images,
held-out real images and generated images:

    r_v = (E[D(x_train)] − E[D(x_val)]) / (E[D(x_train)] − E[D(G(z))])

0 when the critic scores unseen real images like the ones it trained on, 1 when it scores them
like fakes. Adding a constant to D or scaling it leaves r_v unchanged, so the value means the
same for Wasserstein, hinge, relativistic and non-saturating critics. `CriticOverfitting`
measures it during `fit`; `ADA(statistic="validation")` steers its augmentation by it.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_wgangp.conditioning import pack

__all__ = ["CriticOverfitting", "critic_scores", "overfit_ratio"]

# The denominator's floor, relative to the scores' spread: r_v stays finite when the critic
# scores the fakes as high as the training images.
_FLOOR = 1e-6


def overfit_ratio(train_scores, validation_scores, fake_scores) -> float:
    """r_v = (E[D(x_train)] − E[D(x_val)]) / (E[D(x_train)] − E[D(G(z))]).

    The denominator is floored at 1e-6 × (1 + the scores' standard deviation), so a critic
    that scores fakes at or above the training images gives a finite (large) value, never NaN.

    Args:
        train_scores: Critic scores of training images.
        validation_scores: Critic scores of held-out real images.
        fake_scores: Critic scores of generated images.

    Returns:
        r_v, a float.

    Examples:
        >>> overfit_ratio([2.0, 4.0], [1.0, 1.0], [-1.0, -1.0])  # (3 - 1) / (3 - (-1))
        0.5
        >>> overfit_ratio([1.0], [1.0], [1.0])  # nothing to tell apart: 0, not NaN
        0.0
    """
    sets = [np.asarray(s, "float64").reshape(-1) for s in (train_scores, validation_scores, fake_scores)]
    if any(len(s) == 0 for s in sets):
        raise ValueError("overfit_ratio needs at least one score in each set.")
    train, validation, fake = (float(np.mean(s)) for s in sets)
    floor = _FLOOR * (1.0 + float(np.std(np.concatenate(sets))))
    return (train - validation) / max(train - fake, floor)


def critic_scores(gan, images, labels=None, batch_size: int = 256) -> np.ndarray:
    """The critic's scores of real or generated images, in inference mode.

    A packed critic (`GAN(pack=m)`) scores groups of m consecutive images (the rows past the last
    whole group are dropped); a conditional one scores each image with its label.

    Args:
        gan: A `keras_wgangp.GAN`.
        images: Images (or vectors) of the critic's input shape.
        labels: int class ids, one per image, for a conditional model; else None.
        batch_size: Images per critic call.

    Returns:
        float64 scores, one per image (one per group when packed).

    Examples:
        >>> import keras_wgangp as kw
        >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8))
        >>> critic_scores(gan, np.zeros((5, 2), "float32")).shape
        (5,)
    """
    images = np.asarray(images, "float32")
    if gan.num_classes is not None and labels is None:
        raise ValueError(
            "This critic is conditional: pass the labels of the images, e.g. "
            "CriticOverfitting((x_val, y_val), (x_train, y_train))."
        )
    step = batch_size * gan.pack
    scores = []
    for start in range(0, len(images) - gan.pack + 1, step):
        x = pack(keras.ops.convert_to_tensor(images[start : start + step]), gan.pack)
        y = (
            None
            if labels is None
            else keras.ops.convert_to_tensor(np.asarray(labels[start : start + step], "int32"))
        )
        outputs = gan.critic(gan.conditioning.critic_inputs(x, y), training=False)
        scores.append(keras.ops.convert_to_numpy(gan.conditioning.split(outputs).score))
    return np.concatenate(scores).astype("float64")


def _split(data, name: str):
    if isinstance(data, tuple) and len(data) == 2:
        images, labels = data
        return np.asarray(images, "float32"), np.asarray(labels).astype("int32").reshape(-1)
    return np.asarray(data, "float32"), None


class CriticOverfitting(keras.callbacks.Callback):
    """Measures how far the critic has memorised its training images (r_v), every few epochs.

    At the end of every `every_n_epochs`-th epoch (and every `every_n_steps` generator steps,
    when set) it scores a fixed draw of up to `num_images` held-out real images, as many
    training images and as many generated images (the raw generator's, from the same latents
    every time) with the critic, and writes into the epoch's `logs` (so `History`, `CSVLogger`
    and `TensorBoard` see them; list it before those callbacks), and into `record`:

    - `critic_real_train`, `critic_real_validation`, `critic_fake`: the mean scores;
    - `overfit_rv`: r_v = (train − validation) / (train − fake) (`overfit_ratio`): 0 when the
      critic scores unseen real images like the training images, 1 when it scores them like
      fakes (Karras et al. 2020, §3).

    Each measurement also goes to the model's augmentation (`observe_overfitting`), which is
    how `ADA(statistic="validation")` steers p. Skipped epochs cost nothing; a measurement
    costs three critic passes and one generator pass over `num_images` images.

    Args:
        validation_images: Real images the critic never trains on, or `(images, labels)` for a
            conditional model.
        train_images: Images from the training set (or `(images, labels)`).
        every_n_epochs: Measure on epochs n, 2n, ... (1-based).
        num_images: Images per set and measurement (the first `num_images` of a fixed shuffle).
        every_n_steps: Also measure every this many generator steps (None: epochs only); the
            epoch's logs then carry the latest measurement.
        seed: Seed of the draw of images and of the generator's latents.

    Examples:
        >>> import keras_wgangp as kw
        >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8))
        >>> gan.compile()
        >>> data = kw.data.toy_samples("8gaussians", 512, seed=0)
        >>> watch = CriticOverfitting(data[:128], data[128:], num_images=64)
        >>> history = gan.fit(data[128:], epochs=2, verbose=0, callbacks=[watch])
        >>> len(history.history["overfit_rv"]), watch.record["epoch"]
        (2, [1, 2])
    """

    observes_critic_overfitting = True  # what `fit` looks for when ADA needs r_v

    def __init__(
        self,
        validation_images,
        train_images,
        every_n_epochs: int = 1,
        num_images: int = 1024,
        every_n_steps: int | None = None,
        seed: int = 0,
    ):
        super().__init__()
        for name, value in (("every_n_epochs", every_n_epochs), ("num_images", num_images)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
        if every_n_steps is not None and (
            isinstance(every_n_steps, bool) or not isinstance(every_n_steps, int) or every_n_steps < 1
        ):
            raise ValueError(f"every_n_steps must be None or an integer >= 1, got {every_n_steps!r}.")
        rng = np.random.default_rng(seed)
        sets = {}
        for name, data in (("validation_images", validation_images), ("train_images", train_images)):
            images, labels = _split(data, name)
            if len(images) < 1 or (labels is not None and len(labels) != len(images)):
                raise ValueError(
                    f"{name} must be a non-empty array of images, or (images, labels) of equal length; "
                    f"got {len(images)} images."
                )
            rows = rng.permutation(len(images))[:num_images]
            sets[name] = (images[rows], None if labels is None else labels[rows])
        self.validation, self.train = sets["validation_images"], sets["train_images"]
        self.every_n_epochs, self.every_n_steps, self.seed = every_n_epochs, every_n_steps, seed
        self.num_images = num_images
        self.record: dict[str, list] = {"epoch": [], "step": []}
        self._latest: dict | None = None
        self._epoch, self._last_step = 0, 0

    def measure(self) -> dict:
        """r_v and the three mean scores of the model now, as floats."""
        gan = self.model
        (train, labels), (validation, validation_labels) = self.train, self.validation
        z, _ = gan.conditioning.draw_latents(
            gan.latent_dim, len(train), keras.random.SeedGenerator(self.seed)
        )
        fake = []
        for start in range(0, len(train), 256):  # the raw generator: what the critic trains against
            y = None if labels is None else keras.ops.convert_to_tensor(labels[start : start + 256])
            inputs = gan.conditioning.generator_inputs(z[start : start + 256], y)
            fake.append(keras.ops.convert_to_numpy(gan.generator(inputs, training=False)))
        fake = np.concatenate(fake)
        scores = (
            critic_scores(gan, train, labels),
            critic_scores(gan, validation, validation_labels),
            critic_scores(gan, fake, labels),
        )
        train_mean, validation_mean, fake_mean = (float(np.mean(s)) for s in scores)
        return {
            "critic_real_train": train_mean,
            "critic_real_validation": validation_mean,
            "critic_fake": fake_mean,
            "overfit_rv": float(overfit_ratio(*scores)),
        }

    def _measure_now(self, epoch: int) -> dict:
        values = self.measure()
        self.record["epoch"].append(epoch)
        self.record["step"].append(self._step())
        for name, value in values.items():
            self.record.setdefault(name, []).append(value)
        augment = getattr(self.model, "augment", None)
        if augment is not None:
            augment.observe_overfitting(values["overfit_rv"])
        self._latest = values
        return values

    def _step(self) -> int:
        return int(keras.ops.convert_to_numpy(self.model.generator_optimizer.iterations))

    def on_train_begin(self, logs=None):
        self._last_step = self._step() if self.every_n_steps else 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.every_n_steps is None:
            return
        step = self._step()  # generator steps, also with steps_per_execution > 1 and after a resume
        if step // self.every_n_steps > self._last_step // self.every_n_steps:
            self._last_step = step
            self._measure_now(self._epoch + 1)

    def on_epoch_end(self, epoch, logs=None):
        just_measured = bool(self.record["step"]) and self.record["step"][-1] == self._step()
        if (epoch + 1) % self.every_n_epochs == 0 and not just_measured:
            values = self._measure_now(epoch + 1)
        elif just_measured:  # this step's measurement already ran: the epoch's logs reuse it
            values = self._latest
        elif self.every_n_steps is not None and self._latest is not None:
            values = self._latest
        else:
            return
        if logs is not None:
            logs.update(values)
