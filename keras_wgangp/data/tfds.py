"""Image datasets from tensorflow-datasets, offline unless asked to download."""

from __future__ import annotations

import os

__all__ = ["load_tfds"]


def _prepare_hint(name: str, data_dir: str | None) -> str:
    where = data_dir or os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets"
    return (
        f"The tensorflow-datasets dataset {name!r} is not available offline in {where!r}. "
        "On a machine with internet, run "
        f"`python -c \"import tensorflow_datasets as tfds; tfds.builder('{name}', data_dir='{where}')"
        '.download_and_prepare()"`, copy that folder here and pass it as `data_dir=` '
        "(or set TFDS_DATA_DIR), or call load_tfds(..., download=True) where the internet is reachable."
    )


def load_tfds(
    name: str,
    split: str = "train",
    image_size: int | None = None,
    batch_size: int = 64,
    data_dir: str | None = None,
    *,
    download: bool = False,
    image_key: str = "image",
    shuffle_buffer: int = 10_000,
    cache: bool = True,
    seed: int | None = None,
):
    """A `tf.data` pipeline of images in [-1, 1] from a tensorflow-datasets dataset.

    Works for `mnist`, `fashion_mnist`, `cifar10`, `celeb_a` and any other
    tfds dataset with an image feature. Steps: scale to [-1, 1]; if
    `image_size` is given, crop the central square and resize to it
    (bilinear, antialiased); then cache, shuffle, batch and prefetch.

    Nothing is downloaded unless `download=True`: a dataset that is not
    prepared under `data_dir` raises `FileNotFoundError` at once, saying how
    to prepare it, instead of hanging on the network.

    Args:
        name: tfds dataset name, e.g. `"mnist"` or `"celeb_a"`.
        split: tfds split string.
        image_size: Output height and width, or `None` to keep the native size.
        batch_size: Batch size of the pipeline (the WGANGP critic batch).
        data_dir: tfds data folder; defaults to tfds's own default.
        download: Let tfds download and prepare the dataset first.
        image_key: Feature holding the image.
        shuffle_buffer: Shuffle buffer size (0 disables shuffling).
        cache: Cache decoded images in memory after the first epoch.
        seed: Shuffle seed.

    Returns:
        A `tf.data.Dataset` of float32 batches `(batch, H, W, C)`.

    Examples:
        >>> import tensorflow_datasets as tfds
        >>> with tfds.testing.mock_data(num_examples=8):
        ...     ds = load_tfds("mnist", batch_size=4)
        >>> next(iter(ds)).shape
        TensorShape([4, 28, 28, 1])
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as error:  # tfds raises its own DatasetNotFoundError for unknown names
        raise ValueError(f"Unknown tensorflow-datasets dataset {name!r}: {error}") from error
    if download:
        builder.download_and_prepare()
    try:
        dataset = builder.as_dataset(split=split, shuffle_files=shuffle_buffer > 0)
    except AssertionError as error:  # tfds's way of saying "not prepared"
        raise FileNotFoundError(_prepare_hint(name, data_dir)) from error
    if image_key not in dataset.element_spec:
        raise ValueError(
            f"Dataset {name!r} has no feature {image_key!r}; its features are "
            f"{sorted(dataset.element_spec)}. Pass image_key=."
        )

    def to_image(example):
        image = tf.cast(example[image_key], tf.float32) / 127.5 - 1.0
        if image_size is not None:
            height, width = tf.shape(image)[0], tf.shape(image)[1]
            side = tf.minimum(height, width)
            image = tf.image.crop_to_bounding_box(
                image, (height - side) // 2, (width - side) // 2, side, side
            )
            image = tf.image.resize(image, (image_size, image_size), method="bilinear", antialias=True)
            image = tf.clip_by_value(image, -1.0, 1.0)
        return image

    dataset = dataset.map(to_image, num_parallel_calls=tf.data.AUTOTUNE)
    if cache:
        dataset = dataset.cache()
    if shuffle_buffer > 0:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
