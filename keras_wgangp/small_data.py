"""What `keras-wgangp train` adds for small training sets: the watch on the critic overfitting
(`--validation-split`) and the check that the generator is not copying its training images."""

from __future__ import annotations

import numpy as np

from keras_wgangp import evaluation

__all__ = ["COPY_CHECK_BELOW", "SMALL_SET_ADVICE", "copy_check", "overfitting_watch"]

# Training sets below this size get the copy check (copy_share, nearest_neighbours.png).
COPY_CHECK_BELOW = 2000
# Said to a folder's run below that size without a held-out split or augmentation: on 100 MNIST
# digits, ADA steered by held-out images ended at 0.67x the FID of no augmentation with WGAN-GP.
SMALL_SET_ADVICE = (
    "{count} training images: a critic can memorise a set this small; --validation-split 0.1 --augment "
    "ada watches it and augments as much as it does (docs: results/limited_data.md)"
)


def overfitting_watch(gan, validation, train_images, total_steps: int | None, epochs: int, seed: int):
    """The `CriticOverfitting` callback of a run with held-out images.

    Args:
        gan: The model; with an ADA steered by r_v (`statistic="validation"`) r_v is also
            measured about 100 times a run, to steer p.
        validation: The held-out real images.
        train_images: The training images (or a sample of them).
        total_steps: The run's generator steps, or None.
        epochs: The run's epochs.
        seed: Seed of the draws.

    Returns:
        A `kw.callbacks.CriticOverfitting`.

    Examples:
        >>> from keras_wgangp import WGANGP, architectures as A
        >>> gan = WGANGP(A.mlp_generator(2, 2, units=8), A.mlp_critic(2, units=8))
        >>> images = np.zeros((4, 2), "float32")
        >>> overfitting_watch(gan, images, images, 1000, 10, seed=0).every_n_steps is None
        True
    """
    from keras_wgangp.callbacks import CriticOverfitting

    every_n_steps = None
    if gan.augment is not None and gan.augment.needs_validation:
        every_n_steps = max(10, (total_steps or 100 * epochs) // 100)
    return CriticOverfitting(validation, train_images, every_n_steps=every_n_steps, seed=seed)


def copy_check(gan, dataset: str, train_images, path: str, seed: int) -> dict:
    """The copy share of 1,000 samples, and the nearest-neighbour figure at `path`.

    Args:
        gan: The trained model.
        dataset: The dataset's name: a built-in image set is compared in its classifier's
            features, anything else in pixels.
        train_images: The training images.
        path: Where the PNG of samples beside their nearest training images goes.
        seed: Seed of the samples.

    Returns:
        `{"copy_share": ..., "memorization": {...}}` for `summary.json`.

    Examples:
        >>> import os, tempfile
        >>> from keras_wgangp import WGANGP, architectures as A
        >>> shape = (8, 8, 1)
        >>> gan = WGANGP(A.dcgan_generator(8, shape, 4), A.dcgan_critic(shape, 4), latent_dim=8)
        >>> path = os.path.join(tempfile.mkdtemp(), "nn.png")
        >>> images = np.random.default_rng(0).uniform(-1, 1, (20, *shape)).astype("float32")
        >>> report = copy_check(gan, "folder", images, path, seed=0)
        >>> report["memorization"]["features"], 0 <= report["copy_share"] <= 1
        ('pixels', True)
    """
    from keras_wgangp.plots import nearest_neighbours

    features = dataset if dataset in evaluation.IMAGE_DATASETS else None  # classifier features, else pixels
    labels = np.arange(1000) % gan.num_classes if gan.num_classes else None
    # Batches of 128: at 64×64 one batch of 1,000 held 2.8 GB of activations, more than training.
    samples = gan.generate(1000, seed=seed, labels=labels, batch_size=128)
    measured = evaluation.memorization(samples, train_images, features=features)
    nearest_neighbours(samples, train_images, path, features=features)
    details = {"train_images": len(train_images), "samples": 1000,
               "features": "pixels" if features is None else f"{dataset} classifier"}  # fmt: skip
    return {"copy_share": measured["copy_share"], "memorization": measured | details}
