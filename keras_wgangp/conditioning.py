"""How a `GAN` calls its two networks: labels, extra critic heads, latent codes, packing.

One `Conditioning` object holds every option that changes the networks'
inputs and outputs, so the training step never branches on them:

- labels (`num_classes`): the generator takes `[z, labels]`, the critic
  `[x, labels]`;
- ACGAN (`classifier`): the critic returns `[score, class_logits]`;
- InfoGAN (`latent_codes`): the generator takes z followed by the codes'
  columns and the critic returns its Q outputs last;
- PacGAN (`pack`): the critic scores groups of `pack` examples joined along
  the last axis.

The losses see the critic's outputs as `Scores` (score, class logits, Q).
"""

from __future__ import annotations

from typing import Any

import keras

from keras_wgangp import codes as codes_lib
from keras_wgangp._random import draw

__all__ = ["Conditioning", "Scores", "pack"]

Tensor = Any
ops = keras.ops


def pack(x: Tensor, size: int) -> Tensor:
    """PacGAN packing (Lin et al. 2018): `(B, ..., C)` to `(B/size, ..., size·C)`.

    Consecutive rows are joined along the last axis (features for vectors,
    channels for images); rows past the last full pack are dropped.

    Args:
        x: A batch of examples.
        size: Examples per pack; 1 returns `x` unchanged.

    Returns:
        The packed batch.

    Examples:
        >>> x = keras.ops.reshape(keras.ops.arange(8.0), (4, 2))
        >>> keras.ops.convert_to_numpy(pack(x, 2)).tolist()
        [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]
    """
    if size == 1:
        return x
    packs = ops.shape(x)[0] // size
    x = x[: packs * size]
    inner = tuple(x.shape[1:])
    x = ops.reshape(x, (packs, size) + inner)
    if len(inner) > 1:  # move the pack axis next to the channels
        x = ops.moveaxis(x, 1, -2)
    return ops.reshape(x, (packs,) + inner[:-1] + (size * inner[-1],))


class Scores:
    """The critic's outputs for one batch: `score` `(batch,)`, and `logits`
    (ACGAN) and `q` (InfoGAN) when the critic has those heads, else None."""

    def __init__(self, score: Tensor, logits: Tensor | None = None, q: Tensor | None = None):
        self.score, self.logits, self.q = score, logits, q


class _ScoreFunction:
    """x ↦ the critic's score at x, with the labels bound: what a penalty differentiates."""

    def __init__(self, critic, labels, multi_output: bool):
        self.critic, self.labels, self.multi_output = critic, labels, multi_output

    def __call__(self, x, training=True):
        out = self.critic(x if self.labels is None else [x, self.labels], training=training)
        return out[0] if self.multi_output else out


class Conditioning:
    """The wiring of a GAN's networks for labels, ACGAN, InfoGAN and PacGAN.

    Args:
        num_classes: K of a class-conditional GAN, or None.
        classifier: Whether the critic has an ACGAN class-logits head.
        latent_codes: InfoGAN codes (`keras_wgangp.codes` objects).
        pack: PacGAN's packing degree m (1: none).

    Examples:
        >>> wiring = Conditioning(num_classes=3, classifier=True)
        >>> wiring.num_critic_outputs
        2
        >>> scores = wiring.split([keras.ops.ones((4, 1)), keras.ops.zeros((4, 3))])
        >>> tuple(scores.score.shape), tuple(scores.logits.shape), scores.q
        ((4,), (4, 3), None)
    """

    def __init__(
        self, num_classes: int | None = None, classifier: bool = False, latent_codes=(), pack: int = 1
    ):
        self.num_classes = num_classes
        self.classifier = bool(classifier)
        self.latent_codes = list(latent_codes or ())
        self.pack = int(pack)
        self.code_size = sum(code.size for code in self.latent_codes)

    @property
    def num_critic_outputs(self) -> int:
        """1 (the score), plus one for ACGAN's logits and one for InfoGAN's Q."""
        return 1 + self.classifier + bool(self.latent_codes)

    def generator_inputs(self, z: Tensor, labels: Tensor | None = None):
        """What the generator is called with: z, or `[z, labels]` (class 0 when labels is None)."""
        if self.num_classes is None:
            return z
        if labels is None:
            labels = ops.zeros((ops.shape(z)[0],), "int32")
        return [z, labels]

    def critic_inputs(self, x: Tensor, labels: Tensor | None = None):
        """What the critic is called with: x, or `[x, labels]`."""
        return x if self.num_classes is None else [x, labels]

    def split(self, outputs) -> Scores:
        """The critic's raw outputs as `Scores`."""
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        score = ops.reshape(outputs.pop(0), (-1,))
        logits = outputs.pop(0) if self.classifier else None
        q = outputs.pop(0) if self.latent_codes else None
        return Scores(score, logits, q)

    def score(self, critic, x: Tensor, labels: Tensor | None = None) -> Scores:
        """One critic call on x (already packed), in training mode."""
        return self.split(critic(self.critic_inputs(x, labels), training=True))

    def score_pair(self, critic, real, fake, labels=None, joint: bool = True) -> tuple[Scores, Scores]:
        """The critic's outputs on a real and a fake batch of the same labels.

        With `joint` the two batches go through one critic call on their
        concatenation (faster, and identical for critics without batch
        statistics); otherwise through two calls.
        """
        if not joint:
            return self.score(critic, real, labels), self.score(critic, fake, labels)
        both_labels = None if labels is None else ops.concatenate([labels, labels], 0)
        outputs = critic(self.critic_inputs(ops.concatenate([real, fake], 0), both_labels), training=True)
        outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
        halves = [ops.split(output, 2) for output in outputs]
        return self.split([h[0] for h in halves]), self.split([h[1] for h in halves])

    def score_function(self, critic, labels: Tensor | None = None):
        """x ↦ score, what the penalties differentiate: the critic itself when it
        takes x alone and returns only a score, else a wrapper binding `labels`."""
        if self.num_classes is None and self.num_critic_outputs == 1:
            return critic
        return _ScoreFunction(critic, labels, self.num_critic_outputs > 1)

    def draw_latents(self, latent_dim: int, rows, seed) -> tuple[Tensor, Tensor | None]:
        """z for one batch (with the codes' columns appended) and the code columns (None without codes)."""
        z = draw(keras.random.normal, rows, (latent_dim,), seed=seed)
        if not self.latent_codes:
            return z, None
        columns = sum(code.random_columns for code in self.latent_codes)
        uniform = draw(keras.random.uniform, rows, (columns,), seed=seed)
        code_columns = codes_lib.from_uniform(self.latent_codes, uniform)
        return ops.concatenate([z, ops.cast(code_columns, z.dtype)], axis=1), code_columns
