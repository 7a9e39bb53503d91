"""Training data: toy distributions, scikit-learn's digits, tensorflow-datasets.

* The 2-D toy distributions follow the reference code of Gulrajani et al.
  2017 (`gan_toy.py`): fresh samples are drawn on every call.
* `load_digits` uses the 1,797 real 8×8 handwritten digits that ship inside
  scikit-learn: real images with no download, the offline image default;
  `digits_split` is its fixed train/test split (training, and the held-out
  digits every digits FID is measured against); `stacked_digits` stacks three
  of them as RGB channels, the 1,000-mode Stacked-MNIST benchmark.
* `load_tfds` builds an input pipeline from any tensorflow-datasets image
  dataset that has been downloaded and prepared.
* `load_image_folder` reads a folder of your own images, one subfolder per
  class.

Images are always NHWC float32 scaled to [-1, 1], matching a tanh generator.
"""

from __future__ import annotations

import os
import re

import numpy as np

__all__ = [
    "TOY_DATASETS",
    "digits_split",
    "folder_layout",
    "image_folder_dataset",
    "infer_image_size",
    "load_digits",
    "load_image_folder",
    "load_tfds",
    "stacked_digits",
    "stacked_digits_dataset",
    "swissroll_curve",
    "toy_modes",
    "toy_samples",
]

TOY_DATASETS = ("8gaussians", "25gaussians", "swissroll")

_SCALE = {"8gaussians": 1.414, "25gaussians": 2.828, "swissroll": 7.5}
_STD = {"8gaussians": 0.02, "25gaussians": 0.05}
# The Swiss roll's parameter range (t in [1.5π, 4.5π]) and its noise per axis,
# before scaling by _SCALE["swissroll"].
_SWISSROLL_T = (1.5 * np.pi, 4.5 * np.pi)
_SWISSROLL_NOISE = 0.25


def _check_name(name: str) -> None:
    if name not in TOY_DATASETS:
        raise ValueError(f"Unknown toy dataset {name!r}; choose one of {', '.join(TOY_DATASETS)}.")


def toy_modes(name: str) -> tuple[np.ndarray, float]:
    """Returns the mode centres and the per-axis standard deviation of a toy set.

    Both are in the same (scaled) coordinates as `toy_samples`.

    Args:
        name: `"8gaussians"` or `"25gaussians"` (the Swiss roll has no
            discrete modes and raises `ValueError`).

    Returns:
        `(centres, std)`: a float32 array of shape `(num_modes, 2)` and a float.

    Examples:
        >>> centres, std = toy_modes("25gaussians")
        >>> centres.shape
        (25, 2)
    """
    _check_name(name)
    if name == "8gaussians":
        angles = np.arange(8) * (np.pi / 4)
        centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    elif name == "25gaussians":
        grid = np.arange(-2, 3) * 2.0
        centres = np.array([(x, y) for x in grid for y in grid])
    else:
        raise ValueError("'swissroll' is a continuous curve and has no discrete modes.")
    scale = _SCALE[name]
    return (centres / scale).astype("float32"), _STD[name] / scale


def swissroll_curve(num_points: int = 4000) -> tuple[np.ndarray, float]:
    """Returns points along the noise-free Swiss roll and its noise std.

    Both are in the same (scaled) coordinates as `toy_samples("swissroll", ...)`.

    Args:
        num_points: Points, evenly spaced in the curve parameter t.

    Returns:
        `(points of shape (num_points, 2), per-axis noise std)`.

    Examples:
        >>> curve, std = swissroll_curve(10)
        >>> curve.shape, round(std, 4)
        ((10, 2), 0.0333)
    """
    t = np.linspace(*_SWISSROLL_T, num_points)
    curve = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / _SCALE["swissroll"]
    return curve, _SWISSROLL_NOISE / _SCALE["swissroll"]


def toy_samples(
    name: str, num_samples: int, seed: int | None = None, return_labels: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Draws samples from one of the paper's 2-D toy distributions.

    * `"8gaussians"`: 8 centres at radius 2, 45° apart, σ = 0.02, all divided
      by 1.414.
    * `"25gaussians"`: a 5×5 grid on {−4, −2, 0, 2, 4}², σ = 0.05, divided by
      2.828.
    * `"swissroll"`: the (x, z) plane of a 3-D Swiss roll
      (t ~ 1.5π(1 + 2U), point = (t cos t, t sin t)) with Gaussian noise 0.25
      per axis, divided by 7.5.

    Args:
        name: One of `TOY_DATASETS`.
        num_samples: Number of points to draw.
        seed: Optional seed for NumPy's generator; `None` draws fresh points.
        return_labels: Also return each point's mode: the index into
            `toy_modes(name)[0]` of the Gaussian it was drawn from. The
            points are the same as without labels for the same seed. The
            Swiss roll has no discrete modes and raises `ValueError`.

    Returns:
        A float32 array of shape `(num_samples, 2)`; with `return_labels`,
        `(points, labels)` with int32 labels of shape `(num_samples,)`.

    Examples:
        >>> x = toy_samples("8gaussians", 1000, seed=0)
        >>> x.shape, x.dtype
        ((1000, 2), dtype('float32'))
        >>> x, y = toy_samples("8gaussians", 4, seed=0, return_labels=True)
        >>> y.dtype.name, bool((x == toy_samples("8gaussians", 4, seed=0)).all())
        ('int32', True)
    """
    _check_name(name)
    if num_samples < 0:
        raise ValueError(f"num_samples must be >= 0, got {num_samples}.")
    if return_labels and name == "swissroll":
        raise ValueError(
            "'swissroll' is a continuous curve with no discrete modes to use as labels; "
            "use 8gaussians or 25gaussians with return_labels=True."
        )
    rng = np.random.default_rng(seed)
    if name == "swissroll":
        low, high = _SWISSROLL_T
        t = low + (high - low) * rng.random(num_samples)
        points = np.stack([t * np.cos(t), t * np.sin(t)], axis=1)
        points += _SWISSROLL_NOISE * rng.standard_normal((num_samples, 2))
        return (points / _SCALE[name]).astype("float32")
    centres, std = toy_modes(name)
    which = rng.integers(0, len(centres), size=num_samples)
    points = (centres[which] + std * rng.standard_normal((num_samples, 2))).astype("float32")
    return (points, which.astype("int32")) if return_labels else points


DIGITS_SIZES = (8, 16, 32)


def load_digits(image_size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Returns scikit-learn's 1,797 handwritten digits as images in [-1, 1].

    The 8×8 originals (16 grey levels, white strokes on black) are resized
    bilinearly to `image_size` × `image_size`.

    Args:
        image_size: 8, 16 or 32.

    Returns:
        `(images, labels)`: float32 of shape `(1797, image_size, image_size, 1)`
        in [-1, 1], and int64 labels 0–9.

    Examples:
        >>> images, labels = load_digits(16)
        >>> images.shape, float(images.min()), float(images.max())
        ((1797, 16, 16, 1), -1.0, 1.0)
    """
    if image_size not in DIGITS_SIZES:
        raise ValueError(f"image_size must be one of {DIGITS_SIZES}, got {image_size!r}.")
    from sklearn.datasets import load_digits as sklearn_digits

    digits = sklearn_digits()
    images = (digits.images.astype("float32") / 16.0)[..., None]  # [0, 1]
    if image_size != 8:
        import tensorflow as tf

        images = tf.image.resize(images, (image_size, image_size), method="bilinear").numpy()
    images = np.clip(images * 2.0 - 1.0, -1.0, 1.0).astype("float32")
    return images, digits.target.astype("int64")


def digits_split(image_size: int = 16, test_fraction: float = 0.2, seed: int = 0):
    """A fixed train/test split of scikit-learn's digits, stratified by class.

    Args:
        image_size: 8, 16 or 32 (see `keras_wgangp.data.load_digits`).
        test_fraction: Share of each class held out.
        seed: Seed of the split (fixed so cached classifiers stay valid).

    Returns:
        `(x_train, y_train, x_test, y_test)`.

    Examples:
        >>> x_train, y_train, x_test, y_test = digits_split(8)
        >>> len(x_train) + len(x_test)
        1797
    """
    images, labels = load_digits(image_size)
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        test[rng.choice(members, int(round(test_fraction * len(members))), replace=False)] = True
    return images[~test], labels[~test], images[test], labels[test]


def _digit_split(image_size: int, split: str):
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}.")
    x_train, y_train, x_test, y_test = digits_split(image_size)
    return (x_train, y_train) if split == "train" else (x_test, y_test)


def stacked_digits(
    num_samples: int, image_size: int = 16, seed: int = 0, split: str = "train"
) -> tuple[np.ndarray, np.ndarray]:
    """Stacked digits: the Stacked-MNIST protocol on scikit-learn's digits.

    Each image stacks three digits, drawn independently and uniformly from
    one split of `digits_split`, as its red, green and blue channels, so the
    data has 10³ = 1,000 modes (Srivastava et al. 2017, VEEGAN; Lin et al.
    2018, PacGAN). The training and test images come from disjoint digits.

    Args:
        num_samples: How many images.
        image_size: 8, 16 or 32.
        seed: Seed of the draws.
        split: `"train"` (the 1,437 training digits) or `"test"` (the 360 held-out ones).

    Returns:
        `(images, labels)`: float32 `(n, s, s, 3)` in [−1, 1] and int64
        labels `100·d_R + 10·d_G + d_B` in [0, 1000).

    Examples:
        >>> images, labels = stacked_digits(5, image_size=8, seed=0)
        >>> images.shape, images.dtype.name, int(labels.max()) < 1000
        ((5, 8, 8, 3), 'float32', True)
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 0:
        raise ValueError(f"num_samples must be an integer >= 0, got {num_samples!r}.")
    images, labels = _digit_split(image_size, split)
    index = np.random.default_rng(seed).integers(0, len(images), size=(int(num_samples), 3))
    stacked = np.concatenate([images[index[:, c]] for c in range(3)], axis=-1)
    return stacked.astype("float32"), 100 * labels[index[:, 0]] + 10 * labels[index[:, 1]] + labels[
        index[:, 2]
    ]


def stacked_digits_dataset(batch_size: int, image_size: int = 16, seed: int = 0, labels: bool = False):
    """An endless `tf.data` stream of fresh stacked training digits, in batches.

    Every batch draws new triples from the training split (1,437³ possible
    images), so a long run never sees a fixed sample twice.

    Args:
        batch_size: Images per batch.
        image_size: 8, 16 or 32.
        seed: Seed of the draws.
        labels: Also yield the int64 labels, as `(images, labels)`.

    Returns:
        A `tf.data.Dataset` of float32 `(batch, s, s, 3)` batches.

    Examples:
        >>> batch = next(iter(stacked_digits_dataset(4, image_size=8)))
        >>> tuple(batch.shape)
        (4, 8, 8, 3)
    """
    import tensorflow as tf

    images, digit_labels = _digit_split(image_size, "train")
    pixels = tf.constant(images[..., 0])  # (n, s, s)
    classes = tf.constant(digit_labels.astype("int64"))
    n = len(images)

    def stack(draws):
        index = tf.reshape(tf.math.floormod(draws, n), (-1, 3))
        batch = tf.transpose(tf.gather(pixels, index), (0, 2, 3, 1))
        if not labels:
            return batch
        digits = tf.gather(classes, index)
        return batch, 100 * digits[:, 0] + 10 * digits[:, 1] + digits[:, 2]

    draws = tf.data.Dataset.random(seed=seed).batch(3 * batch_size, drop_remainder=True)
    return draws.map(stack, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


# Keras's image reader list: formats tf.io.decode_image reads in every supported TF version.
IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")


def _image_files(folder: str) -> list[str]:
    """Image files anywhere under `folder`, sorted; hidden files and folders are skipped."""
    found = []
    for root, folders, files in os.walk(folder):
        # Hidden entries are tool debris (.ipynb_checkpoints, macOS "._x.png" forks), not images.
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [
            os.path.join(root, name)
            for name in files
            if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")
        ]
    return sorted(found)


def infer_image_size(directory: str | os.PathLike, sides: tuple[int, ...]) -> int | None:
    """The largest of `sides` not above the shorter side of a folder's first image.

    Args:
        directory: A folder of images (any depth; hidden files skipped).
        sides: The sides the networks take, ascending.

    Returns:
        The side; the smallest of `sides` for smaller images; None when the
        folder has no readable image (the loader then reports it).

    Examples:
        >>> import os, tempfile
        >>> from matplotlib.image import imsave
        >>> root = tempfile.mkdtemp()
        >>> imsave(os.path.join(root, "a.png"), np.zeros((20, 30)), cmap="gray")
        >>> infer_image_size(root, (8, 16, 28, 32, 64))
        16
    """
    import tensorflow as tf

    files = _image_files(os.fspath(directory))
    if not files:
        return None
    try:
        shape = tf.image.decode_image(tf.io.read_file(files[0]), expand_animations=False).shape
    except tf.errors.OpError:  # the loader reports unreadable files with their names
        return None
    fitting = [side for side in sides if side <= min(shape[0], shape[1])]
    return fitting[-1] if fitting else sides[0]


def _decode_one(path: str) -> str | None:
    """TF's error message for one image file, or None when it decodes."""
    import tensorflow as tf

    try:
        tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    except tf.errors.OpError as error:
        # Keep TF's reason, without its "{{function_node ...}}" and "[Op:...]" wrapping.
        message = re.sub(r"\{\{.*?\}\}|\[Op:.*", "", error.message or "", flags=re.S).strip()
        return message.rstrip(".") or type(error).__name__
    return None


def _check_folder_options(directory, image_size, channels) -> str:
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        what = "is a file, not a folder" if os.path.exists(directory) else "does not exist"
        raise FileNotFoundError(f"No image folder at {directory!r}: it {what}. Pass the folder of images.")
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < 1:
        raise ValueError(
            f"image_size must be a positive integer (the side of the square output), got {image_size!r}; "
            "the reference architectures take 8, 16, 28, 32 or 64."
        )
    if isinstance(channels, bool) or channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1 (grayscale), 3 (RGB) or None (infer), got {channels!r}.")
    return directory


def folder_layout(directory: str | os.PathLike) -> tuple[list[str], np.ndarray, list[str]]:
    """The image files of a folder, their class ids and the class names.

    Classes are the subfolders that hold images (at any depth below them), in
    sorted order; a folder with images directly inside and no such
    subfolders is one class named after the folder. Hidden files and
    folders are skipped.

    Args:
        directory: The folder.

    Returns:
        `(paths, labels, class_names)`: sorted paths per class, int32 class ids.

    Raises:
        ValueError: No images, or loose images beside class subfolders.

    Examples:
        >>> import os, tempfile
        >>> from matplotlib.image import imsave
        >>> root = tempfile.mkdtemp()
        >>> for name in ("b", "a"):
        ...     os.makedirs(os.path.join(root, name))
        ...     imsave(os.path.join(root, name, "x.png"), np.zeros((4, 4)), cmap="gray")
        >>> paths, labels, names = folder_layout(root)
        >>> labels.tolist(), names
        ([0, 1], ['a', 'b'])
    """
    directory = os.fspath(directory)
    entries = sorted(name for name in os.listdir(directory) if not name.startswith("."))
    class_files = {}
    for name in entries:
        if os.path.isdir(os.path.join(directory, name)):
            files = _image_files(os.path.join(directory, name))
            if files:
                class_files[name] = files
    loose = [
        os.path.join(directory, name)
        for name in entries
        if name.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(directory, name))
    ]
    if class_files and loose:
        raise ValueError(
            f"{directory!r} holds both images ({os.path.basename(loose[0])!r}, ...) and class subfolders "
            f"({', '.join(class_files)}): the loose images belong to no class. Move them into a class "
            "subfolder (or into their own folder), or remove them."
        )
    if not class_files and not loose:
        names = [name for _, _, files in os.walk(directory) for name in files]
        others = sorted({os.path.splitext(name)[1].lower() or name for name in names})
        found = f" It holds only {', '.join(others[:8])} files." if others else " It holds no files."
        raise ValueError(
            f"No images in {directory!r} or its subfolders (accepted: {', '.join(IMAGE_EXTENSIONS)}, "
            f"any case).{found} Put the images in one subfolder per class, or all directly in the folder."
        )
    if not class_files:
        class_files = {os.path.basename(os.path.normpath(os.path.abspath(directory))): loose}
    class_names = list(class_files)
    paths = [path for files in class_files.values() for path in files]
    labels = np.concatenate([np.full(len(files), i, "int32") for i, files in enumerate(class_files.values())])

    return paths, labels, class_names


def _decoder(side: int):
    """path -> (RGB pixels resized to side × side, in [0, 255] as float32; whether the image is grey)."""
    import tensorflow as tf

    def decode(path):
        pixels = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        grey = tf.reduce_all(pixels[..., :1] == pixels)
        image = tf.image.resize(pixels, (side, side), method="bilinear", antialias=True)
        return tf.ensure_shape(image, (side, side, 3)), grey

    return decode


def load_image_folder(
    directory: str | os.PathLike, image_size: int, channels: int | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Reads a folder of images, one subfolder per class, into memory.

    The layout of `keras.utils.image_dataset_from_directory`:
    `directory/<class name>/<image>`. Classes are the subfolders that hold
    images (at any depth below them), in sorted order; subfolders without
    images are ignored. A folder with images directly inside and no such
    subfolders is one class named after the folder; a folder with both
    loose images and class subfolders raises `ValueError`, since the loose
    images would belong to no class. Hidden files and folders (names
    starting with ".") are skipped.

    Files ending in .bmp, .gif, .jpeg, .jpg or .png (any case) are decoded
    with `tf.io.decode_image` (a GIF gives its first frame; transparency is
    dropped), resized to `image_size` × `image_size` (bilinear with
    antialiasing, like `load_tfds`; the aspect ratio is not kept) and
    scaled to [−1, 1]. The reference architectures take sides 8, 16, 28,
    32 and 64.

    Everything is loaded into one array: while reading, about
    `n × image_size² × 3 × 4` bytes (a float32 RGB copy), so this suits
    small and medium datasets (10,000 images of 64 × 64 take about 0.5 GB);
    for larger ones build a `tf.data` pipeline of `(x, y)` batches.

    Args:
        directory: The folder.
        image_size: The side of the square output images, a positive int.
        channels: 1 (grayscale; colour images are converted with
            `tf.image.rgb_to_grayscale`), 3 (RGB; grayscale images are
            repeated), or None to infer: 1 when every image is grayscale
            once decoded, that is has equal red, green and blue in every
            pixel (so grey images saved as RGB count), else 3.

    Returns:
        `(images, labels, class_names)`: float32 `(n, image_size, image_size,
        channels)` in [−1, 1], int32 class ids `(n,)` indexing the list of
        class names.

    Raises:
        FileNotFoundError: `directory` does not exist or is not a folder.
        ValueError: No images, loose images beside class subfolders, a file
            that cannot be decoded (the error names it), or a bad
            `image_size` or `channels`.

    Examples:
        >>> import os, tempfile
        >>> from matplotlib.image import imsave
        >>> root = tempfile.mkdtemp()
        >>> for name in ("cats", "dogs"):
        ...     os.makedirs(os.path.join(root, name))
        ...     imsave(os.path.join(root, name, "a.png"), np.zeros((12, 12)), cmap="gray")
        >>> images, labels, names = load_image_folder(root, image_size=8)
        >>> images.shape, labels.tolist(), names
        ((2, 8, 8, 1), [0, 1], ['cats', 'dogs'])
        >>> float(images.min()), float(images.max())
        (-1.0, -1.0)
    """
    import tensorflow as tf

    directory = _check_folder_options(directory, image_size, channels)
    paths, labels, class_names = folder_layout(directory)
    side = int(image_size)
    decode = _decoder(side)

    batch = 256
    dataset = (
        tf.data.Dataset.from_tensor_slices(paths)
        .map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .batch(batch)
        .prefetch(1)
    )
    # One preallocated array: stacking a list of batches would hold two copies.
    images = np.empty((len(paths), side, side, 3), "float32")
    grey = np.empty(len(paths), bool)
    iterator = iter(dataset)
    for start in range(0, len(paths), batch):
        try:
            pixels, is_grey = next(iterator)
        except tf.errors.OpError as error:
            # tf.data names no file: decode this batch's files one by one to find it.
            for path in paths[start : start + batch]:
                problem = _decode_one(path)
                if problem:
                    raise ValueError(
                        f"Could not read the image {path!r}: {problem}. Replace or remove the file."
                    ) from None
            last = paths[min(start + batch, len(paths)) - 1]
            raise ValueError(
                f"Could not read the images {paths[start]!r} to {last!r}: {error.message}"
            ) from error
        images[start : start + len(pixels)] = pixels.numpy()
        grey[start : start + len(pixels)] = is_grey.numpy()
    if channels is None:
        channels = 1 if grey.all() else 3
    if channels == 1:
        single = np.ascontiguousarray(images[..., :1])
        if not grey.all():
            # Only colour images go through the luma weights; grey ones keep their exact values.
            single[~grey] = tf.image.rgb_to_grayscale(images[~grey]).numpy()
        images = single
    # In place, so no second full-size array is made; resizing can overshoot [0, 255] a hair.
    images /= 127.5
    images -= 1.0
    np.clip(images, -1.0, 1.0, out=images)
    return images, labels, class_names


def _scan(paths: list[str], side: int) -> tuple[np.ndarray, np.ndarray]:
    """One parallel decoding pass: which files decode, and which of those are grey."""
    import tensorflow as tf

    decode = _decoder(side)
    dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(paths)), paths))
    dataset = dataset.map(lambda i, path: (i, decode(path)[1]), num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.apply(tf.data.experimental.ignore_errors()).batch(1024)
    readable, grey = np.zeros(len(paths), bool), np.zeros(len(paths), bool)
    for index, is_grey in dataset.as_numpy_iterator():
        readable[index], grey[index] = True, is_grey
    return readable, grey


def image_folder_dataset(
    directory: str | os.PathLike,
    image_size: int,
    batch_size: int = 64,
    channels: int | None = None,
    labels: bool = False,
    shuffle_seed: int | None = 0,
    cache: str | None = None,
    on_error: str = "raise",
    shuffle_buffer: int = 2048,
    repeat: bool = False,
):
    """A streaming `tf.data` pipeline over a folder of images, in bounded memory.

    The folder layout, decoding, resizing and scaling are those of
    `load_image_folder` (the same pixels), but images are read batch by
    batch in parallel instead of into one array: memory stays bounded
    whatever the folder's size. The files are listed once, and one
    decoding pass checks every file before training starts (a file that
    cannot be decoded is named; with `on_error="skip"` it is left out with a
    warning) and finds whether all images are grayscale. Each pass over
    the data shuffles the file order with `shuffle_seed`; the sequence of
    orders is fixed by the seed, so a run resumed after `dataset.skip(n)`
    sees what an uninterrupted one would.

    Args:
        directory: The folder (one subfolder per class, or images directly inside).
        image_size: The side of the square output images.
        batch_size: Images per batch.
        channels: 1, 3 or None: 1 when every image is grayscale, else 3
            (grayscale images among colour ones are repeated to RGB).
        labels: Yield `(images, class ids)` batches.
        shuffle_seed: Seed of the file order, or None for no shuffling.
        cache: A file path for tf.data's on-disk cache of the decoded images
            (the first pass decodes, later ones read the cache; the order is
            then shuffled in a buffer of `shuffle_buffer` images), or None.
        on_error: `"raise"` (a `ValueError` naming the first unreadable file)
            or `"skip"` (leave unreadable files out, with a warning).
        shuffle_buffer: Buffer of the shuffle after a cache.
        repeat: Repeat the passes endlessly, in whole batches (for runs
            bounded by steps).

    Returns:
        A `tf.data.Dataset` of float32 batches `(batch, s, s, channels)` in
        [−1, 1] (or `(images, labels)`), with attributes `class_names`,
        `file_paths`, `channels`, `num_grayscale` and `unreadable`.

    Examples:
        >>> import os, tempfile
        >>> from matplotlib.image import imsave
        >>> root = tempfile.mkdtemp()
        >>> for i in range(5):
        ...     imsave(os.path.join(root, f"{i}.png"), np.full((12, 12), i / 4), cmap="gray")
        >>> dataset = image_folder_dataset(root, 8, batch_size=2)
        >>> [tuple(batch.shape) for batch in dataset], dataset.channels
        ([(2, 8, 8, 1), (2, 8, 8, 1), (1, 8, 8, 1)], 1)
    """
    import warnings

    import tensorflow as tf

    directory = _check_folder_options(directory, image_size, channels)
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}.")
    paths, class_ids, class_names = folder_layout(directory)
    side = int(image_size)
    readable, grey = _scan(paths, side)
    unreadable = [path for path, ok in zip(paths, readable, strict=True) if not ok]
    if unreadable:
        problem = _decode_one(unreadable[0]) or "it cannot be decoded"
        others = f" ({len(unreadable) - 1} more unreadable file(s))" if len(unreadable) > 1 else ""
        if on_error == "raise":
            raise ValueError(
                f"Could not read the image {unreadable[0]!r}: {problem}{others}. Replace or remove "
                "the file, or skip unreadable files (on_error='skip'; command line: --skip-bad-images)."
            )
        message = f"Skipping {len(unreadable)} unreadable image(s), e.g. {unreadable[0]!r}: {problem}."
        warnings.warn(message, stacklevel=2)
        paths = [path for path, ok in zip(paths, readable, strict=True) if ok]
        class_ids, grey = class_ids[readable], grey[readable]
        if not paths:
            raise ValueError(f"No readable images in {directory!r}.")
    if channels is None:
        channels = 1 if grey.all() else 3
    decode = _decoder(side)

    def load(path, class_id):
        pixels, is_grey = decode(path)
        if channels == 1:  # colour images through the luma weights; grey ones keep their values
            pixels = tf.cond(is_grey, lambda: pixels[..., :1], lambda: tf.image.rgb_to_grayscale(pixels))
        image = tf.clip_by_value(pixels / 127.5 - 1.0, -1.0, 1.0)
        return (image, class_id) if labels else image

    dataset = tf.data.Dataset.from_tensor_slices((paths, class_ids))
    if cache is None:
        if shuffle_seed is not None:
            dataset = dataset.shuffle(len(paths), seed=shuffle_seed, reshuffle_each_iteration=True)
        dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    else:
        dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).cache(cache)
        if shuffle_seed is not None:
            dataset = dataset.shuffle(shuffle_buffer, seed=shuffle_seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(batch_size, drop_remainder=repeat).prefetch(tf.data.AUTOTUNE)
    dataset.class_names, dataset.file_paths, dataset.channels = class_names, paths, channels
    dataset.num_grayscale, dataset.unreadable = int(grey.sum()), unreadable
    return dataset


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
