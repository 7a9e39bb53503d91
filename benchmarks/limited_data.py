"""Limited data: digits with 10 % of the training split against all of it, with and without augmentation.

For each method (WGAN-GP, non-saturating + R1, R3GAN), each augmentation
(none, DiffAugment, ADA) and each data fraction (a stratified 10 % of the
1,437 training digits, about 144 images, and all of them), trains the
16x16 DCGAN pair of `keras-wgangp train --dataset digits` for one budget of
critic updates and reports the FID of 1,000 EMA samples against the 360
held-out digits (`keras-wgangp evaluate --dataset digits`), with the ratio
of the 10 % FID to the full-data FID of the same method and augmentation.
The recipes are `keras_wgangp.recipes`: `digits` (WGAN-GP), `stacked_digits`
(non-saturating + R1) and `r3gan`, with their `augment` replaced; ADA uses
the recipes' settings (target 0.6, p may cross [0, 1] in a quarter of the run).

Writes `<name>.md`, `<name>.json`, `<name>.png` (one panel of seed 0's
samples per cell) and `<name>_panels.npz` (those samples, for --from-json) in
--output.

    python benchmarks/limited_data.py                  # 3 x 3 x 2 cells x 3 seeds
    python benchmarks/limited_data.py --seeds 1 --methods r3gan --augments none,diffaugment
    python benchmarks/limited_data.py --from-json    # the table and panels of a stopped run

`--mnist` runs the overfitting study on real 28x28 MNIST instead: n = 100 (stratified) and all
4,000 training digits, each method (`wgan-gp`: the `digits` recipe's WGAN-GP, 5 critic steps;
`r3gan`) with no augmentation, DiffAugment and ADA steered by the held-out r_v
(`ADA(statistic="validation")`). Every `--eval-every` generator steps it measures the FID of
1,000 EMA samples against the 1,000 test digits (`EvaluateEvery`) and the critic's r_v on those
test digits (`CriticOverfitting`; ADA's own r_v every tenth of that), and at the end the copy
share of 1,000 samples against the training digits in the classifier's features
(`evaluation.memorization`). Writes `<name>.md` (final values), `<name>.json` (the curves),
`<name>.png` (FID and r_v against real images shown to the critic, one curve per cell) and
`<name>_neighbours_<cell>.png` (the nearest-neighbour panel of each n = 100 cell).

    python benchmarks/limited_data.py --mnist --methods r3gan --steps 3000 --eval-every 300 --seeds 1
    python benchmarks/limited_data.py --mnist --append --methods wgan-gp --steps 2000 --eval-every 200
    python benchmarks/limited_data.py --mnist --from-json   # the table and curves of the stored cells

`--append` keeps the cells of `<name>.json` and runs only the missing ones, so a study can grow
over several runs with different steps per method (each cell records its own).
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

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

import keras_wgangp as kw  # noqa: E402
from keras_wgangp import evaluation, recipes  # noqa: E402

METHODS = {"wgan-gp": "digits", "ns-r1": "stacked_digits", "r3gan": "r3gan"}
AUGMENTS = ("none", "diffaugment", "ada")


def training_images(fraction: float) -> np.ndarray:
    """The digits' training split, or a stratified `fraction` of it (fixed: seed 0)."""
    images, labels, _, _ = kw.data.digits_split(16)
    if fraction >= 1.0:
        return images
    subset, _ = train_test_split(images, train_size=fraction, stratify=labels, random_state=0)
    return subset


def run(method: str, augment: str, fraction: float, seed: int, critic_updates: int) -> dict:
    recipe = recipes.RECIPES[METHODS[method]]
    steps = critic_updates // recipe.critic_steps
    recipe = dataclasses.replace(recipe, augment=augment, steps=steps, epochs=1)
    images = training_images(fraction)
    tf.keras.utils.set_random_seed(seed)
    gan = recipes.build_gan(recipe, images.shape[1:], total_steps=steps, seed=seed)
    stream = tf.data.Dataset.from_tensor_slices(images).shuffle(len(images), seed=seed).repeat()
    stream = stream.batch(recipe.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    start = time.perf_counter()
    history = gan.fit(stream, steps_per_epoch=steps, epochs=1, verbose=0).history
    seconds = time.perf_counter() - start
    samples = np.asarray(gan.generate(1000, seed=seed))
    report = evaluation.evaluate_samples(samples, "digits", seed=seed)
    return {
        "method": method, "augment": augment, "fraction": fraction, "images": len(images), "seed": seed,
        "fid": report["fid"], "precision": report.get("precision"), "recall": report.get("recall"),
        "augment_p": history["augment_p"][-1] if "augment_p" in history else None,
        "seconds": seconds,
        "panel": np.round((np.clip(samples[:36], -1, 1) + 1) * 127.5).astype("uint8") if seed == 0 else None,
    }  # fmt: skip


def _cell(runs: list[dict], key: str = "fid", digits: int = 2) -> str:
    values = [r[key] for r in runs if r[key] is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def table(results: list[dict]) -> str:
    lines = [
        "| method | augmentation | FID, 10 % | FID, 100 % | ratio 10 % / 100 % | final p (10 %) | seeds "
        "| s per run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for method in dict.fromkeys(r["method"] for r in results):
        for augment in dict.fromkeys(r["augment"] for r in results if r["method"] == method):
            cell = [r for r in results if r["method"] == method and r["augment"] == augment]
            small = [r for r in cell if r["fraction"] < 1.0]
            full = [r for r in cell if r["fraction"] >= 1.0]
            ratio = "–"
            if small and full:
                mean_small, mean_full = (statistics.mean(r["fid"] for r in rs) for rs in (small, full))
                ratio = f"{mean_small / mean_full:.2f}"
            seeds = len({r["seed"] for r in cell})
            seconds = statistics.mean(r["seconds"] for r in cell)
            lines.append(
                f"| {method} | {augment} | {_cell(small)} | {_cell(full)} | {ratio} | "
                f"{_cell(small, 'augment_p')} | {seeds} | {seconds:.0f} |"
            )
    return "\n".join(lines)


def panels(results: list[dict], path: str) -> None:
    cells = [r for r in results if r["panel"] is not None]
    rows = list(dict.fromkeys((r["method"], r["augment"]) for r in cells))
    columns = sorted({r["fraction"] for r in cells})
    figure = Figure(figsize=(2.6 * len(columns), 2.8 * len(rows)))
    for i, (method, augment) in enumerate(rows):
        for j, fraction in enumerate(columns):
            axes = figure.add_subplot(len(rows), len(columns), i * len(columns) + j + 1)
            axes.axis("off")
            found = [
                r for r in cells if (r["method"], r["augment"], r["fraction"]) == (method, augment, fraction)
            ]
            if not found:
                continue
            images = np.asarray(found[0]["panel"])[..., 0] / 255.0
            grid = images.reshape(6, 6, 16, 16).transpose(0, 2, 1, 3).reshape(96, 96)
            axes.imshow(np.clip(grid, 0, 1), cmap="gray", vmin=0, vmax=1)
            axes.set_title(f"{method}, {augment}\n{fraction:.0%}: FID {found[0]['fid']:.2f}", fontsize=7)
    figure.tight_layout()
    kw.plots.save_figure(figure, path, tight=False)


def save(stem: str, args, results: list[dict]) -> None:
    """`<stem>.json` (the runs, without samples) and `<stem>_panels.npz` (seed 0's 36 samples per cell)."""
    with open(stem + ".json", "w") as f:
        json.dump({"args": vars(args), "runs": [{**r, "panel": None} for r in results]}, f, indent=1)
    np.savez_compressed(
        stem + "_panels.npz", **{str(i): r["panel"] for i, r in enumerate(results) if r["panel"] is not None}
    )


STUDY_AUGMENTS = ("none", "diffaugment", "ada")  # ADA with the validation statistic
STUDY_RECIPES = {"wgan-gp": "digits", "r3gan": "r3gan"}


def mnist_subset(count: int) -> np.ndarray:
    """The first `count` of a stratified draw (seed 0) of MNIST's 4,000 training digits."""
    images, labels = kw.data.mnist("train")
    if count >= len(images):
        return images
    subset, _ = train_test_split(images, train_size=count, stratify=labels, random_state=0)
    return subset


def study_run(
    method: str, augment: str, count: int, seed: int, steps: int, eval_every: int, stem: str
) -> dict:
    """One cell of the MNIST study: the FID and r_v curves, the final copy share and p."""
    recipe = recipes.RECIPES[STUDY_RECIPES[method]]
    recipe = dataclasses.replace(recipe, augment=augment, steps=steps, epochs=steps // eval_every)
    images, (validation, _) = mnist_subset(count), kw.data.mnist("test")
    tf.keras.utils.set_random_seed(seed)
    gan = recipes.build_gan(
        recipe, images.shape[1:], total_steps=steps, seed=seed, validation=augment == "ada"
    )
    watch = kw.callbacks.CriticOverfitting(
        validation, images, every_n_steps=max(1, eval_every // 10) if augment == "ada" else None, seed=seed
    )
    quality = kw.callbacks.EvaluateEvery(["fid"], dataset="mnist", num_samples=1000, seed=seed)
    stream = tf.data.Dataset.from_tensor_slices(images).shuffle(len(images), seed=seed).repeat()
    stream = stream.batch(recipe.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    start = time.perf_counter()
    history = gan.fit(stream, steps_per_epoch=eval_every, epochs=steps // eval_every, verbose=0,
                      callbacks=[watch, quality]).history  # fmt: skip
    seconds = time.perf_counter() - start
    samples = np.asarray(gan.generate(1000, seed=seed))
    copies = evaluation.memorization(samples, images, features="mnist")
    if count < 2000:
        kw.plots.nearest_neighbours(samples, images, f"{stem}_neighbours_{method}_{augment}_{count}.png",
                                    features="mnist")  # fmt: skip
    shown = [
        (i + 1) * eval_every * recipe.critic_steps * recipe.batch_size for i in range(len(history["fid"]))
    ]
    return {
        "method": method, "augment": augment, "images": count, "seed": seed, "seconds": seconds,
        "steps": steps, "shown": shown, "fid": history["fid"], "overfit_rv": history["overfit_rv"],
        "augment_p": history.get("augment_p"), "copy_share": copies["copy_share"],
        "nearest_distance_ratio": copies["nearest_distance_ratio"],
    }  # fmt: skip


def study_table(results: list[dict]) -> str:
    lines = ["| method | augmentation | training digits | final FID | best FID (at images shown) | final r_v "
             "| max r_v | final p | copy share | s |", "|" + "---|" * 10]  # fmt: skip
    for r in results:
        best = int(np.argmin(r["fid"]))
        p = f"{r['augment_p'][-1]:.2f}" if r["augment_p"] else "–"
        lines.append(
            f"| {r['method']} | {r['augment']} | {r['images']:,} | {r['fid'][-1]:.1f} | {r['fid'][best]:.1f} "
            f"({r['shown'][best]:,}) | {r['overfit_rv'][-1]:.2f} | {max(r['overfit_rv']):.2f} | {p} | "
            f"{r['copy_share']:.3f} | {r['seconds']:.0f} |"
        )
    return "\n".join(lines)


def study_curves(results: list[dict], path: str) -> None:
    """A row of FID, r_v and p per method: colour by augmentation, solid for the smallest set."""
    keys = [("fid", "FID (1,000 EMA samples vs test)"), ("overfit_rv", "critic r_v on test digits"),
            ("augment_p", "ADA p")]  # fmt: skip
    methods = sorted({r["method"] for r in results})
    smallest = min(r["images"] for r in results)
    figure = Figure(figsize=(15, 4 * len(methods)))
    for row, method in enumerate(methods):
        for i, (key, title) in enumerate(keys, start=1):
            axes = figure.add_subplot(len(methods), 3, row * 3 + i)
            for r in (r for r in results if r["method"] == method and r.get(key)):
                values = r[key][-len(r["shown"]) :]  # p is logged every epoch, like the others
                axes.plot(r["shown"], values, marker=".", color=f"C{STUDY_AUGMENTS.index(r['augment'])}",
                          linestyle="-" if r["images"] == smallest else "--",
                          label=f"{r['augment']} n={r['images']:,}")  # fmt: skip
            axes.set_xlabel("real images shown to the critic")
            axes.set_title(f"{method}: {title}")
            axes.grid(alpha=0.3)
            if key == "fid":
                axes.set_yscale("log")
                axes.legend(fontsize=7)
    figure.tight_layout()
    kw.plots.save_figure(figure, path, tight=False)


def study(args) -> int:
    stem = os.path.join(args.output, args.name)
    results, commands = [], []
    if args.append and os.path.exists(stem + ".json"):  # earlier cells stay; only the missing ones run
        with open(stem + ".json") as f:
            earlier = json.load(f)
        results, commands = earlier["runs"], earlier.get("commands", [])
    if args.from_json:  # only the table and curves of the stored cells
        with open(stem + ".json") as f:
            earlier = json.load(f)
        results, commands = earlier["runs"], earlier.get("commands", [])
    else:
        commands.append("python benchmarks/limited_data.py " + " ".join(sys.argv[1:]))
    done = {(r["method"], r["augment"], r["images"], r["seed"]) for r in results}
    for seed in range(0 if args.from_json else args.seeds):
        for method in args.methods.split(","):
            for augment in args.augments.split(","):
                for count in (int(n) for n in args.sizes.split(",")):
                    if (method, augment, count, seed) in done:
                        continue
                    result = study_run(method, augment, count, seed, args.steps, args.eval_every, stem)
                    results.append(result)
                    print(f"{method} {augment} n={count} seed {seed}: FID {result['fid'][-1]:.2f} (min "
                          f"{min(result['fid']):.2f}) r_v {result['overfit_rv'][-1]:.3f} copy "
                          f"{result['copy_share']:.3f} {result['seconds']:.0f} s", flush=True)  # fmt: skip
                    with open(stem + ".json", "w") as f:  # after every run: a stopped job keeps its results
                        json.dump({"commands": commands, "runs": results}, f, indent=1)
    results.sort(key=lambda r: (r["method"], r["images"], STUDY_AUGMENTS.index(r["augment"]), r["seed"]))
    text = study_table(results)
    with open(stem + ".md", "w") as f:
        f.write("".join(f"`{c}`\n\n" for c in commands) + text + "\n")
    study_curves(results, stem + ".png")
    print(text)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=",".join(METHODS), help=f"any of {', '.join(METHODS)}")
    parser.add_argument("--augments", default=",".join(AUGMENTS), help=f"any of {', '.join(AUGMENTS)}")
    parser.add_argument("--fractions", default="0.1,1.0")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--critic-updates", type=int, default=2000, help="the budget of every run [2000]")
    parser.add_argument("--output", default="docs/results/runs")
    parser.add_argument("--name", default="limited_data")
    parser.add_argument(
        "--from-json", action="store_true", help="only write the table and panels of <name>.json"
    )
    parser.add_argument("--mnist", action="store_true", help="the overfitting study on real MNIST (above)")
    parser.add_argument("--sizes", default="100,4000", help="--mnist: training digits per cell [100,4000]")
    parser.add_argument("--steps", type=int, default=6000, help="--mnist: generator steps per run [6000]")
    parser.add_argument(
        "--eval-every", type=int, default=500, help="--mnist: steps between measurements [500]"
    )
    parser.add_argument(
        "--append", action="store_true", help="--mnist: keep the cells of <name>.json and run only the others"
    )
    args = parser.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    if args.mnist:
        args.name = "limited_data_mnist" if args.name == "limited_data" else args.name
        args.methods = args.methods if args.methods != ",".join(METHODS) else ",".join(STUDY_RECIPES)
        return study(args)
    stem = os.path.join(args.output, args.name)
    results = []
    if args.from_json:
        with open(stem + ".json") as f:
            results = json.load(f)["runs"]
        with np.load(stem + "_panels.npz") as panels_file:
            for i, result in enumerate(results):
                result["panel"] = panels_file[str(i)] if str(i) in panels_file else None
        args.seeds = 0
    for seed in range(args.seeds):
        for method in args.methods.split(","):
            for augment in args.augments.split(","):
                for fraction in (float(f) for f in args.fractions.split(",")):
                    result = run(method, augment, fraction, seed, args.critic_updates)
                    results.append(result)
                    print(f"{method} {augment} {fraction:.0%} seed {seed}: FID {result['fid']:.3f} "
                          f"p {result['augment_p']} {result['seconds']:.0f} s", flush=True)  # fmt: skip
                    save(stem, args, results)  # after every run: a stopped job keeps its results
    text = table(results)
    with open(stem + ".md", "w") as f:
        f.write(text + "\n")
    panels(results, stem + ".png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
