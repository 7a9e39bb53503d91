"""The main job behind `keras-wgangp train`: data, recipe, fit, then every output in one folder.

`train` loads the dataset, builds the recipe's model (`keras_wgangp.recipes`),
fits it while a callback draws progress plots, then writes the model
(`model.keras`), the generator as a SavedModel (`saved_model/`), the
training curves (`losses.png`), the last plot and `summary.json`: the
settings, the final metrics and the quality measures of
`keras_wgangp.evaluation.evaluate`.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from keras_wgangp import data, evaluation, recipes
from keras_wgangp.architectures import IMAGE_SIZES

__all__ = ["DataError", "TFDS_DATASETS", "dataset_kind", "train"]

TFDS_DATASETS = ("mnist", "fashion_mnist", "cifar10", "celeb_a")
NATIVE_SIDES = {
    "digits": 16,
    "stacked_digits": 16,
    "mnist": 28,
    "fashion_mnist": 28,
    "cifar10": 32,
    "celeb_a": 64,
}
FOLDER_SIDE = 32  # a folder whose first image cannot be read; the loader then names the file
# The summary's sample counts: the toys' 2,500 points, the digits' 1,000 images;
# stacked digits use the protocol's 26,000.
SUMMARY_SAMPLES = {"toy": 2500, "digits": 1000, "stacked": None}
# Quality during training, about five times a run: what is measured, on how many samples.
WATCHED = {"toy": (("modes_covered", "high_quality_fraction"), 2500), "digits": (("fid",), 1000)}
STACKED_WATCH_SAMPLES = 10_000  # modes during training: fewer samples than the final 26,000


class DataError(ValueError):
    """The training data cannot be used (missing, unreadable, or unfit for the settings)."""


def dataset_kind(dataset: str) -> str:
    """`"toy"`, `"digits"`, `"stacked"`, `"tfds"` or `"folder"`.

    Args:
        dataset: A built-in name or a folder path.

    Returns:
        The kind.

    Examples:
        >>> dataset_kind("8gaussians"), dataset_kind("mnist"), dataset_kind("./photos")
        ('toy', 'tfds', 'folder')
    """
    if dataset in data.TOY_DATASETS:
        return "toy"
    if dataset in ("digits", "stacked_digits"):
        return {"digits": "digits", "stacked_digits": "stacked"}[dataset]
    return "tfds" if dataset in TFDS_DATASETS else "folder"


def default_image_size(dataset: str) -> int:
    """The image side a dataset trains at: its native size, or for a folder the
    largest supported side not above its first image's shorter side.

    Args:
        dataset: An image dataset name or a folder path.

    Returns:
        The side.

    Examples:
        >>> default_image_size("digits")
        16
    """
    if dataset in NATIVE_SIDES:
        return NATIVE_SIDES[dataset]
    return data.infer_image_size(dataset, IMAGE_SIZES) or FOLDER_SIDE


def _toy_data(dataset, recipe, steps, seed, conditional):
    import tensorflow as tf

    # Fresh samples for every critic update: the toy distributions are infinite.
    count = steps * recipe.critic_steps * recipe.batch_size
    if conditional:
        real, labels = data.toy_samples(dataset, count, seed=seed, return_labels=True)
        elements = (real, labels)
    else:
        real = elements = data.toy_samples(dataset, count, seed=seed)
    num_classes = len(data.toy_modes(dataset)[0]) if conditional else None
    return tf.data.Dataset.from_tensor_slices(elements).batch(recipe.batch_size), real, num_classes


def _image_data(dataset, recipe, image_size, seed, conditional, channels, data_dir):
    """(fit input, labels or None, data shape, class names or None) for image data."""
    import tensorflow as tf

    kind = dataset_kind(dataset)
    if kind == "stacked":  # an endless stream of fresh triples of training digits
        if recipe.steps is None:
            raise ValueError("stacked_digits is an endless stream: give --steps")
        stream = data.stacked_digits_dataset(recipe.batch_size, image_size, seed)
        return stream, None, (image_size, image_size, 3), None
    try:
        if kind == "tfds":
            stream = data.load_tfds(
                dataset, image_size=image_size, batch_size=recipe.batch_size, data_dir=data_dir, seed=seed
            )
            stream = stream.repeat() if recipe.steps is not None else stream
            shape = tuple(stream.element_spec.shape[1:])
            return stream, None, shape if None not in shape else tuple(next(iter(stream)).shape[1:]), None
        if kind == "digits":  # the training split: the summary's FID is against the held-out rest
            images, labels, _, _ = data.digits_split(image_size)
            names = [str(d) for d in range(10)]
        else:
            images, labels, names = data.load_image_folder(dataset, image_size, channels)
    except (FileNotFoundError, ValueError) as problem:
        raise DataError(str(problem)) from problem
    labels = labels.astype("int32")
    if recipe.steps is None:
        return images, labels, images.shape[1:], names
    # A repeated, shuffled stream bounds the run by steps.
    elements = (images, labels) if conditional else images
    stream = tf.data.Dataset.from_tensor_slices(elements)
    stream = stream.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).repeat()
    stream = stream.batch(recipe.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    return stream, None, images.shape[1:], names


def _watch(kind: str, dataset: str, epochs: int, seed: int):
    """The `EvaluateEvery` of a run: about five measurements of its quality."""
    from keras_wgangp.callbacks import EvaluateEvery

    every = max(1, epochs // 5)
    if kind == "stacked":

        def modes(model):
            samples = model.generate(STACKED_WATCH_SAMPLES, seed=seed)
            coverage = evaluation.stacked_mode_coverage(samples)
            return {"modes_covered": coverage["modes_covered"], "kl": coverage["kl"]}

        return EvaluateEvery(modes, every_n_epochs=every)
    if kind not in WATCHED:
        return None
    names, count = WATCHED[kind]
    return EvaluateEvery(list(names), dataset=dataset, every_n_epochs=every, num_samples=count, seed=seed)


def _summary_sections(report: dict, conditional: bool) -> dict:
    """The summary's layout of an `evaluation.evaluate` report."""
    sections = {}
    if "kl" in report:  # stacked digits
        sections["mode_coverage"] = {key: report[key] for key in ("modes_covered", "num_modes", "kl")}
        keys = ("fid", "fid_real_train_vs_test", "precision", "recall", "density", "coverage")
        return sections | {key: report[key] for key in keys}
    if "modes_covered" in report:
        keys = ("modes_covered", "num_modes", "high_quality_fraction", "mean_distance")
        sections["mode_coverage"] = {key: report[key] for key in keys}
        for key in ("sliced_wasserstein", "sliced_wasserstein_real_vs_real"):
            sections[key] = report[key]
    if "fid" in report:
        sections["fid"] = report["fid"]
        sections["fid_real_train_vs_test"] = report["fid_real_train_vs_test"]
        sections["class_coverage"] = {
            "classes_covered": report["classes_covered"],
            "counts": report["class_counts"],
            "mean_confidence": report["mean_confidence"],
        }
    if conditional and "conditional_accuracy" in report:
        sections["conditional_accuracy"] = {
            "overall": report["conditional_accuracy"],
            "per_class": report["conditional_accuracy_per_class"],
        }
    return sections


def train(
    dataset: str,
    recipe: recipes.Recipe,
    output: str = "wgangp-output",
    *,
    seed: int = 0,
    conditional: bool = False,
    conditioning: str = "projection",
    image_size: int | None = None,
    channels: int | None = None,
    data_dir: str | None = None,
    critic_learning_rate: float | None = None,
    verbose: int = 1,
) -> dict:
    """Trains `recipe` on `dataset` and writes every output to `output`.

    Args:
        dataset: A toy name, `"digits"`, a tfds name or a folder of images.
        recipe: The settings (`keras_wgangp.recipes.get(dataset)` and any changes).
        output: The output folder, created if needed.
        seed: Seed of the data, the weights and the draws.
        conditional: Train on the labels (toy modes, digit classes, subfolders).
        conditioning: `"projection"`, `"concat"` or `"acgan"`.
        image_size: Image side (default: `default_image_size(dataset)`).
        channels: A folder's channels (1 or 3; None infers).
        data_dir: tensorflow-datasets' data folder.
        critic_learning_rate: Overrides the recipe's critic rate.
        verbose: Keras's progress-bar verbosity.

    Returns:
        The summary that was written to `summary.json`.

    Raises:
        DataError: The data cannot be loaded or used with these settings.
        ValueError: The settings do not fit together or the data.

    Examples:
        >>> import dataclasses, tempfile
        >>> small = dataclasses.replace(recipes.get("8gaussians"), steps=2, epochs=1, width=8, batch_size=16)
        >>> summary = train("8gaussians", small, tempfile.mkdtemp(), verbose=0)  # doctest: +SKIP
        >>> summary["generator_steps"]  # doctest: +SKIP
        2
    """
    import keras
    import tensorflow as tf

    from keras_wgangp.callbacks import CriticContour, SampleImages, plot_history

    keras.utils.set_random_seed(seed)
    os.makedirs(output, exist_ok=True)
    kind = dataset_kind(dataset)
    labels = class_names = num_classes = None
    if kind == "toy":
        fit_data, real, num_classes = _toy_data(dataset, recipe, recipe.steps, seed, conditional)
        shape = real.shape[1:]
        monitor = CriticContour(os.path.join(output, "contours"), real[:2000])
    else:
        image_size = image_size or default_image_size(dataset)
        fit_data, labels, shape, class_names = _image_data(
            dataset, recipe, image_size, seed, conditional, channels, data_dir
        )
        if conditional:
            num_classes = len(class_names)
            if num_classes < 2:
                raise DataError(f"--conditional needs at least 2 classes, {dataset} has 1")
        monitor = SampleImages(os.path.join(output, "samples"), num_images=64, seed=seed)
    is_stream = isinstance(fit_data, tf.data.Dataset)
    if recipe.steps is not None:
        total_steps = recipe.steps
    elif not is_stream:  # image arrays: epochs of whole groups
        total_steps = recipe.epochs * -(-len(fit_data) // (recipe.batch_size * recipe.critic_steps))
    elif recipe.lr_schedule == "linear":
        raise ValueError("--lr-schedule linear needs --steps with a tfds dataset")
    else:
        total_steps = None
    gan = recipes.build_gan(
        recipe, tuple(shape), total_steps=total_steps, num_classes=num_classes, conditioning=conditioning,
        seed=seed, critic_learning_rate=critic_learning_rate,
    )  # fmt: skip
    objective = recipes.objective_name(recipe.loss, recipe.penalty)
    what = f"conditional ({num_classes} classes, {conditioning}) " if num_classes else ""
    print(
        f"Training {what}{objective} ({recipe.architecture}) on {dataset}, data shape {tuple(shape)}: "
        f"{recipe.critic_steps} critic steps per generator step, batch {recipe.batch_size}, "
        f"output in {output}/",
        flush=True,
    )
    watch = _watch(kind, dataset, recipe.epochs, seed)
    start = time.perf_counter()
    fit_args = {} if is_stream else {"batch_size": recipe.batch_size}
    if labels is not None and num_classes is not None:
        fit_args["y"] = labels
    history = gan.fit(
        fit_data,
        epochs=recipe.epochs,
        steps_per_epoch=recipe.steps // recipe.epochs if recipe.steps is not None else None,
        callbacks=[monitor] + ([watch] if watch else []),
        verbose=verbose,
        **fit_args,
    )
    seconds = time.perf_counter() - start

    files = {
        "losses": plot_history(history, os.path.join(output, "losses.png"), evaluations=watch),
        "model": os.path.join(output, "model.keras"),
        "saved_model": os.path.join(output, "saved_model"),
    }
    if kind == "toy":
        files["critic_contour"] = monitor.plot(os.path.join(output, "critic_contour.png"), title=dataset)
    else:
        files["samples"] = monitor.paths[-1] if monitor.paths else None
    gan.save(files["model"])
    gan.export(files["saved_model"], verbose=False, overwrite=True)
    settings = {field: getattr(recipe, field) for field in recipes.Recipe.__dataclass_fields__}
    settings.pop("why")
    settings.pop("critic_rate_ratio")
    critic_rate = recipe.critic_learning_rate if critic_learning_rate is None else critic_learning_rate
    settings.update(critic_learning_rate=critic_rate, seed=seed, image_size=image_size)
    summary = {
        "dataset": dataset,
        "architecture": recipe.architecture,
        "objective": objective,
        "num_classes": num_classes,
        "conditioning": conditioning if num_classes else None,
        "class_names": class_names if num_classes else None,
        "generator_steps": int(gan.generator_optimizer.iterations),
        "critic_steps": int(gan.critic_optimizer.iterations),
        "train_seconds": round(seconds, 1),
        "settings": settings,
        "final_metrics": {k: float(np.asarray(v[-1])) for k, v in history.history.items()},
    }
    if watch is not None:
        summary["evaluations"] = watch.record
    if kind in SUMMARY_SAMPLES:
        report = evaluation.evaluate(gan, dataset, SUMMARY_SAMPLES[kind], seed)
        summary.update(_summary_sections(report, num_classes is not None))
    summary["files"] = files
    with open(os.path.join(output, "summary.json"), "w") as handle:
        json.dump(summary, handle, indent=2)
    return summary
