"""Folders of your own images: listing, the checking pass, the in-memory loader
and the streaming `tf.data` pipeline.

The layout is that of `keras.utils.image_dataset_from_directory`: one
subfolder per class, or all images directly in the folder.
"""

from __future__ import annotations

import os
import re

import numpy as np

__all__ = [
    "IMAGE_EXTENSIONS",
    "folder_layout",
    "image_folder_dataset",
    "infer_image_size",
    "load_image_files",
    "load_image_folder",
]

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
            "the reference architectures take 8, 16, 28, 32, 64 or 128."
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


def _resize(pixels, side: int, shrinking: bool | None = None):
    """Area averaging when shrinking (antialiased, and as fast as plain bilinear), else bilinear.

    `shrinking`: whether every image is at least `side` pixels each way (known from the scan, so
    no per-image branch is paid), or None to decide per image.
    """
    import tensorflow as tf

    def area():
        return tf.image.resize(pixels, (side, side), method="area")

    def bilinear():
        return tf.image.resize(pixels, (side, side), method="bilinear", antialias=True)

    if shrinking is None:
        shape = tf.shape(pixels)
        image = tf.cond(tf.logical_and(shape[0] >= side, shape[1] >= side), area, bilinear)
    else:
        image = area() if shrinking else bilinear()
    return tf.ensure_shape(image, (side, side, 3))


def _decoder(side: int):
    """path -> (RGB pixels resized to side × side, in [0, 255] as float32; whether the image is grey)."""
    import tensorflow as tf

    def decode(path):
        pixels = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        return _resize(pixels, side), _is_grey(pixels)

    return decode


def _is_grey(pixels):
    """Whether red, green and blue are equal in every pixel."""
    import tensorflow as tf

    return tf.reduce_all(pixels[..., :1] == pixels)


def _to_unit(images):
    """[0, 255] -> [-1, 1]; resizing can overshoot [0, 255] a hair."""
    import tensorflow as tf

    return tf.clip_by_value(images / 127.5 - 1.0, -1.0, 1.0)


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
    dropped), resized to `image_size` × `image_size` (area averaging when
    shrinking, which antialiases; bilinear when enlarging; the aspect ratio
    is not kept) and
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
    for path, problem in _oversized(paths, MAX_IMAGE_PIXELS).items():
        raise ValueError(f"Could not read the image {path!r}: {problem}. Replace or remove the file.")

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


# PIL's decompression-bomb bound (Image.MAX_IMAGE_PIXELS, about 89.5 megapixels).
MAX_IMAGE_PIXELS = 89_478_485


def _oversized(paths: list[str], max_pixels: int | None) -> dict[str, str]:
    """The files whose header declares more than `max_pixels` pixels, with the reason: read from
    the header alone (PIL), so a decompression bomb is refused before anything decodes it."""
    import warnings

    from PIL import Image

    if max_pixels is None:
        return {}
    found = {}
    for path in paths:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                with Image.open(path) as image:
                    width, height = image.size  # the header only: nothing is decoded here
            pixels = width * height
        except Image.DecompressionBombError as error:  # PIL's own refusal, at twice its bound
            declared = re.search(r"\((\d+) pixels\)", str(error))
            pixels = int(declared.group(1)) if declared else max_pixels + 1
        except Exception:  # PIL cannot parse it: the decoding pass names what is wrong
            continue
        if pixels > max_pixels:
            found[path] = (
                f"it declares {pixels:,} pixels, over the bound of {max_pixels:,} (max_pixels; a "
                "decompression bomb?)"
            )
    return found


def _scan(paths: list[str], side: int, skip=()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One parallel decoding pass: which files decode, which of those are grey, and which are at
    least `side` pixels each way (`skip`: never decoded)."""
    import tensorflow as tf

    def check(i, path):  # decoding is what can fail; the resize of a decoded image cannot
        pixels = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        return i, _is_grey(pixels), tf.reduce_min(tf.shape(pixels)[:2]) >= side

    skip = set(skip)
    rows = np.array([i for i, path in enumerate(paths) if path not in skip], "int64")
    dataset = tf.data.Dataset.from_tensor_slices((rows, [paths[i] for i in rows]))
    dataset = dataset.map(check, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.ignore_errors().batch(1024)
    readable, grey, large = (np.zeros(len(paths), bool) for _ in range(3))
    for index, is_grey, is_large in dataset.as_numpy_iterator():
        readable[index], grey[index], large[index] = True, is_grey, is_large
    return readable, grey, large


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
    validation_split: float = 0.0,
    max_pixels: int | None = MAX_IMAGE_PIXELS,
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
        validation_split: The share of the readable files held out of the
            stream (a fixed draw by `shuffle_seed`, at least one file), for
            watching the critic on images it never trains on
            (`load_image_files(dataset.validation_paths, ...)` reads them).
        max_pixels: Files whose header declares more pixels than this are
            unreadable (refused by name, or skipped with `on_error="skip"`)
            before anything decodes them: a 50 KB PNG can declare 20,000 ×
            20,000 pixels. PIL's bound by default; None checks nothing.

    Returns:
        A `tf.data.Dataset` of float32 batches `(batch, s, s, channels)` in
        [−1, 1] (or `(images, labels)`), with attributes `class_names`,
        `file_paths` (the files streamed), `validation_paths` (the files held
        out), `channels`, `num_grayscale` and `unreadable`.

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
    oversized = _oversized(paths, max_pixels)
    readable, grey, large = _scan(paths, side, skip=oversized)
    unreadable = [path for path, ok in zip(paths, readable, strict=True) if not ok]
    if unreadable:
        problem = oversized.get(unreadable[0]) or _decode_one(unreadable[0]) or "it cannot be decoded"
        others = f" ({len(unreadable) - 1} more unreadable file(s))" if len(unreadable) > 1 else ""
        if on_error == "raise":
            raise ValueError(
                f"Could not read the image {unreadable[0]!r}: {problem}{others}. Replace or remove "
                "the file, or skip unreadable files (on_error='skip'; command line: --skip-bad-images)."
            )
        message = f"Skipping {len(unreadable)} unreadable image(s), e.g. {unreadable[0]!r}: {problem}."
        warnings.warn(message, stacklevel=2)
        paths = [path for path, ok in zip(paths, readable, strict=True) if ok]
        class_ids, grey, large = class_ids[readable], grey[readable], large[readable]
        if not paths:
            raise ValueError(f"No readable images in {directory!r}.")
    if channels is None:
        channels = 1 if grey.all() else 3
    paths, class_ids, held_out = _hold_out(paths, class_ids, validation_split, shuffle_seed)
    shrinking = True if large.all() else False if not large.any() else None
    load = _loader(side, channels, labels, shrinking)
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
    dataset = dataset.batch(batch_size, drop_remainder=repeat)
    # Scaled per batch: one op for the batch instead of one per image.
    scale = (lambda images, ids: (_to_unit(images), ids)) if labels else _to_unit
    dataset = dataset.map(scale, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    dataset.class_names, dataset.file_paths, dataset.channels = class_names, paths, channels
    dataset.validation_paths = held_out
    dataset.num_grayscale, dataset.unreadable = int(grey.sum()), unreadable
    return dataset


def _loader(side: int, channels: int, labels: bool, shrinking: bool | None = None):
    """(path, class id) -> image in [0, 255] (and the id), with `channels` channels."""
    import tensorflow as tf

    def load(path, class_id):
        pixels = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        image = _resize(pixels, side, shrinking)
        if channels == 1:  # colour images through the luma weights; grey ones keep their values
            image = tf.cond(
                _is_grey(pixels), lambda: image[..., :1], lambda: tf.image.rgb_to_grayscale(image)
            )
        return (image, class_id) if labels else image

    return load


def _hold_out(paths: list, class_ids: np.ndarray, fraction, seed) -> tuple[list, np.ndarray, list]:
    """(kept paths, their class ids, held-out paths): a fixed draw of round(fraction·n) files, at least 1."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction < 1.0:
        raise ValueError(f"validation_split must be a fraction in [0, 1), got {fraction!r}.")
    if fraction == 0:
        return paths, class_ids, []
    count = max(1, round(fraction * len(paths)))
    if count >= len(paths):
        raise ValueError(
            f"validation_split={fraction} holds out {count} of the {len(paths)} images and leaves none to "
            "train on; use a smaller fraction or more images."
        )
    order = np.random.default_rng(0 if seed is None else seed).permutation(len(paths))
    held = np.sort(order[:count])
    kept = np.sort(order[count:])
    return [paths[i] for i in kept], class_ids[kept], [paths[i] for i in held]


def load_image_files(paths, image_size: int, channels: int, batch_size: int = 256) -> np.ndarray:
    """Decodes image files into one array, as `image_folder_dataset` streams them.

    Args:
        paths: Image file paths (e.g. a dataset's `validation_paths`).
        image_size: The side of the square output images.
        channels: 1 or 3.
        batch_size: Images decoded per batch.

    Returns:
        float32 `(len(paths), image_size, image_size, channels)` in [-1, 1].

    Examples:
        >>> import os, tempfile
        >>> from matplotlib.image import imsave
        >>> root = tempfile.mkdtemp()
        >>> imsave(os.path.join(root, "a.png"), np.zeros((12, 12)), cmap="gray")
        >>> load_image_files([os.path.join(root, "a.png")], 8, 1).shape
        (1, 8, 8, 1)
    """
    import tensorflow as tf

    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}.")
    paths = [str(path) for path in paths]
    if not paths:
        return np.zeros((0, image_size, image_size, channels), "float32")
    load = _loader(int(image_size), channels, labels=False)
    ids = np.zeros(len(paths), "int32")
    dataset = tf.data.Dataset.from_tensor_slices((paths, ids)).map(load, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(batch_size).map(_to_unit)
    return np.concatenate([batch.numpy() for batch in dataset]).astype("float32")
