"""Conditional generation and InfoGAN codes, measured.

Three tasks, each a Markdown table in docs/results/runs/conditional_<task>.md:

* `toy`: a class-conditional WGAN-GP on 8gaussians with the mode as label,
  both learning rates decayed linearly to 0 over the run.
  Per label, the share of `generate(n, labels=c)` within 3σ of mode c
  (`evaluation.conditional_accuracy` with `evaluation.mode_classifier`).
* `infogan`: unconditional WGAN-GP with InfoGAN's `Categorical(8)` code and
  no labels. For each code value, the purity (the share of its samples
  whose nearest mode is the value's most frequent one), the share within
  3σ of that mode, and whether the 8 values pick 8 different modes.
* `digits`: conditional DCGAN WGAN-GP on the 16x16 digits (training split)
  with a projection critic, a concatenated one-hot label and ACGAN; the
  in-package classifier's conditional accuracy, intra-class FID against
  the held-out split, and the overall FID (1,000 samples vs the held-out
  360, the protocol of `keras-wgangp train`).

    python benchmarks/conditional.py --task toy       # 3 seeds, about 3 minutes
    python benchmarks/conditional.py --task infogan   # 3 seeds, about 3 minutes
    python benchmarks/conditional.py --task digits --seeds 1  # 3 critics, about 12 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_wgangp as kw  # noqa: E402
from keras_wgangp import codes, evaluation  # noqa: E402

A = kw.architectures
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "docs", "results", "runs")


def _adam(learning_rate, beta_1=0.5, decay_steps=None):
    if decay_steps:  # linear decay to 0 over the run
        learning_rate = keras.optimizers.schedules.PolynomialDecay(learning_rate, decay_steps, 0.0)
    return keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=0.9)


def _toy_gan(seed, num_classes=None, latent_codes=None, units=128, decay_steps=None):
    code_size = sum(code.size for code in latent_codes or [])
    generator = A.mlp_generator(2 + code_size, units=units, num_classes=num_classes)
    critic = A.mlp_critic(units=units, num_classes=num_classes, q_outputs=code_size or None)
    gan = kw.WGANGP(
        generator,
        critic,
        gp_weight=1.0,
        seed=seed,
        ema_decay=0.999,
        num_classes=num_classes,
        latent_codes=latent_codes,
    )
    # The critic's optimizer counts 5 updates per generator step.
    gan.compile(
        _adam(1e-3, decay_steps=decay_steps), _adam(1e-3, decay_steps=decay_steps and 5 * decay_steps)
    )
    return gan


def _toy_data(steps, seed, labels):
    n = steps * 5 * 256
    if labels:
        x, y = kw.data.toy_samples("8gaussians", n, seed=seed, return_labels=True)
        return tf.data.Dataset.from_tensor_slices((x, y)).batch(256)
    return tf.data.Dataset.from_tensor_slices(kw.data.toy_samples("8gaussians", n, seed=seed)).batch(256)


def run_toy(seed, steps):
    keras.utils.set_random_seed(seed)
    gan = _toy_gan(seed, num_classes=8, decay_steps=steps)
    start = time.perf_counter()
    gan.fit(_toy_data(steps, seed, labels=True), epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    result = evaluation.conditional_accuracy(gan, evaluation.mode_classifier("8gaussians"), 500, seed=seed)
    return {"seed": seed, "seconds": seconds, "min_label": min(result["per_class"]), **result}


def run_infogan(seed, steps):
    keras.utils.set_random_seed(seed)
    gan = _toy_gan(seed, latent_codes=[codes.Categorical(8)])
    start = time.perf_counter()
    gan.fit(_toy_data(steps, seed, labels=False), epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    centres, _ = kw.data.toy_modes("8gaussians")
    within = evaluation.mode_classifier("8gaussians")
    purity, majority, high_quality = [], [], []
    for value in range(8):
        samples = gan.generate(500, seed=seed + value, codes=[value])
        nearest = np.argmin(((samples[:, None] - centres[None]) ** 2).sum(-1), axis=1)
        counts = np.bincount(nearest, minlength=8)
        majority.append(int(counts.argmax()))
        purity.append(float(counts.max() / len(samples)))
        high_quality.append(float(np.mean(within(samples) == counts.argmax())))
    # Purity counts the nearest mode; high_quality asks for 3σ of that mode.
    return {
        "seed": seed,
        "seconds": seconds,
        "purity": purity,
        "min_purity": min(purity),
        "high_quality": high_quality,
        "modes_used": len(set(majority)),
    }


def run_digits(conditioning, seed, steps):
    keras.utils.set_random_seed(seed)
    x_train, y_train, x_test, y_test = kw.data.digits_split(16)
    acgan = conditioning == "acgan"
    generator = A.dcgan_generator(64, (16, 16, 1), filters=32, num_classes=10)
    critic = A.dcgan_critic(
        (16, 16, 1),
        filters=32,
        num_classes=10,
        conditioning=None if acgan else conditioning,
        auxiliary_classifier=acgan,
    )
    gan = kw.WGANGP(
        generator,
        critic,
        num_classes=10,
        classifier_weight=1.0 if acgan else None,
        seed=seed,
        ema_decay=0.999,
    )
    gan.compile(_adam(2e-4), _adam(2e-4))
    # 1,437 training digits make ceil(1437 / (5 x 64)) = 5 generator steps per epoch.
    epochs = -(-steps // 5)
    start = time.perf_counter()
    gan.fit(x_train, y_train.astype("int32"), batch_size=64, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    classifier = evaluation.digits_classifier(16)
    accuracy = evaluation.conditional_accuracy(gan, classifier, 100, seed=seed)
    extractor = evaluation.classifier_features("digits", 16)
    intra = evaluation.intra_class_fid(gan, x_test, y_test, extractor, seed=seed)
    fid = evaluation.frechet_distance(extractor(gan.generate(1000, seed=seed)), extractor(x_test))
    return {
        "conditioning": conditioning,
        "seed": seed,
        "seconds": seconds,
        "conditional_accuracy": accuracy["overall"],
        "min_class_accuracy": min(accuracy["per_class"]),
        "intra_class_fid": intra["intra_class_fid"],
        "fid": fid,
    }


def _mean(rows, key):
    values = [row[key] for row in rows]
    return statistics.mean(values)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", choices=["toy", "infogan", "digits"], required=True)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, help="generator steps [toy/infogan 2000, digits 2000]")
    parser.add_argument("--conditionings", default="projection,concat,acgan")
    args = parser.parse_args()
    steps = args.steps or 2000
    rows = []
    if args.task == "digits":
        for conditioning in args.conditionings.split(","):
            for seed in range(args.seeds):
                rows.append(run_digits(conditioning, seed, steps))
                print(json.dumps(rows[-1]), flush=True)
    else:
        run = run_toy if args.task == "toy" else run_infogan
        for seed in range(args.seeds):
            rows.append(run(seed, steps))
            print(json.dumps(rows[-1]), flush=True)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"conditional_{args.task}.json"), "w") as handle:
        json.dump({"steps": steps, "rows": rows}, handle, indent=2)
    lines = _table(args.task, rows, steps)
    with open(os.path.join(RESULTS, f"conditional_{args.task}.md"), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def _table(task, rows, steps):
    if task == "toy":
        lines = [
            f"Conditional WGAN-GP on 8gaussians, {steps} generator steps per seed",
            "",
            "| seed | overall within 3σ of own mode | worst label | train s |",
            "|---|---|---|---|",
        ]
        for r in rows:
            lines.append(f"| {r['seed']} | {r['overall']:.1%} | {r['min_label']:.1%} | {r['seconds']:.0f} |")
        return lines
    if task == "infogan":
        lines = [
            f"InfoGAN Categorical(8) on unlabelled 8gaussians, {steps} generator steps per seed",
            "",
            "| seed | worst code purity | mean purity | mean within 3σ of its mode "
            "| worst code within 3σ | modes used | train s |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['seed']} | {r['min_purity']:.1%} | {statistics.mean(r['purity']):.1%} | "
                f"{statistics.mean(r['high_quality']):.1%} | {min(r['high_quality']):.1%} | "
                f"{r['modes_used']}/8 | {r['seconds']:.0f} |"
            )
        return lines
    lines = [
        f"Conditional digits (16x16), WGAN-GP, {steps} generator steps per run",
        "",
        "| critic | conditional accuracy | worst class | intra-class FID | FID | train s |",
        "|---|---|---|---|---|---|",
    ]
    for conditioning in dict.fromkeys(r["conditioning"] for r in rows):
        group = [r for r in rows if r["conditioning"] == conditioning]
        lines.append(
            f"| {conditioning} | {_mean(group, 'conditional_accuracy'):.1%} | "
            f"{_mean(group, 'min_class_accuracy'):.1%} | {_mean(group, 'intra_class_fid'):.2f} | "
            f"{_mean(group, 'fid'):.2f} | {_mean(group, 'seconds'):.0f} |"
        )
    return lines


if __name__ == "__main__":
    main()
