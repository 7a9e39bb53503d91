"""The paper's Figure 1: weight clipping against the gradient penalty, inside a deep critic.

Trains a 12-layer ReLU MLP critic (width `--width`, no normalisation) with
the toy generator on swissroll, once per setting: WGAN with weight clipping
at c = 0.1, 0.01 and 0.001 (RMSProp, as the original WGAN), and WGAN-GP
with λ = 10 (the paper) and λ = 1 (the toy recipe's), Adam(1e-4, 0, 0.9).
`kw.callbacks.CriticDiagnostics` measures, on a fixed batch, the norm of
the gradient of the critic's loss with respect to each layer's output and
the critic's weights; the script draws Figure 1(a) and (b) as one PNG and
prints the norms at the first and last layer, and the share of weights
within 1 % of ±c (clipping) or of ±max|w| (the penalty's spread).

    python benchmarks/critic_diagnostics.py                 # 5 runs x 1,000 generator steps
    python benchmarks/critic_diagnostics.py --steps 200     # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_wgangp as kw  # noqa: E402

SETTINGS = {
    "clip c=0.1": {"clip_value": 0.1},
    "clip c=0.01": {"clip_value": 0.01},
    "clip c=0.001": {"clip_value": 0.001},
    "GP λ=10": {"gp_weight": 10.0},
    "GP λ=1": {"gp_weight": 1.0},
}


def deep_critic(width: int, depth: int = 12) -> keras.Model:
    """`depth` Dense layers: `depth - 1` ReLU layers of `width`, then the linear score."""
    layers = [keras.Input((2,))]
    layers += [keras.layers.Dense(width, activation="relu") for _ in range(depth - 1)]
    return keras.Sequential(layers + [keras.layers.Dense(1)], name=f"critic_{depth}x{width}")


def run(label: str, settings: dict, steps: int, width: int, seed: int) -> tuple[dict, float]:
    keras.utils.set_random_seed(seed)
    generator = kw.architectures.mlp_generator(units=width)
    if "clip_value" in settings:
        gan = kw.GAN(
            generator, deep_critic(width), critic_steps=5, clip_value=settings["clip_value"], seed=seed
        )
        gan.compile(keras.optimizers.RMSprop(5e-5), keras.optimizers.RMSprop(5e-5))
    else:
        gan = kw.WGANGP(
            generator, deep_critic(width), critic_steps=5, gp_weight=settings["gp_weight"], seed=seed
        )
        gan.compile()  # the paper's Adam(1e-4, 0, 0.9)
    data = kw.data.toy_samples("swissroll", steps * 5 * 256, seed=seed)
    diagnostics = kw.callbacks.CriticDiagnostics(data[:512], every_n_epochs=1, num_examples=512)
    start = time.perf_counter()
    gan.fit(data, batch_size=256, epochs=1, verbose=0, callbacks=[diagnostics])
    seconds = time.perf_counter() - start
    weights = np.concatenate([keras.ops.convert_to_numpy(w).ravel() for w in gan.critic.trainable_weights])
    bound = settings.get("clip_value") or float(np.abs(weights).max())
    norms = diagnostics.record["layer_grad_norms"][-1]
    result = {
        "label": label,
        "norms": norms,
        "first_layer": norms[0],
        "last_layer": norms[-1],
        "share_at_bound": kw.diagnostics.clip_share(weights, bound),
        "bound": bound,
        "interpolate_grad_norm": diagnostics.record["interpolate_grad_norm"][-1],
        "seconds": seconds,
    }
    return result, diagnostics


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--steps", type=int, default=1000, help="generator steps per run (5 critic steps each)"
    )
    parser.add_argument("--width", type=int, default=128, help="units of each critic and generator layer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="docs/results/runs", help="folder for the PNG and JSON")
    args = parser.parse_args(argv)
    results, runs = [], {}
    total = time.perf_counter()
    for label, settings in SETTINGS.items():
        result, runs[label] = run(label, settings, args.steps, args.width, args.seed)
        results.append(result)
        print(json.dumps({k: v for k, v in result.items() if k != "norms"}), flush=True)
    os.makedirs(args.output, exist_ok=True)
    png = kw.diagnostics.plot_critic_diagnostics(runs, os.path.join(args.output, "critic_diagnostics.png"))
    with open(os.path.join(args.output, "critic_diagnostics.json"), "w") as handle:
        json.dump(
            {"steps": args.steps, "width": args.width, "seed": args.seed, "runs": results}, handle, indent=2
        )
    print("\n| run | ‖∂L/∂h‖ first layer | last layer | log₁₀ last/first | share at ±bound | s |")
    print("|---|---|---|---|---|---|")
    for r in results:
        ratio = (
            f"{np.log10(r['last_layer'] / r['first_layer']):+.1f}" if r["first_layer"] > 0 else "+∞ (0 below)"
        )
        print(f"| {r['label']} | {r['first_layer']:.3g} | {r['last_layer']:.3g} | {ratio} | "
              f"{100 * r['share_at_bound']:.1f} % of ±{r['bound']:.3g} | {r['seconds']:.0f} |")  # fmt: skip
    seconds = time.perf_counter() - total
    print(f"\n{png}; {args.steps} generator steps x 5 critic steps, batch 256, 12-layer ReLU critic of "
          f"width {args.width}; {os.cpu_count()} CPU cores; total {seconds:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
