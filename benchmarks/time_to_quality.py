"""Time to quality: what a wall-clock budget buys each trainer, on the same networks, objective and data.

Each contestant trains alone on the machine, in a process of its own, for `--budget` seconds of
training; at fixed fractions of the budget the clock stops, the contestant draws 1,000 samples
(the EMA generator where it has one) with a fixed latent seed, and the clock goes on. Scoring is
not charged to the budget: once every contestant has run, this process measures every snapshot
with the package's own evaluator (`kw.evaluation.evaluate_samples`: FID against the test split,
its floor, class coverage).

Contestants, all on the `mnist` recipe's DCGAN pair (width 32, z = 64) and the 4,000 training
digits of `kw.data.mnist`:

* ours: `kw.recipes.build_gan` of the recipe under `fit`, in float32;
* ours_auto: the same with `--precision auto` (`kw.precision.resolve("auto")`); left out, and said
  so, where auto picks float32, since it would then be `ours` again;
* torch: a PyTorch eager port, layer for layer (`speed.torch_dcgan`), with the same objective,
  Adam settings and generator EMA; PyTorch's default initialisers;
* kerasio: the keras.io-style trainer (`kerasio_reference.KerasIOStyleWGAN`) on the same networks,
  with `--objective wgan-gp` only: it has no other loss, and no EMA (its raw generator is scored).

`--objective recipe` is the `mnist` recipe (non-saturating + R1, γ = 1, one critic step, the
critic's rate twice the generator's); `--objective wgan-gp` the images recipe's WGAN-GP
(λ = 10, five critic steps, equal rates) on the same networks.

    python benchmarks/time_to_quality.py --dataset mnist --budget 600 --output docs/results/runs/ttq_mnist
    python benchmarks/time_to_quality.py --objective wgan-gp --output docs/results/runs/ttq_wgangp
    python benchmarks/time_to_quality.py --from-json docs/results/runs/ttq_mnist.json   # redraw
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import keras_wgangp as kw  # noqa: E402  (turns oneDNN on before TensorFlow loads)
from keras_wgangp import recipes  # noqa: E402

SAMPLES, SAMPLE_SEED = 1000, 1234
CONTESTANTS = ("ours", "ours_auto", "torch", "kerasio")


def recipe_of(objective: str) -> recipes.Recipe:
    """The `mnist` recipe, or the images recipe's WGAN-GP on its networks."""
    recipe = recipes.get("mnist")
    if objective == "wgan-gp":
        images = recipes.get("images")
        recipe = dataclasses.replace(
            recipe, loss="wasserstein", penalty="gradient_penalty", gp_weight=images.gp_weight,
            critic_steps=images.critic_steps, critic_rate_ratio=images.critic_rate_ratio,
            learning_rate=images.learning_rate,
        )  # fmt: skip
    return recipe


class Clock:
    """Seconds of training, snapshots left out; `snapshot()` runs at each fraction of the budget."""

    def __init__(self, budget: float, fractions: list[float], snapshot):
        self.budget, self.marks, self.snapshot = budget, [f * budget for f in fractions], snapshot
        self.trained, self.steps, self.records = 0.0, 0, []
        self.since = time.perf_counter()

    def tick(self) -> bool:
        """After one generator step: True once the budget is spent."""
        now = time.perf_counter()
        self.trained += now - self.since
        self.steps += 1
        while self.marks and self.trained >= self.marks[0]:
            self.marks.pop(0)
            self.records.append(
                {"seconds": round(self.trained, 2), "steps": self.steps, "samples": self.snapshot()}
            )
        self.since = time.perf_counter()  # the snapshot's own time is not charged
        return not self.marks


def images() -> np.ndarray:
    return kw.data.mnist("train", 28)[0]


def image_stream(batch_size: int, seed: int):
    """The training digits, shuffled and repeated, in batches (Keras contestants)."""
    import tensorflow as tf

    stream = tf.data.Dataset.from_tensor_slices(images()).shuffle(4000, seed=seed).repeat()
    return stream.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def fit_for_budget(model, stream, clock: Clock) -> list[dict]:
    """`model.fit` on `stream` until `clock` has seen the whole budget (Keras contestants)."""
    import keras

    class Stop(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if clock.tick():
                self.model.stop_training = True

    clock.since = time.perf_counter()
    model.fit(stream, steps_per_epoch=10**7, epochs=1, verbose=0, callbacks=[Stop()])
    return clock.records


def run_ours(recipe, clock_args, seed: int, precision: str) -> list[dict]:
    import keras

    keras.utils.set_random_seed(seed)
    with kw.precision.use(precision):
        gan = recipes.build_gan(recipe, (28, 28, 1), total_steps=recipe.steps, seed=seed)
    stream = image_stream(recipe.batch_size, seed)
    gan.fit(stream.take(2 * recipe.critic_steps), steps_per_epoch=2, verbose=0)  # tracing is not charged
    return fit_for_budget(
        gan, stream, Clock(*clock_args, snapshot=lambda: gan.generate(SAMPLES, seed=SAMPLE_SEED))
    )


def run_kerasio(recipe, clock_args, seed: int) -> list[dict]:
    import keras
    from kerasio_reference import KerasIOStyleWGAN

    keras.utils.set_random_seed(seed)
    A = kw.architectures
    generator = A.dcgan_generator(recipe.latent_dim, (28, 28, 1), filters=recipe.width)
    critic = A.dcgan_critic((28, 28, 1), filters=recipe.width)
    model = KerasIOStyleWGAN(critic, generator, recipe.latent_dim, recipe.critic_steps, recipe.gp_weight)

    def adam(rate):
        return keras.optimizers.Adam(rate, beta_1=recipe.beta_1, beta_2=recipe.beta_2)

    model.compile(adam(recipe.critic_learning_rate), adam(recipe.learning_rate))
    stream = image_stream(recipe.batch_size, seed)
    model.fit(stream.take(2), verbose=0)
    z = keras.random.normal((SAMPLES, recipe.latent_dim), seed=SAMPLE_SEED)
    clock = Clock(*clock_args, snapshot=lambda: generator.predict(z, batch_size=500, verbose=0))
    return fit_for_budget(model, stream, clock)


def run_torch(recipe, clock_args, seed: int) -> list[dict]:
    import copy

    import torch
    import torch.nn.functional as F
    from speed import torch_dcgan

    torch.manual_seed(seed)
    critic, generator = torch_dcgan(
        {"shape": (28, 28, 1), "filters": recipe.width, "latent": recipe.latent_dim}
    )
    average = copy.deepcopy(generator).eval() if recipe.ema_decay else None
    betas = (recipe.beta_1, recipe.beta_2)
    c_opt = torch.optim.Adam(critic.parameters(), recipe.critic_learning_rate, betas=betas)
    g_opt = torch.optim.Adam(generator.parameters(), recipe.learning_rate, betas=betas)
    data = torch.from_numpy(images().transpose(0, 3, 1, 2).copy())
    batch, latent, wgan = recipe.batch_size, recipe.latent_dim, recipe.loss == "wasserstein"

    def batches():
        while True:
            order = torch.randperm(len(data))
            for i in range(0, len(data) - batch + 1, batch):
                yield data[order[i : i + batch]]

    def penalty(real, fake):
        if wgan:  # the gradient penalty at x̂ = εr + (1 − ε)f, ε per example
            eps = torch.rand(batch, 1, 1, 1)
            x = (eps * real + (1 - eps) * fake).requires_grad_(True)
            (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
            return recipe.gp_weight * ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()
        x = real.detach().requires_grad_(True)  # R1: γ/2 E‖∇D(x)‖² on real data
        (g,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        return recipe.gp_weight / 2 * g.flatten(1).pow(2).sum(1).mean()

    def critic_step(real):
        with torch.no_grad():
            fake = generator(torch.randn(batch, latent))
        r, f = critic(real), critic(fake)
        loss = f.mean() - r.mean() if wgan else F.softplus(-r).mean() + F.softplus(f).mean()
        c_opt.zero_grad(set_to_none=True)
        (loss + penalty(real, fake)).backward()
        c_opt.step()

    def generator_step():
        f = critic(generator(torch.randn(batch, latent)))
        loss = -f.mean() if wgan else F.softplus(-f).mean()
        g_opt.zero_grad(set_to_none=True)
        loss.backward()
        g_opt.step()
        if average is not None:  # kw.ema: d = min(decay, (1 + t)/(10 + t)); buffers copied
            t = g_opt.state[next(iter(generator.parameters()))]["step"].item() - 1
            d = min(recipe.ema_decay, (1 + t) / (10 + t))
            with torch.no_grad():
                for a, p in zip(average.parameters(), generator.parameters(), strict=True):
                    a.mul_(d).add_(p, alpha=1 - d)
                for a, b in zip(average.buffers(), generator.buffers(), strict=True):
                    a.copy_(b)

    def snapshot():
        with torch.no_grad():
            z = torch.from_numpy(
                np.random.default_rng(SAMPLE_SEED).normal(size=(SAMPLES, latent)).astype("f4")
            )
            return (average or generator.eval())(z).numpy().transpose(0, 2, 3, 1)

    def draw():
        out = snapshot()
        generator.train()
        return out

    stream = batches()
    clock = Clock(*clock_args, snapshot=draw)
    while True:
        for _ in range(recipe.critic_steps):
            critic_step(next(stream))
        generator_step()
        if clock.tick():
            return clock.records


def child(args) -> int:
    """One contestant: train, and write its snapshots to --child-output."""
    recipe = recipe_of(args.objective)
    clock_args = (args.budget, sorted(float(f) for f in args.fractions.split(",")))
    name = args.child
    if name == "torch":
        records = run_torch(recipe, clock_args, args.seed)
    elif name == "kerasio":
        records = run_kerasio(recipe, clock_args, args.seed)
    else:
        records = run_ours(recipe, clock_args, args.seed, "auto" if name == "ours_auto" else "float32")
    arrays = {f"samples_{i}": np.asarray(r.pop("samples"), "float32") for i, r in enumerate(records)}
    np.savez(args.child_output, records=json.dumps(records), **arrays)
    return 0


def score(path: str) -> list[dict]:
    """Each snapshot's seconds, steps and quality."""
    with np.load(path) as stored:
        records = json.loads(str(stored["records"]))
        for i, record in enumerate(records):
            report = kw.evaluation.evaluate_samples(np.clip(stored[f"samples_{i}"], -1, 1), "mnist")
            counts = np.asarray(report["class_counts"], "float64")
            record |= {"fid": report["fid"], "floor": report["fid_real_train_vs_test"],
                       "classes": report["classes_covered"],
                       "rarest": float(counts.min() / max(counts.sum(), 1))}  # fmt: skip
    return records


def reached(curve: list[dict], fid: float, budget: float) -> float | None:
    """The share of the budget at which `curve` first scores an FID at or below `fid`."""
    return next((r["seconds"] / budget for r in curve if r["fid"] <= fid), None)


def report(result: dict) -> str:
    budget, curves = result["budget"], result["curves"]
    head = f"{result['objective']} on mnist, budget {budget:.0f} s, seed {result['seed']}; {result['cpu']}"
    lines = [f"{head}; auto: {result['auto']}", "",
             "| contestant | steps | steps/s | final FID | floor | classes | rarest class | "
             "reaches torch's final FID at | reaches kerasio's final FID at |", "|" + "---|" * 9]  # fmt: skip
    finals = {name: curve[-1]["fid"] for name, curve in curves.items()}
    for name, curve in curves.items():
        last = curve[-1]
        cells = []
        for other in ("torch", "kerasio"):
            share = reached(curve, finals[other], budget) if other in finals else None
            cells.append("–" if other not in finals else "not reached" if share is None else f"{share:.2f}×")
        rate = last["steps"] / last["seconds"]
        cells = [str(last["steps"]), f"{rate:.2f}", f"{last['fid']:.1f}", f"{last['floor']:.1f}",
                 str(last["classes"]), f"{100 * last['rarest']:.1f} %", *cells]  # fmt: skip
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "FID at each snapshot (seconds of training):"]
    for name, curve in curves.items():
        lines.append(f"- {name}: " + ", ".join(f"{r['seconds']:.0f} s {r['fid']:.1f}" for r in curve))
    return "\n".join(lines)


def plot(result: dict, path: str) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.2))
    axes = figure.add_subplot(1, 1, 1)
    for i, (name, curve) in enumerate(result["curves"].items()):
        axes.plot(
            [r["seconds"] for r in curve], [r["fid"] for r in curve], marker="o", color=f"C{i}", label=name
        )
    floor = np.mean([r["floor"] for curve in result["curves"].values() for r in curve])
    axes.axhline(floor, color="grey", linestyle=":", label=f"real-data floor {floor:.1f}")
    axes.set_yscale("log")
    axes.set_xlabel("seconds of training (scoring not counted)")
    axes.set_ylabel("FID (1,000 samples, test split)")
    axes.set_title(f"{result['objective']} on mnist, {result['cpu']}", fontsize=9)
    axes.grid(alpha=0.3, which="both")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="mnist", choices=["mnist"])
    parser.add_argument("--objective", default="recipe", choices=["recipe", "wgan-gp"])
    parser.add_argument(
        "--budget", type=float, default=600.0, help="seconds of training per contestant [600]"
    )
    parser.add_argument("--fractions", default="0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0")
    parser.add_argument("--contestants", help="[ours,ours_auto,torch; wgan-gp: and kerasio]")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", help="write OUTPUT.json and OUTPUT.png")
    parser.add_argument("--from-json", help="redraw the table and the curves of a stored run")
    parser.add_argument("--child", choices=CONTESTANTS, help=argparse.SUPPRESS)
    parser.add_argument("--child-output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    if args.from_json:
        with open(args.from_json) as handle:
            result = json.load(handle)
        print(report(result))
        plot(result, os.path.splitext(args.from_json)[0] + ".png")
        return 0
    from speed import cpu_description

    auto = kw.precision.resolve("auto")
    default = "ours,ours_auto,torch" + (",kerasio" if args.objective == "wgan-gp" else "")
    names = (args.contestants or default).split(",")
    if "ours_auto" in names and auto.name == "float32" and "ours" in names:
        print(f"ours_auto left out: auto picks {auto} here, which is ours", file=sys.stderr)
        names.remove("ours_auto")
    result = {"objective": args.objective, "budget": args.budget, "seed": args.seed, "cpu": cpu_description(),
              "auto": str(auto), "argv": sys.argv[1:], "curves": {}}  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        for name in names:  # one at a time: each trains alone on the machine
            out = os.path.join(folder, f"{name}.npz")
            cmd = [sys.executable, os.path.abspath(__file__), "--child", name, "--child-output", out,
                   "--objective", args.objective, "--budget", str(args.budget), "--fractions", args.fractions,
                   "--seed", str(args.seed)]  # fmt: skip
            start = time.perf_counter()
            subprocess.run(cmd, check=True)
            print(f"  {name}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        for name in names:
            result["curves"][name] = score(os.path.join(folder, f"{name}.npz"))
    print(report(result))
    if args.output:
        with open(args.output + ".json", "w") as handle:
            json.dump(result, handle, indent=1)
        plot(result, args.output + ".png")
        print(f"Wrote {args.output}.json and {args.output}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
