"""The paper's toy experiments, reproducibly, and the loss catalogue side by side.

For each of 8gaussians, 25gaussians and swissroll, trains the toy MLPs with
WGAN-GP and with the weight-clipped WGAN of Arjovsky et al. (RMSProp 5e-5,
clip ±0.01, no penalty), for a fixed number of generator steps and several
seeds, and reports a Markdown table:

* modes covered and high-quality % (`keras_wgangp.evaluation.mode_coverage`),
  for the raw generator and for its EMA (`GAN(ema_decay=...)`);
* sliced Wasserstein distance of the EMA samples to fresh real samples;
* mean ‖∇D(x̂)‖ at fresh interpolates after training (1 is the WGAN-GP target);
* wall time per run.

`--losses` runs the loss table instead: WGAN-GP, hinge + R1, non-saturating
+ R1, least squares, BEGAN and WGAN-GP with a lazy penalty (every 4th critic
update) on the two Gaussian mixtures, everything but the objective shared.

`--catalogue` runs every method (weight clipping, WGAN-GP, WGAN-LP, hinge
+ R1, non-saturating + R1, minimax, least squares, non-saturating + DRAGAN,
relativistic average, BEGAN and `best`, the recipe of `keras-wgangp train`
at this script's step budget) on the three toys and the 16x16 digits, and on
digits also the conditional WGAN-GPs (concatenated label, projection critic,
ACGAN). Digits get `--digits-steps` generator steps (1,000 in the catalogue:
a digits step costs about three toy steps). On digits the columns are the
classes the in-package classifier finds at p >= 0.9 (each >= 5 % of 1,000
samples), the share of such confident samples, and the FID of 1,000 EMA
samples against the 360 held-out digits. `--methods`, `--datasets` and
`--name` run and save any part of it; `--combine` folds saved parts into one
table with a row per method and a column per dataset.

`--stacked` runs the stacked-digits table: WGAN-GP, WGAN-LP, hinge + R1,
non-saturating + R1, PacGAN 2 (WGAN-GP with pairs) and `best` on stacked
digits (three digits as RGB channels: 1,000 modes), with the protocol of
`keras-wgangp evaluate --dataset stacked_digits`: modes and KL of 26,000 EMA
samples, FID and precision/recall in the per-channel classifier features.
`--stacked-mnist` runs the Stacked-MNIST table on real 28x28 MNIST (`kw.data.stacked_mnist`):
WGAN-GP (the paper's λ = 10), non-saturating + R1, hinge + R1, PacGAN 2, R3GAN and `best` (the
`stacked_mnist` recipe at this script's step budget), measured by `keras-wgangp evaluate
--dataset stacked_mnist`.

It also writes one PNG with a row per method and a column per dataset:
samples over the critic's contours (the story of the paper's Figures 1-2),
or a grid of digits.

    python benchmarks/quality.py            # 3 seeds x 2000 steps, about 15 CPU minutes
    python benchmarks/quality.py --quick    # 1 seed x 400 steps, about 1.5 minutes
    python benchmarks/quality.py --losses   # 6 methods x 2 datasets x 3 seeds, about 30 minutes
    python benchmarks/quality.py --catalogue   # 3 seeds: toys 47 minutes, digits about 80
    python benchmarks/quality.py --stacked --steps 1000   # 6 methods x 3 seeds, about an hour
    python benchmarks/quality.py --stacked-mnist --steps 1000   # 6 methods x 3 seeds at 28x28

Shared settings (see benchmarks/README.md for why): 3x128 ReLU MLPs, batch
256, 5 critic steps, Adam(1e-3, 0.5, 0.9), EMA 0.999; lambda = 1 for the
gradient penalty and gamma = 1 for R1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import keras_wgangp as kw  # noqa: E402
from keras_wgangp import evaluation, penalties  # noqa: E402

BATCH, CRITIC_STEPS, UNITS = 256, 5, 128
# Digits: the DCGAN pair of `keras-wgangp train --dataset digits`.
DIGITS_BATCH, DIGITS_FILTERS, DIGITS_LATENT = 64, 32, 64


def _adam(learning_rate=1e-3, decay_steps=None):
    if decay_steps:  # linear decay to 0 over the run
        learning_rate = keras.optimizers.schedules.PolynomialDecay(learning_rate, decay_steps, 0.0)
    return keras.optimizers.Adam(learning_rate, 0.5, 0.9)


def _began_critic():
    # A 2-unit bottleneck: with a wider code the autoencoder can learn the
    # identity on 2-D data and score everything 0.
    return kw.architectures.began_critic((2,), units=UNITS, depth=2, code_dim=2)


def _gp(**options):
    """The gradient penalty at λ=1 on the toys and stacked digits, the paper's λ=10 on digits and MNIST."""
    return lambda dataset: penalties.GradientPenalty(10.0 if dataset in PAPER_LAMBDA else 1.0, **options)


PAPER_LAMBDA = ("digits", "stacked_mnist")


# Every method: the same networks, batch, critic steps, generator steps,
# optimizer and EMA; only the objective (and clipping's own optimizer)
# differ. A penalty is a function of the dataset.
METHODS = {
    "wgan-clip": {
        "loss": "wasserstein",
        "clip_value": 0.01,
        "optimizer": lambda steps: keras.optimizers.RMSprop(5e-5),
    },
    "wgan-gp": {"loss": "wasserstein", "penalty": _gp()},
    "wgan-lp": {"loss": "wasserstein", "penalty": _gp(one_sided=True)},
    "wgan-gp-lazy4": {"loss": "wasserstein", "penalty": _gp(every=4)},
    "hinge-r1": {"loss": "hinge", "penalty": lambda d: penalties.R1(gamma=1.0)},
    "ns-r1": {"loss": "non_saturating", "penalty": lambda d: penalties.R1(gamma=1.0)},
    "minimax": {"loss": "minimax"},
    "lsgan": {"loss": "least_squares"},
    "ns-dragan": {"loss": "non_saturating", "penalty": lambda d: penalties.DRAGAN(10.0)},
    "relativistic": {"loss": "relativistic_average"},
    # PacGAN (Lin et al. 2018): WGAN-GP with a critic that scores pairs of examples.
    "pacgan2": {"loss": "wasserstein", "penalty": _gp(), "pack": 2},
    "began": {"loss": "began", "critic": _began_critic},
    # The recipe of `keras-wgangp train` (keras_wgangp.recipes), at this script's step budget.
    "best": {"loss": "recipe", "recipe": True},
    # R3GAN (keras_wgangp.recipes.RECIPES["r3gan"]): RpGAN + R1 + R2, cosine schedules, 1 critic
    # step; on the toys the toy MLPs, batch and learning rate (1e-3), and no augmentation.
    "r3gan": {"loss": "recipe", "recipe": "r3gan"},
    # Conditional digits: WGAN-GP with a concatenated one-hot label, a
    # projection critic, and ACGAN.
    "cgan-concat": {"loss": "wasserstein", "penalty": _gp(), "conditioning": "concat"},
    "cgan-projection": {"loss": "wasserstein", "penalty": _gp(), "conditioning": "projection"},
    "acgan": {"loss": "wasserstein", "penalty": _gp(), "conditioning": "acgan"},
}
LOSS_TABLE = "wgan-gp,hinge-r1,ns-r1,lsgan,began,wgan-gp-lazy4"
CATALOGUE = "wgan-clip,wgan-gp,wgan-lp,hinge-r1,ns-r1,minimax,lsgan,ns-dragan,relativistic,began,best"
CONDITIONAL = "cgan-concat,cgan-projection,acgan"  # digits only
STACKED = "wgan-gp,wgan-lp,hinge-r1,ns-r1,pacgan2,best"  # the objectives of the stacked-digits table
STACKED_MNIST = "wgan-gp,ns-r1,hinge-r1,pacgan2,r3gan,best"  # the Stacked-MNIST table
IMAGES = {"digits": (16, 16, 1), "stacked_digits": (16, 16, 3), "stacked_mnist": (28, 28, 3)}
STACKED_SETS = ("stacked_digits", "stacked_mnist")


def _networks(method: str, dataset: str):
    settings, arch = METHODS[method], kw.architectures
    conditioning = settings.get("conditioning")
    classes = 10 if conditioning else None
    critic_options = {}
    if conditioning:
        acgan = conditioning == "acgan"
        critic_options = {"num_classes": 10, "conditioning": None if acgan else conditioning,
                          "auxiliary_classifier": acgan}  # fmt: skip
    pack = settings.get("pack", 1)
    if dataset in IMAGES:
        shape = IMAGES[dataset]
        critic_shape = (*shape[:-1], shape[-1] * pack)
        if settings["loss"] == "began":
            critic = arch.began_critic(critic_shape, units=DIGITS_FILTERS, code_dim=32)
        else:
            critic = arch.dcgan_critic(critic_shape, filters=DIGITS_FILTERS, **critic_options)
        generator = arch.dcgan_generator(DIGITS_LATENT, shape, filters=DIGITS_FILTERS, num_classes=classes)
        return generator, critic
    critic = settings.get("critic", lambda: arch.mlp_critic(input_dim=2 * pack, units=UNITS))()
    return arch.mlp_generator(units=UNITS), critic


def _method_gan(settings, method, dataset, steps, seed, conditional):
    generator, critic = _networks(method, dataset)
    penalty, loss = settings.get("penalty"), settings["loss"]
    gan = kw.GAN(
        generator,
        critic,
        loss=loss,
        penalty=penalty(dataset) if penalty else None,
        critic_steps=CRITIC_STEPS,
        clip_value=settings.get("clip_value"),
        ema_decay=0.999,
        seed=seed,
        num_classes=10 if conditional else None,
        classifier_weight=1.0 if settings.get("conditioning") == "acgan" else None,
        pack=settings.get("pack", 1),
    )
    make = settings.get("optimizer")
    if make:
        gan.compile(make(steps), make(steps * CRITIC_STEPS))
    elif dataset in IMAGES:
        gan.compile(_adam(2e-4), _adam(2e-4))
    else:
        gan.compile(_adam(1e-3), _adam(1e-3))
    return gan


def train(method: str, dataset: str, steps: int, seed: int):
    settings = METHODS[method]
    conditional = "conditioning" in settings
    if conditional and dataset != "digits":
        raise ValueError(f"{method} runs on digits only")
    keras.utils.set_random_seed(seed)
    if settings.get("recipe"):  # a recipe of `keras-wgangp train`, at this script's step budget
        name = settings["recipe"]
        recipe = kw.recipes.get(dataset) if name is True else kw.recipes.RECIPES[name]
        if dataset not in IMAGES and recipe.architecture != "mlp":
            toy = {"width": UNITS, "latent_dim": 2, "batch_size": BATCH, "learning_rate": 1e-3}
            recipe = dataclasses.replace(recipe, architecture="mlp", augment="none", **toy)
        recipe = dataclasses.replace(recipe, steps=steps)
        shape = IMAGES.get(dataset, (2,))
        gan = kw.recipes.build_gan(recipe, shape, total_steps=steps, seed=seed)
    else:
        gan = _method_gan(settings, method, dataset, steps, seed, conditional)
    start = time.perf_counter()
    if dataset == "digits":
        x, y, _, _ = kw.data.digits_split(16)
        data = (x, y.astype("int32")) if conditional else x
        stream = tf.data.Dataset.from_tensor_slices(data).shuffle(len(x), seed=seed).repeat()
        stream = stream.batch(DIGITS_BATCH, drop_remainder=True)
        gan.fit(stream, epochs=1, steps_per_epoch=steps, verbose=0)
    elif dataset == "stacked_digits":  # fresh triples of training digits for every batch
        stream = kw.data.stacked_digits_dataset(DIGITS_BATCH, 16, seed=seed)
        gan.fit(stream, epochs=1, steps_per_epoch=steps, verbose=0)
    elif dataset == "stacked_mnist":
        stream = kw.data.stacked_mnist_dataset(DIGITS_BATCH, seed=seed)
        gan.fit(stream, epochs=1, steps_per_epoch=steps, verbose=0)
    else:
        real = kw.data.toy_samples(dataset, steps * gan.critic_steps * BATCH, seed=seed)
        gan.fit(real, batch_size=BATCH, epochs=1, verbose=0)
    return gan, time.perf_counter() - start


def _mean_gradient_norm(gan, real, fake, seed, labels=None) -> float:
    eps = penalties.sample_epsilon(len(real), real.ndim, seed=seed)
    critic = gan.conditioning.score_function(gan.critic, None if labels is None else tf.constant(labels))
    norms = penalties.gradient_norms(critic, penalties.interpolate(tf.constant(real), tf.constant(fake), eps))
    return float(np.mean(norms))


def measure(gan, dataset: str, seed: int) -> dict:
    if dataset == "digits":
        return _measure_digits(gan, seed)
    if dataset in STACKED_SETS:  # the protocol of `keras-wgangp evaluate --dataset stacked_...`
        result = evaluation.evaluate(gan, dataset, seed=seed)
        keys = ("modes_covered", "num_modes", "kl", "fid", "fid_real_train_vs_test", "precision", "recall",
                "density", "coverage")  # fmt: skip
        return {key: result[key] for key in keys}
    n = 2500
    raw = gan.generator.predict(np.random.default_rng(seed).normal(size=(n, 2)).astype("float32"), verbose=0)
    ema = gan.generate(n, seed=seed)
    real = kw.data.toy_samples(dataset, n, seed=10_000 + seed)
    cover_raw, cover_ema = evaluation.mode_coverage(raw, dataset), evaluation.mode_coverage(ema, dataset)
    return {
        "modes_raw": cover_raw["modes_covered"],
        "hq_raw": 100 * cover_raw["high_quality_fraction"],
        "modes_ema": cover_ema["modes_covered"],
        "hq_ema": 100 * cover_ema["high_quality_fraction"],
        "num_modes": cover_ema["num_modes"],
        "swd_ema": evaluation.sliced_wasserstein_distance(ema, real),
        "grad_norm": _mean_gradient_norm(gan, real, ema, seed),
    }


def _measure_digits(gan, seed: int) -> dict:
    """Classes at confidence 0.9 (the modes), the confident share (HQ) and the
    FID of 1,000 EMA samples against the 360 held-out digits (`keras-wgangp
    train`'s protocol), for the raw generator and the EMA."""
    x_train, y_train, x_test, _ = kw.data.digits_split(16)
    classifier = evaluation.digits_classifier(16)
    extractor = evaluation.classifier_features("digits", 16)
    test_features = extractor(x_test)
    labels = None
    if gan.num_classes is not None:
        labels = np.arange(1000, dtype="int32") % 10
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(1000, gan.latent_dim)).astype("float32")
    raw = gan.generator.predict(z if labels is None else [z, labels], verbose=0)
    ema = gan.generate(1000, seed=seed, labels=labels)
    result = {"num_modes": 10}
    for name, images in (("raw", raw), ("ema", ema)):
        coverage = evaluation.class_coverage(images, classifier, min_fraction=0.05, min_confidence=0.9)
        result[f"modes_{name}"] = coverage["classes_covered"]
        result[f"hq_{name}"] = 100 * sum(coverage["counts"]) / len(images)
    result["fid_ema"] = evaluation.frechet_distance(extractor(ema), test_features)
    if labels is None:
        real = x_train[rng.choice(len(x_train), 1000, replace=False)]
    else:  # interpolate within a class, as training does
        real = np.stack([x_train[rng.choice(np.flatnonzero(y_train == c))] for c in labels])
    result["grad_norm"] = _mean_gradient_norm(gan, real, ema, seed, labels)
    return result


def summarise(values: list[float], digits: int = 1) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 seed, 400 steps")
    parser.add_argument("--steps", type=int, help="generator steps per run [2000; quick 400]")
    parser.add_argument(
        "--digits-steps", type=int, help="generator steps per digits run [--steps; catalogue 1000]"
    )
    parser.add_argument("--seeds", type=int, help="seeds per cell [3; quick 1]")
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds run from this one [0]; a part of a run to --combine"
    )
    parser.add_argument("--datasets", default="8gaussians,25gaussians,swissroll")
    parser.add_argument(
        "--methods", help=f"any of {', '.join(METHODS)} [wgan-gp,wgan-clip; the tables: their own]"
    )
    parser.add_argument(
        "--losses",
        action="store_true",
        help=f"the loss table: --methods {LOSS_TABLE} on the two Gaussian mixtures",
    )
    parser.add_argument(
        "--catalogue",
        action="store_true",
        help=f"every method ({CATALOGUE}; on digits also {CONDITIONAL}) on the three toys and digits",
    )
    parser.add_argument(
        "--combine",
        metavar="STEMS",
        help="instead of training, merge saved results (e.g. catalogue_toys,catalogue_digits) "
        "into one row per method, EMA samples, means over seeds; written to --name [catalogue]",
    )
    parser.add_argument(
        "--stacked",
        action="store_true",
        help=f"the stacked-digits table: --methods {STACKED} on stacked_digits",
    )
    parser.add_argument(
        "--stacked-mnist",
        action="store_true",
        help=f"the Stacked-MNIST table: --methods {STACKED_MNIST} on stacked_mnist (28x28)",
    )
    parser.add_argument(
        "--name", help="file stem in --output [quality, losses, catalogue, stacked or stacked_mnist]"
    )
    parser.add_argument("--output", default="docs/results/runs", help="folder for the .md/.json/.png")
    args = parser.parse_args(argv)
    if args.combine:
        return combine(args.combine.split(","), args.output, args.name or "catalogue")
    steps = args.steps or (400 if args.quick else 2000)
    # A digits step costs about 3x a toy step: the catalogue gives digits half the steps.
    digits_steps = args.digits_steps or (min(steps, 1000) if args.catalogue else steps)
    seeds = args.seeds or (1 if args.quick else 3)
    if args.losses:
        args.methods, args.datasets = args.methods or LOSS_TABLE, "8gaussians,25gaussians"
    if args.stacked:
        args.methods, args.datasets = args.methods or STACKED, "stacked_digits"
    if args.stacked_mnist:
        args.methods, args.datasets = args.methods or STACKED_MNIST, "stacked_mnist"
    if args.catalogue:
        args.methods = args.methods or f"{CATALOGUE},{CONDITIONAL}"
        args.datasets = "8gaussians,25gaussians,swissroll,digits"
    args.methods = args.methods or "wgan-gp,wgan-clip"
    datasets, methods = args.datasets.split(","), args.methods.split(",")
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
    os.makedirs(args.output, exist_ok=True)

    rows, figure = [], Figure(figsize=(4.5 * len(datasets), 4.5 * len(methods)))
    total_start = time.perf_counter()
    for r, method in enumerate(methods):
        for c, dataset in enumerate(datasets):
            if "conditioning" in METHODS[method] and dataset != "digits":
                continue  # the conditional methods are measured on digits
            runs = []
            for seed in range(args.first_seed, args.first_seed + seeds):
                gan, seconds = train(method, dataset, digits_steps if dataset in IMAGES else steps, seed)
                runs.append({**measure(gan, dataset, seed), "seconds": seconds, "seed": seed})
                print(f"{method} {dataset} seed {seed}: {json.dumps(runs[-1])}", flush=True)
                if seed == args.first_seed:
                    axes = figure.add_subplot(len(methods), len(datasets), r * len(datasets) + c + 1)
                    _panel(axes, gan, dataset, f"{method} / {dataset}")
            rows.append({"method": method, "dataset": dataset, "runs": runs,
                         "steps": digits_steps if dataset in IMAGES else steps})  # fmt: skip

    header = ("| method | dataset | modes (raw) | HQ % (raw) | modes (EMA) | HQ % (EMA) | SWD or FID (EMA) "
              "| mean ‖∇D(x̂)‖ | s/run |")  # fmt: skip
    lines = [header, "|" + "---|" * 9]
    stacked = [row for row in rows if row["dataset"] in STACKED_SETS]
    rows_2d = [row for row in rows if row["dataset"] not in STACKED_SETS]
    if stacked:
        lines = _stacked_table(stacked) + ([""] + lines if rows_2d else [])
    for row in rows_2d:
        runs, n = row["runs"], row["runs"][0]["num_modes"]

        def col(key, d=1, runs=runs):
            return summarise([run[key] for run in runs], d)

        distance = f"FID {col('fid_ema', 2)}" if row["dataset"] == "digits" else col("swd_ema", 3)
        lines.append(
            f"| {row['method']} | {row['dataset']} | {col('modes_raw')}/{n} | {col('hq_raw')} | "
            f"{col('modes_ema')}/{n} | {col('hq_ema')} | {distance} | {col('grad_norm', 2)} | "
            f"{col('seconds', 0)} |"
        )
    machine = f"{os.cpu_count()} CPU cores, TensorFlow {tf.__version__}, Keras {keras.__version__}"
    table = "\n".join(lines)
    digits_note = f" (digits {digits_steps})" if digits_steps != steps and "digits" in datasets else ""
    note = (f"{steps}{digits_note} generator steps x {CRITIC_STEPS} critic steps, {seeds} seed(s); "
            f"toys: batch {BATCH}, 3x{UNITS} MLPs; digits: batch {DIGITS_BATCH}, DCGAN filters "
            f"{DIGITS_FILTERS}; {machine}; total {time.perf_counter() - total_start:.0f} s")  # fmt: skip
    print("\n" + table + "\n\n" + note)
    stem = args.name or (
        "losses"
        if args.losses
        else "catalogue"
        if args.catalogue
        else "stacked"
        if args.stacked
        else "stacked_mnist"
        if args.stacked_mnist
        else "quality"
    )
    with open(os.path.join(args.output, f"{stem}.md"), "w") as handle:
        handle.write(
            f"`python benchmarks/quality.py {' '.join(argv or sys.argv[1:])}`\n\n{table}\n\n{note}\n"
        )
    with open(os.path.join(args.output, f"{stem}.json"), "w") as handle:
        json.dump(
            {
                "steps": steps,
                "digits_steps": digits_steps,
                "seeds": seeds,
                "first_seed": args.first_seed,
                "methods": methods,
                "datasets": datasets,
                "rows": rows,
                "machine": machine,
            },  # fmt: skip
            handle,
            indent=2,
        )
    figure.tight_layout()
    kw.plots.save_figure(figure, os.path.join(args.output, f"{stem}.png"), dpi=80, tight=False)
    _quantize_png(os.path.join(args.output, f"{stem}.png"))
    return 0


def _stacked_table(rows) -> list[str]:
    """Stacked digits: modes, KL, FID and precision/recall of 26,000 EMA samples, mean ± std (per seed)."""
    lines = ["| method | modes /1000 | KL | FID | precision | recall | s/run |", "|" + "---|" * 7]
    for row in rows:
        runs = row["runs"]

        def col(key, d, runs=runs):
            per_seed = " / ".join(f"{run[key]:.{d}f}" for run in runs)
            return f"{summarise([run[key] for run in runs], d)} ({per_seed})" if len(runs) > 1 else per_seed

        lines.append(f"| {row['method']} | {col('modes_covered', 0)} | {col('kl', 3)} | {col('fid', 2)} | "
                     f"{col('precision', 3)} | {col('recall', 3)} | {col('seconds', 0)} |")  # fmt: skip
    return lines


def _quantize_png(path: str, colors: int = 64) -> None:
    """Rewrites the PNG with a 64-colour palette: thousands of translucent
    points make a full-colour PNG of the catalogue several MB."""
    from PIL import Image  # a dependency of matplotlib

    with Image.open(path) as image:
        palette = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    palette.save(path, optimize=True)


def combine(stems: list[str], folder: str, name: str) -> int:
    """Writes `name`.md and `name`.png: one row per method, one column per
    dataset, from the JSON (and PNG) files `stems`. Parts may hold different
    seeds of the same cell; each seed counts once (the first part that has
    it). Cells show EMA samples: the mean over seeds, each seed in brackets."""
    cells, methods, datasets, notes, panels = {}, [], [], [], {}
    for stem in stems:
        with open(os.path.join(folder, f"{stem}.json")) as handle:
            saved = json.load(handle)
        steps = sorted({row.get("steps", saved["steps"]) for row in saved["rows"]})
        first = saved.get("first_seed", 0)
        seeds = f"{saved['seeds']} seed(s)" + (f" from {first}" if first else "")
        notes.append(f"{stem}: {' or '.join(map(str, steps))} generator steps, {seeds}")
        for row in saved["rows"]:
            methods += [row["method"]] if row["method"] not in methods else []
            datasets += [row["dataset"]] if row["dataset"] not in datasets else []
            runs = cells.setdefault((row["method"], row["dataset"]), {})
            for i, run in enumerate(row["runs"]):
                runs.setdefault(run.get("seed", first + i), run)
        panels.update(
            {key: value for key, value in _panels(folder, stem, saved).items() if key not in panels}
        )

    def cell(runs, dataset):
        if not runs:
            return "–"
        runs = [runs[seed] for seed in sorted(runs)]
        mean = statistics.mean
        modes = f"{mean(r['modes_ema'] for r in runs):.1f}/{runs[0]['num_modes']}"
        per_seed = " / ".join(f"{r['hq_ema']:.0f}" for r in runs)
        hq = f"{mean(r['hq_ema'] for r in runs):.1f} % ({per_seed})"
        if dataset == "digits":
            fids = " / ".join(f"{r['fid_ema']:.2f}" for r in runs)
            return f"{modes}, {hq}, FID {mean(r['fid_ema'] for r in runs):.2f} ({fids})"
        return f"{modes}, {hq}, SWD {mean(r['swd_ema'] for r in runs):.3f}"

    header = "| method | " + " | ".join(datasets) + " |"
    lines = [header, "|" + "---|" * (len(datasets) + 1)]
    for method in methods:
        row = [cell(cells.get((method, dataset)), dataset) for dataset in datasets]
        lines.append(f"| {method} | " + " | ".join(row) + " |")
    table = "\n".join(lines)
    legend = ("Each cell: modes (digits: classes at p >= 0.9 with >= 5 % of samples), high-quality % "
              "mean (per seed), and SWD or FID, all of EMA samples. " + "; ".join(notes) + ".")  # fmt: skip
    print(table + "\n\n" + legend)
    with open(os.path.join(folder, f"{name}.md"), "w") as handle:
        handle.write(f"`python benchmarks/quality.py --combine {','.join(stems)}`\n\n{table}\n\n{legend}\n")
    if panels:
        _stitch(panels, methods, datasets, os.path.join(folder, f"{name}.png"))
    return 0


def _panels(folder: str, stem: str, saved: dict) -> dict:
    """The (method, dataset) panels of a part's PNG grid, as PIL images. The
    grid has a row per method and a column per dataset of the run, in order
    (older parts, without that layout in the JSON, in the order of their rows)."""
    from PIL import Image

    path = os.path.join(folder, f"{stem}.png")
    if not os.path.exists(path):
        return {}
    ordered = lambda key: list(dict.fromkeys(row[key] for row in saved["rows"]))  # noqa: E731
    methods = saved.get("methods") or ordered("method")
    datasets = saved.get("datasets") or ordered("dataset")
    with Image.open(path) as image:
        image = image.convert("RGB")
    width, height = image.size[0] / len(datasets), image.size[1] / len(methods)
    drawn = {(row["method"], row["dataset"]) for row in saved["rows"]}
    return {
        (method, dataset): image.crop(
            (round(c * width), round(r * height), round((c + 1) * width), round((r + 1) * height))
        )
        for r, method in enumerate(methods)
        for c, dataset in enumerate(datasets)
        if (method, dataset) in drawn
    }


def _stitch(panels: dict, methods: list, datasets: list, path: str, scale: float = 0.67) -> None:
    """One grid, rows = methods and columns = datasets, blank where a part had
    no panel; panels are shrunk by `scale` to keep the file small."""
    from PIL import Image

    width = round(scale * max(p.size[0] for p in panels.values()))
    height = round(scale * max(p.size[1] for p in panels.values()))
    grid = Image.new("RGB", (width * len(datasets), height * len(methods)), "white")
    for r, method in enumerate(methods):
        for c, dataset in enumerate(datasets):
            panel = panels.get((method, dataset))
            if panel is not None:
                grid.paste(panel.resize((width, height), Image.LANCZOS), (c * width, r * height))
    grid.save(path)
    _quantize_png(path)


def _panel(axes, gan, dataset, title):
    if dataset in STACKED_SETS:
        axes.imshow(kw.plots.image_grid(gan.generate(64, seed=0)))
        axes.set_title(title, fontsize=9)
        axes.axis("off")
        return
    if dataset == "digits":
        labels = np.arange(64) % 10 if gan.num_classes else None
        grid = kw.plots.image_grid(gan.generate(64, seed=0, labels=labels))
        axes.imshow(grid.squeeze(), cmap="gray", vmin=0, vmax=1)
        axes.set_title(title, fontsize=9)
        axes.axis("off")
        return
    real = kw.data.toy_samples(dataset, 1000, seed=99)
    fake = gan.generate(1000, seed=0)
    low, high = real.min(0) - 0.4, real.max(0) + 0.4
    xs, ys = np.meshgrid(np.linspace(low[0], high[0], 80), np.linspace(low[1], high[1], 80))
    values = gan.critic.predict(
        np.stack([xs.ravel(), ys.ravel()], 1).astype("float32"), verbose=0, batch_size=8192
    )
    axes.contour(xs, ys, values.reshape(xs.shape), levels=15, cmap="viridis", linewidths=0.7)
    axes.scatter(real[:, 0], real[:, 1], s=2, c="tab:orange", alpha=0.4)
    axes.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:green", alpha=0.5)
    axes.set_xlim(low[0], high[0])
    axes.set_ylim(low[1], high[1])
    axes.set_title(title, fontsize=9)
    axes.set_aspect("equal")


if __name__ == "__main__":
    sys.exit(main())
