"""The `keras-wgangp` command line: flags in, library calls out.

* `keras-wgangp train` runs `keras_wgangp.training.train` with the recipe of
  `keras_wgangp.recipes.get(--dataset)`, each flag given replacing one of
  its settings. With no arguments it trains on the paper's 8-Gaussians toy.
* `keras-wgangp sample` draws samples from a `.keras` file or a SavedModel.
* `keras-wgangp evaluate` prints `keras_wgangp.evaluation.evaluate`.

Exit codes: 0 done; 1 the data or a model file cannot be used; 2 a flag (or
a checkpoint from other flags) is wrong; 3 training diverged. Each error is
one line that names the flag or file and the fix.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys

from keras_wgangp import checkpoints, losses, penalties, precision, recipes
from keras_wgangp.architectures import IMAGE_SIZES
from keras_wgangp.data import DIGITS_SIZES, MNIST_SIZES, TOY_DATASETS
from keras_wgangp.training import TFDS_DATASETS, TFDS_PREFIX, dataset_kind

__all__ = ["main"]

BUILT_IN = TOY_DATASETS + ("digits", "mnist", "stacked_digits", "stacked_mnist")
TFDS_NAMES = tuple(TFDS_PREFIX + name for name in TFDS_DATASETS)
# The sides each bundled image set trains (and is evaluated) at.
BUILT_IN_SIZES = {
    "digits": DIGITS_SIZES,
    "stacked_digits": DIGITS_SIZES,
    "mnist": MNIST_SIZES,
    "stacked_mnist": MNIST_SIZES,
}


def _default(field: str) -> str:
    """The recipes' defaults of one setting, for the help text: `[toys: a; images: b; 25gaussians: c]`."""
    base = {"toys": recipes.get("8gaussians"), "images": recipes.get("images")}
    text = [f"{name}: {getattr(recipe, field)}" for name, recipe in base.items()]
    for name, recipe in recipes.RECIPES.items():
        kind = "toys" if name in TOY_DATASETS else "images"
        if getattr(recipe, field) != getattr(base[kind], field):
            text.append(f"{name}: {getattr(recipe, field)}")
    return "[" + "; ".join(text) + "]"


class _Parser(argparse.ArgumentParser):
    """argparse, with each error on one line: the flag, the problem and where to read more."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number(kind, low=None, high=None, low_open=False, high_open=False):
    """An argparse type: a finite int or float in a range; the error names the range."""
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if low_open else '>='} {low}")
    if high is not None:
        bounds.append(f"{'<' if high_open else '<='} {high}")
    what = f"a finite {'integer' if kind is int else 'number'}" + (
        f" {' and '.join(bounds)}" if bounds else ""
    )

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if not math.isfinite(value) or (
            (low is not None and (value <= low if low_open else value < low))
            or (high is not None and (value >= high if high_open else value > high))
        ):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text}")
        return value

    parse.__name__ = "integer" if kind is int else "number"  # argparse names the type in its messages
    return parse


_COUNT = _number(int, low=1)
_RATE = _number(float, low=0, low_open=True)
_WEIGHT = _number(float, low=0)
_FRACTION = _number(float, low=0, high=1, high_open=True)


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="keras-wgangp",
        description="Train and inspect WGAN-GP (Gulrajani et al. 2017) and other GANs built on Keras 3.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    train = commands.add_parser(
        "train",
        help="train on a built-in dataset (offline) and write plots, model and summary",
        description=(
            "Train WGAN-GP (or another --loss and --penalty) and write plots, the model "
            "(model.keras), the generator as a SavedModel (saved_model/) and summary.json to "
            "--output. Toy datasets are generated offline and give critic-contour plots; the image "
            "sets (digits, mnist and their stacked forms, offline; tfds:NAME; folders) give "
            "sample-image grids. Flags left unset take the dataset's recipe (keras_wgangp.recipes), "
            "shown in brackets."
        ),
    )
    add = train.add_argument
    add(
        "--dataset",
        default="8gaussians",
        metavar="{" + ",".join(BUILT_IN[:4]) + ",...} or PATH",
        help="training data [8gaussians]: a built-in name (" + ", ".join(BUILT_IN) + "; all offline, "
        "mnist and stacked_mnist from the 5,000 real digits of the mnist extra), a tensorflow-datasets "
        "dataset as tfds:NAME (" + ", ".join(TFDS_NAMES) + ", ...; it must be prepared), or a folder of "
        "images with one subfolder per class",
    )
    add(
        "--conditional",
        action="store_true",
        help="train a class-conditional model on the labels (8gaussians/25gaussians: the mode; "
        "digits, mnist: the digit; a folder: its subfolders)",
    )
    add(
        "--conditioning",
        choices=("projection", "concat", "acgan"),
        default="projection",
        help="with --conditional: projection critic, concatenated one-hot label, or ACGAN classifier "
        "head [projection]",
    )
    add(
        "--recipe",
        choices=list(recipes.RECIPES),
        help="the recipe the unset flags come from [the dataset's own, else images]; r3gan: "
        "RpGAN + R1 + R2 with cosine schedules and augmentation",
    )
    add("--architecture", choices=["mlp", "dcgan", "resnet"], help=f"networks {_default('architecture')}")
    add("--output", default="wgangp-output", help="output folder, created if needed [wgangp-output]")
    add(
        "--steps",
        type=_COUNT,
        help=f"generator updates in total {_default('steps')} (None: one pass over the data per epoch); "
        "without --epochs, the run takes the most epochs up to the default that divide it",
    )
    add("--epochs", type=_COUNT, help=f"epochs; plots are written after each {_default('epochs')}")
    add("--batch-size", type=_COUNT, help=f"real examples per critic update {_default('batch_size')}")
    add("--critic-steps", type=_COUNT, help=f"critic updates per generator update {_default('critic_steps')}")
    add(
        "--loss",
        choices=losses.NAMES,
        help=f"adversarial loss {_default('loss')}; 'began' swaps in the autoencoder critic",
    )
    add(
        "--penalty",
        choices=penalties.NAMES + ("r1+r2", "none"),
        help=f"critic penalty {_default('penalty')}; wasserstein with gradient_penalty is WGAN-GP",
    )
    add(
        "--gp-weight",
        type=_WEIGHT,
        help=f"penalty weight: lambda, or gamma for r1/r2 (paper: 10) {_default('gp_weight')}",
    )
    add("--width", type=_COUNT, help=f"MLP units or base conv filters {_default('width')}")
    add("--latent-dim", type=_COUNT, help=f"size of z {_default('latent_dim')}")
    add(
        "--learning-rate",
        type=_RATE,
        help=f"the generator's Adam learning rate (paper: 1e-4) {_default('learning_rate')}",
    )
    add(
        "--critic-learning-rate",
        type=_RATE,
        help=f"the critic's Adam learning rate (paper: 1e-4): this multiple of --learning-rate "
        f"{_default('critic_rate_ratio')}",
    )
    add("--beta-1", type=_FRACTION, help=f"Adam beta_1 (paper: 0) {_default('beta_1')}")
    add(
        "--lr-schedule",
        choices=["constant", "linear", "cosine"],
        help="constant learning rates, both decayed linearly to 0 over the run, or by a cosine to 1/4 "
        f"{_default('lr_schedule')}",
    )
    add(
        "--augment",
        choices=["none", "diffaugment", "ada"],
        help="differentiable augmentation of every image the critic sees (images only) "
        f"{_default('augment')}",
    )
    add(
        "--pack",
        type=_COUNT,
        help=f"PacGAN packing: the critic scores groups of this many examples {_default('pack')}",
    )
    add(
        "--ema-decay",
        type=_FRACTION,
        help=f"generator weight EMA decay, 0 for none (sampling uses it) {_default('ema_decay')}",
    )
    add(
        "--image-size",
        type=_COUNT,
        help="image side [digits 16, mnist 28, cifar10 32, celeb_a 64; a folder: the largest of "
        "8, 16, 28, 32, 64 not above its first image's shorter side; 128 when given]",
    )
    add(
        "--channels",
        type=int,
        choices=[1, 3],
        help="image channels of a folder [1 if all are grayscale, else 3]",
    )
    add("--data-dir", help="tensorflow-datasets data folder for the tfds datasets")
    add("--seed", type=int, default=0, help="random seed for data, weights and draws [0]")
    add("--verbose", type=int, default=1, choices=[0, 1, 2], help="Keras progress-bar verbosity [1]")
    add(
        "--checkpoint-every",
        type=_COUNT,
        help="keep a checkpoint every this many generator steps (it must divide --steps) [every epoch]",
    )
    add("--restart", action="store_true", help="discard a checkpoint in --output instead of resuming it")
    add(
        "--validation-split",
        type=_FRACTION,
        metavar="FRACTION",
        help="hold this share of a folder's, digits' or mnist's training images out and watch the "
        "critic overfit on them (overfit_rv in the logs and losses.png); --augment ada then steers by it "
        "[none held out]",
    )
    add(
        "--precision",
        choices=precision.NAMES,
        default="auto",
        help="the networks' arithmetic: bfloat16 (mixed_bfloat16) or float32; auto picks bfloat16 on a "
        f"CPU with {' or '.join(precision.BF16_FLAGS)} under TensorFlow, float32 elsewhere (GPUs "
        f"included), unless {precision.ENVIRONMENT} names one [auto]",
    )
    add(
        "--skip-bad-images",
        action="store_true",
        help="leave unreadable images of a folder out, with a warning [stop and name the file]",
    )

    defaults = argparse.ArgumentDefaultsHelpFormatter
    sample = commands.add_parser(
        "sample",
        help="draw samples from a .keras file or an exported SavedModel",
        description=(
            "Draw samples from a trained model: a .keras file written by GAN.save or a SavedModel "
            "folder written by GAN.export (WGANGP is a GAN). Writes a PNG (a scatter plot for 2-D "
            "data, an image grid for images) and optionally the raw samples as .npy."
        ),
        formatter_class=defaults,
    )
    sample.add_argument("--model", required=True, help="path of a .keras file or a SavedModel folder")
    sample.add_argument("--num", type=_COUNT, default=1000, help="number of samples")
    sample.add_argument("--output", default="samples.png", help="PNG file to write")
    sample.add_argument("--npy", default=None, help="also save the samples to this .npy file")
    sample.add_argument("--seed", type=int, default=0, help="latent seed (same seed, same samples)")
    sample.add_argument(
        "--label", type=int, default=None, help="class of every sample, for conditional models"
    )

    evaluate = commands.add_parser(
        "evaluate",
        help="print sample-quality metrics of a trained model",
        description=(
            "Evaluate a .keras file or SavedModel against a reference dataset "
            "(keras_wgangp.evaluation.evaluate). Toy datasets: mode coverage, high-quality fraction "
            "and sliced Wasserstein distance to fresh real samples. digits and mnist: FID and KID in the "
            "features of an in-package classifier (against the real test split, with the real "
            "train-vs-test FID as the floor), precision/recall, density/coverage and class coverage. "
            "stacked_digits and stacked_mnist: modes and KL on 26,000 samples, FID and the same "
            "neighbour measures. The real side is computed once and cached. Conditional models are "
            "sampled class by class and also get the conditional accuracy and, for digits and mnist, "
            "the intra-class FID."
        ),
        formatter_class=defaults,
    )
    evaluate.add_argument("--model", required=True, help="path of a .keras file or a SavedModel folder")
    evaluate.add_argument("--dataset", required=True, choices=BUILT_IN, help="reference data")
    evaluate.add_argument(
        "--num",
        type=_number(int, low=2),
        default=None,
        help="generated samples to evaluate [2000; stacked_digits, stacked_mnist: 26000]",
    )
    evaluate.add_argument("--seed", type=int, default=0, help="latent seed")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def _resolve(args) -> str | None:
    """Fills unset flags from the dataset's recipe; returns an error message or None."""
    kind = dataset_kind(args.dataset)
    if kind == "folder" and not os.path.isdir(args.dataset):
        return (
            f"--dataset {args.dataset!r} is neither a built-in dataset ({', '.join(BUILT_IN)}), "
            f"tfds:NAME, nor a folder"
        )
    if kind == "tfds" and args.dataset == TFDS_PREFIX:
        return f"--dataset {TFDS_PREFIX} needs a tensorflow-datasets name, e.g. {TFDS_NAMES[0]}"
    if args.conditional and (args.dataset == "swissroll" or kind in ("tfds", "stacked")):
        labelled = "8gaussians, 25gaussians, digits, mnist or a folder"
        return f"--conditional needs labelled data: {labelled}, not {args.dataset}"
    if args.channels is not None and kind != "folder":
        return "--channels applies to image folders only"
    if args.validation_split and kind not in ("folder", "digits"):
        return (f"--validation-split holds images out of a folder, digits or mnist; {args.dataset} has no "
                "fixed training set to hold out from")  # fmt: skip
    recipe = recipes.get(args.recipe or args.dataset)
    epochs_given = args.epochs is not None
    for field in dataclasses.fields(recipes.Recipe):
        if hasattr(args, field.name) and getattr(args, field.name) is None:
            setattr(args, field.name, getattr(recipe, field.name))
    if args.critic_learning_rate is None:
        args.critic_learning_rate = recipe.critic_rate_ratio * args.learning_rate
    if args.steps is not None and not epochs_given:
        # Keras runs the same number of steps every epoch: the most epochs, up to the default, that divide it.
        args.epochs = max(e for e in range(1, min(args.epochs, args.steps) + 1) if args.steps % e == 0)
    if kind != "toy" and args.image_size is not None and args.image_size not in IMAGE_SIZES:
        return f"--image-size must be one of {IMAGE_SIZES} for the reference architectures"
    sizes = BUILT_IN_SIZES.get(args.dataset)
    if sizes and args.image_size is not None and args.image_size not in sizes:
        shown = ", ".join(map(str, sizes[:-1])) + f" or {sizes[-1]}"
        return f"--image-size must be {shown} for {args.dataset}, the sides it is evaluated at"
    if kind == "toy" and args.augment != "none":
        return f"--augment {args.augment} transforms images; the toy datasets are 2-D points"
    if kind == "toy" and args.architecture != "mlp":
        return f"--architecture {args.architecture} needs image data; the toy datasets use mlp"
    if kind != "toy" and args.architecture == "mlp":
        return "--architecture mlp is for the 2-D toy datasets; use dcgan or resnet for images"
    if args.batch_size % args.pack:
        return f"--batch-size {args.batch_size} must be a multiple of --pack {args.pack}"
    if args.pack > 1 and args.conditional:
        return "--pack scores groups of examples, so it cannot be combined with --conditional"
    if args.steps is not None and args.steps % args.epochs:
        return (
            f"--steps {args.steps} is not a multiple of --epochs {args.epochs}: every epoch runs "
            "the same number of steps, so pick a multiple or leave --epochs out"
        )
    return None


def _error(message, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _train(args) -> int:
    error = _resolve(args)
    if error:
        return _error(error, 2)
    from keras_wgangp import training

    names = [field.name for field in dataclasses.fields(recipes.Recipe) if hasattr(args, field.name)]
    recipe = dataclasses.replace(
        recipes.get(args.recipe or args.dataset), **{name: getattr(args, name) for name in names}
    )
    try:
        options = ("seed", "conditional", "conditioning", "image_size", "channels", "data_dir")
        options += ("critic_learning_rate", "verbose", "checkpoint_every", "restart", "skip_bad_images")
        options += ("validation_split", "precision")
        checkpoints.check_writable(args.output)
        # One run at a time in a folder; SIGTERM and Ctrl-C checkpoint at the end of the step.
        with checkpoints.RunLock(args.output), checkpoints.StopAtStepBoundary():
            summary = training.train(
                args.dataset, recipe, args.output, **{name: getattr(args, name) for name in options}
            )
    except KeyboardInterrupt:  # Ctrl-C, or a scheduler's SIGTERM
        folder = os.path.join(args.output, "checkpoint")
        done = checkpoints.describe(folder)
        kept = f"{done} in {folder} is kept" if done else "no epoch had finished"
        return _error(f"interrupted; {kept}: rerun the same command to resume", 1)
    except (training.DataError, checkpoints.WriteFailed) as problem:
        return _error(problem, 1)
    except ValueError as problem:
        return _error(problem, 2)
    except training.Diverged as problem:
        return _error(problem, 3)
    print(json.dumps(summary, indent=2))
    print(f"Wrote {os.path.join(args.output, 'summary.json')}")
    return 0


def _load_sampler(args):
    """The sampler of --model, or None after printing the error."""
    from keras_wgangp.saving import load_sampler

    try:
        return load_sampler(args.model)
    except (OSError, ValueError) as error:
        _error(error, 1)
        return None


def _sample(args) -> int:
    import numpy as np

    from keras_wgangp.plots import save_samples_png

    sampler = _load_sampler(args)
    if sampler is None:
        return 1
    try:
        samples = sampler(args.num, args.seed, args.label)
    except (OSError, ValueError, TypeError) as error:
        return _error(error, 1)
    if args.npy:
        np.save(args.npy, samples)
        print(f"Wrote {args.npy} {samples.shape}")
    try:
        save_samples_png(samples, args.output)
    except ValueError as error:
        return _error(error, 1)
    print(f"Wrote {args.output}")
    return 0


def _evaluate(args) -> int:
    from keras_wgangp import evaluation

    sampler = _load_sampler(args)
    if sampler is None:
        return 1
    try:
        result = evaluation.evaluate(sampler, args.dataset, args.num, args.seed)
    except ValueError as error:
        return _error(error, 1)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    width = max(len(k) for k in result)
    print(f"{'metric':<{width}}  value")
    for key, value in result.items():
        if isinstance(value, list) and value and isinstance(value[0], float):
            shown = "[" + ", ".join(f"{v:.3g}" for v in value) + "]"
        else:
            shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        print(f"{key:<{width}}  {shown}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `keras-wgangp` console script.

    Args:
        argv: Arguments without the program name; defaults to `sys.argv[1:]`.

    Returns:
        The process exit status.

    Examples:
        >>> main(["train", "--steps", "20", "--epochs", "1", "--width", "16",
        ...       "--output", "/tmp/wgangp-doctest", "--verbose", "0"])  # doctest: +SKIP
        0
    """
    try:
        args = _build_parser().parse_args(argv)
    except SystemExit as stop:  # --help (0), or a bad flag (2), already printed on one line
        return stop.code
    commands = {"train": _train, "sample": _sample, "evaluate": _evaluate}
    return commands[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
