"""WGAN-GP step time, side by side: ours vs keras.io style vs a bare loop vs PyTorch eager.

Two workloads, each timed as ms per generator step (critic_steps critic
updates + 1 generator update):

* image: the keras.io WGAN-GP example's network (see kerasio_reference.py),
  batch 64, 3 critic steps, z = 128;
* toy: the paper's toy MLPs (3x512 ReLU), batch 256, 5 critic steps, z = 2,
  where per-step overhead dominates.

Contestants (all on the same network, in one process, interleaved repeat by
repeat so machine noise hits them alike):

* ours: `keras_wgangp.WGANGP.fit` on a NumPy array;
* kerasio: a keras.io-style `train_step` under `fit` (kerasio_reference.py);
* bare: a `tf.function` loop with exactly our math and no Keras `fit`: the
  framework limit;
* torch: PyTorch eager, the usual `autograd.grad(create_graph=True)` penalty,
  when torch is importable (`pip install torch==2.13.0` gives the CPU build);
* ours_lazy4: `keras_wgangp.GAN` with the same loss and a lazy gradient
  penalty (`GradientPenalty(every=4)`: computed on one critic update in 4,
  weighted x4; Karras et al. 2020). Less math than the others, so it is the
  one contestant that can go below `bare`;
* ours_diffaugment (opt-in): `ours` with `augment="diffaugment"`, for the
  cost of augmenting every critic input; with `--workloads digits`, the
  16x16 DCGAN pair of `keras-wgangp train --dataset digits`;
* ours_bf16: `ours` under the `mixed_bfloat16` policy (`--precision bfloat16`, or by default where
  `keras_wgangp.precision.resolve("auto")` picks bfloat16), in a child process of its own;
* ours_jax, ours_torch: `ours` under KERAS_BACKEND=jax (jit-compiled with
  XLA, as JAX runs) and KERAS_BACKEND=torch (eager), each in its own child
  process that stays alive and is timed in the same interleaved repeats;
  included when jax or torch is importable.
* ours_proc, ours_ref: `ours` on TensorFlow in a child process each, from
  this tree and from `--reference DIR`, a checkout of an earlier release
  (opt-in via --contestants). The script prints the median of their paired
  per-repeat ratios: the regression check of a release.

Each repeat times `--steps` generator steps after a warm-up; the table shows
medians over `--repeats`, ratios ours/other (below 1 means ours is faster),
and the peak resident memory of each contestant measured alone in a child
process.

    python benchmarks/speed.py            # 5 repeats x 8 steps, about 22 minutes on 2 cores
    python benchmarks/speed.py --quick    # 3 repeats x 3 steps, a few minutes
    python benchmarks/speed.py --jit      # jit_compile=True for ours and kerasio (XLA)
    python benchmarks/speed.py --mixed    # mixed_float16 policy (for GPUs)
    python benchmarks/speed.py --precision bfloat16   # adds ours_bf16 beside ours (float32)
    python benchmarks/speed.py --scaling --output docs/results/runs/speed_scaling   # side and batch

`--scaling` times the DCGAN pair of the `images` recipe (the folder default of `keras-wgangp
train`: width 32, z = 64, 5 critic steps) at sides 16, 32, 64 and 128 (batch 64) and batches
32, 64, 128 and 256 (side 64), for ours, bare and torch, each contestant in a process of its own
per point (so each one's peak RSS is its own), interleaved repeat by repeat; it prints the table,
the log-log slopes, and with --output writes a JSON and a log-log PNG.
    python benchmarks/speed.py --workloads digits --contestants ours,ours_diffaugment --no-memory
    git worktree add /tmp/kw-0.4.0 <commit of 0.4.0>
    python benchmarks/speed.py --reference /tmp/kw-0.4.0 --contestants ours_proc,ours_ref --no-memory
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The same TensorFlow kernels for every contestant: keras_wgangp turns oneDNN
# on by default, so the keras.io-style and bare-loop contestants get it too.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_wgangp as kw  # noqa: E402
from keras_wgangp import losses, penalties  # noqa: E402

WORKLOADS = {
    "image": {"batch": 64, "critic_steps": 3, "latent": 128, "shape": (28, 28, 1)},
    "toy": {"batch": 256, "critic_steps": 5, "latent": 2, "shape": (2,)},
    # The DCGAN pair of `keras-wgangp train --dataset digits` (opt-in: --workloads digits).
    "digits": {"batch": 64, "critic_steps": 5, "latent": 64, "shape": (16, 16, 1)},
}


def spec(workload: str) -> dict:
    """A workload's settings; `dcgan-SIDE-BATCH` is the `images` recipe's DCGAN pair (width 32,
    z = 64, 5 critic steps) on RGB images of that side, at that batch (`--scaling`)."""
    if workload.startswith("dcgan-"):
        side, batch = (int(v) for v in workload.split("-")[1:])
        return {"batch": batch, "critic_steps": 5, "latent": 64, "shape": (side, side, 3), "filters": 32}
    return WORKLOADS[workload]


def networks(workload: str):
    from kerasio_reference import image_critic, image_generator

    if workload.startswith("dcgan-"):
        w = spec(workload)
        A = kw.architectures
        return (A.dcgan_generator(w["latent"], w["shape"], filters=w["filters"]),
                A.dcgan_critic(w["shape"], filters=w["filters"]))  # fmt: skip
    if workload == "image":
        return image_generator(), image_critic()
    if workload == "digits":
        A = kw.architectures
        return A.dcgan_generator(64, (16, 16, 1), filters=32), A.dcgan_critic((16, 16, 1), filters=32)
    return kw.architectures.mlp_generator(2, 2, units=512), kw.architectures.mlp_critic(2, units=512)


def adam():
    return keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9)


def real_data(workload: str, steps: int, per_step: int) -> np.ndarray:
    w = spec(workload)
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (steps * per_step * w["batch"],) + w["shape"]).astype("float32")


# ------------------------------------------------------------------ contestants
def make_ours(workload: str, jit: bool, joint_critic_call: bool = True, every: int = 1, augment=None):
    w = spec(workload)
    generator, critic = networks(workload)
    if every == 1:
        gan = kw.WGANGP(
            generator, critic, latent_dim=w["latent"], critic_steps=w["critic_steps"], gp_weight=10.0,
            **({"augment": augment} if augment else {}),
        )  # fmt: skip
    else:  # the same objective with a lazy penalty
        penalty = penalties.GradientPenalty(weight=10.0, every=every)
        gan = kw.GAN(
            generator, critic, penalty=penalty, latent_dim=w["latent"], critic_steps=w["critic_steps"]
        )
    # Ablation switch: score real and fake in two critic calls instead of one.
    gan._joint_critic_call = joint_critic_call
    gan._critic_uses_batch_stats = not joint_critic_call  # the name before 0.5.0 (--reference runs)
    gan.compile(adam(), adam(), jit_compile=jit)

    def run(steps: int) -> float:
        data = real_data(workload, steps, w["critic_steps"])
        start = time.perf_counter()
        gan.fit(data, batch_size=w["batch"], epochs=1, verbose=0, shuffle=False)
        return time.perf_counter() - start

    return run


def make_kerasio(workload: str, jit: bool):
    from kerasio_reference import KerasIOStyleWGAN

    w = spec(workload)
    generator, critic = networks(workload)
    model = KerasIOStyleWGAN(critic, generator, w["latent"], w["critic_steps"])
    model.compile(adam(), adam(), jit_compile=jit)

    def run(steps: int) -> float:
        data = real_data(workload, steps, 1)
        dataset = tf.data.Dataset.from_tensor_slices(data).batch(w["batch"], drop_remainder=True)
        start = time.perf_counter()
        model.fit(dataset, epochs=1, verbose=0)
        return time.perf_counter() - start

    return run


def make_bare(workload: str, jit: bool, skip_zeros: bool = True):
    """Our exact math in a plain tf.function: one call per generator step."""
    w = spec(workload)
    generator, critic = networks(workload)
    c_opt, g_opt = adam(), adam()
    c_opt.build(critic.trainable_variables)
    g_opt.build(generator.trainable_variables)
    k, batch, latent = w["critic_steps"], w["batch"], w["latent"]
    rank = len(w["shape"]) + 1

    @tf.function(jit_compile=jit, reduce_retracing=True)
    def step(group):
        for i in range(k):
            real = group[i * batch : (i + 1) * batch]
            fake = generator(tf.random.normal((batch, latent)), training=True)
            x_hat = penalties.interpolate(real, fake, penalties.sample_epsilon(batch, rank))
            with tf.GradientTape() as tape:
                scores = tf.reshape(critic(tf.concat([real, fake], 0), training=True), [-1])
                real_scores, fake_scores = tf.split(scores, 2)
                norms = penalties.gradient_norms(critic, x_hat)
                loss = losses.critic_loss(real_scores, fake_scores) + 10.0 * penalties.penalty_from_norms(
                    norms
                )
            with penalties.skip_zero_second_derivatives() if skip_zeros else contextlib.nullcontext():
                grads = tape.gradient(loss, critic.trainable_variables)
            # As in WGANGP: the update waits for the forward passes that read the weights.
            with tf.control_dependencies([loss, norms]):
                c_opt.apply_gradients(zip(grads, critic.trainable_variables, strict=True))
        with tf.GradientTape() as tape:
            g_loss = losses.generator_loss(
                critic(generator(tf.random.normal((batch, latent)), training=True))
            )
        grads = tape.gradient(g_loss, generator.trainable_variables)
        with tf.control_dependencies([g_loss]):
            g_opt.apply_gradients(zip(grads, generator.trainable_variables, strict=True))
        return loss, g_loss

    def run(steps: int) -> float:
        groups = real_data(workload, steps, k).reshape((steps, k * batch) + w["shape"])
        groups = [tf.constant(g) for g in groups]
        start = time.perf_counter()
        for group in groups:
            out = step(group)
        [t.numpy() for t in out]
        return time.perf_counter() - start

    return run


def make_torch(workload: str, jit: bool):
    import torch
    from torch import nn

    w = spec(workload)
    torch.manual_seed(0)
    k, batch, latent = w["critic_steps"], w["batch"], w["latent"]
    if workload.startswith("dcgan-"):
        critic, generator = torch_dcgan(w)
        side, _, channels = w["shape"]
        shape = (channels, side, side)
    elif workload == "image":
        layers, channels = [nn.ZeroPad2d(2)], 1
        for filters, drop in [(64, 0.0), (128, 0.3), (256, 0.3), (512, 0.0)]:
            layers += [nn.Conv2d(channels, filters, 5, 2, 2), nn.LeakyReLU(0.2)] + (
                [nn.Dropout(drop)] if drop else []
            )
            channels = filters
        critic = nn.Sequential(*layers, nn.Flatten(), nn.Dropout(0.2), nn.Linear(512 * 2 * 2, 1))

        class Generator(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Sequential(
                    nn.Linear(latent, 4096, bias=False), nn.BatchNorm1d(4096), nn.LeakyReLU(0.2)
                )
                body, c = [], 256
                for f in (128, 64):
                    conv = nn.Conv2d(c, f, 3, 1, 1, bias=False)
                    body += [nn.Upsample(scale_factor=2), conv, nn.BatchNorm2d(f), nn.LeakyReLU(0.2)]
                    c = f
                body += [
                    nn.Upsample(scale_factor=2),
                    nn.Conv2d(c, 1, 3, 1, 1, bias=False),
                    nn.BatchNorm2d(1),
                    nn.Tanh(),
                ]
                self.body = nn.Sequential(*body)

            def forward(self, z):
                return self.body(self.fc(z).view(-1, 256, 4, 4))[:, :, 2:-2, 2:-2]

        generator = Generator()
        shape = (1, 28, 28)
    else:

        def mlp(n_in, n_out):
            return nn.Sequential(nn.Linear(n_in, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                                 nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, n_out))  # fmt: skip

        critic, generator, shape = mlp(2, 1), mlp(latent, 2), (2,)
    c_opt = torch.optim.Adam(critic.parameters(), 2e-4, betas=(0.5, 0.9))
    g_opt = torch.optim.Adam(generator.parameters(), 2e-4, betas=(0.5, 0.9))

    def penalty(real, fake):
        alpha = torch.rand((real.size(0),) + (1,) * (real.dim() - 1))
        x = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        (grads,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
        return ((grads.flatten(1).norm(2, dim=1) - 1) ** 2).mean()

    def step(group):
        for i in range(k):
            real = group[i * batch : (i + 1) * batch]
            with torch.no_grad():
                fake = generator(torch.randn(batch, latent))
            loss = critic(fake).mean() - critic(real).mean() + 10 * penalty(real, fake)
            c_opt.zero_grad()
            loss.backward()
            c_opt.step()
        g_loss = -critic(generator(torch.randn(batch, latent))).mean()
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()

    def run(steps: int) -> float:
        data = torch.from_numpy(real_data(workload, steps, k).reshape((steps, k * batch) + shape))
        start = time.perf_counter()
        for group in data:
            step(group)
        return time.perf_counter() - start

    return run


def torch_dcgan(w: dict):
    """`kw.architectures.dcgan_critic` and `dcgan_generator` written in PyTorch, layer for layer
    (the same shapes and parameter count, Keras's "same" padding and BatchNorm momentum and ε;
    PyTorch's default initialisers)."""
    import math

    from torch import nn

    side, _, channels = w["shape"]
    filters, latent = w["filters"], w["latent"]
    layers, c, size = [], channels, side
    for i in range(max(2, math.ceil(math.log2(side / 4)))):
        # Keras's "same" at stride 2 gives ceil(size / 2): an odd side pads 1 before and 2 after.
        layers += (
            [nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(c, filters * 2**i, 4, 2, 0)]
            if size % 2
            else [nn.Conv2d(c, filters * 2**i, 4, 2, 1)]
        )
        layers += [nn.LeakyReLU(0.2)]
        c, size = filters * 2**i, -(-size // 2)
    critic = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * size * size, 1))
    start = 7 if side == 28 else 4
    ups = round(math.log2(side // start))
    width = filters * 2 ** max(ups - 1, 0)

    def norm(kind, n):  # Keras's BatchNormalization: momentum 0.99 (PyTorch's 0.01), ε 1e-3
        return kind(n, eps=1e-3, momentum=0.01)

    body = [nn.Linear(latent, start * start * width, bias=False), norm(nn.BatchNorm1d, start * start * width),
            nn.ReLU(), nn.Unflatten(1, (width, start, start))]  # fmt: skip
    for i in range(ups):
        out = max(filters, width // 2) if i else width
        body += [nn.ConvTranspose2d(width, out, 4, 2, 1, bias=False), norm(nn.BatchNorm2d, out), nn.ReLU()]
        width = out
    generator = nn.Sequential(*body, nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())
    return critic, generator


def make_ours_lazy4(workload: str, jit: bool):
    """WGAN-GP as a GAN whose penalty runs on every 4th critic update only (weighted x4)."""
    return make_ours(workload, jit, every=4)


def make_ours_diffaugment(workload: str, jit: bool):
    """`ours` with DiffAugment (color, translation, cutout) on every critic input (images only)."""
    return make_ours(workload, jit, augment="diffaugment")


def make_ours_separate(workload: str, jit: bool):
    return make_ours(workload, jit, joint_critic_call=False)


def make_bare_zeros(workload: str, jit: bool):
    return make_bare(workload, jit, skip_zeros=False)


CONTESTANTS = {
    "ours": make_ours,
    "kerasio": make_kerasio,
    "bare": make_bare,
    "torch": make_torch,
    "ours_lazy4": make_ours_lazy4,  # the gradient penalty on 1 critic update in 4 (x4)
    # Ablations, opt-in via --contestants:
    "ours_diffaugment": make_ours_diffaugment,  # DiffAugment on every critic input
    "ours_separate": make_ours_separate,  # two critic calls instead of one on concat(real, fake)
    "bare_zeros": make_bare_zeros,  # TF's usual backward pass of zeros through D(x̂) kept
}


# Contestants that run `ours` under another Keras backend, in a child process.
BACKEND_CONTESTANTS = {"ours_jax": "jax", "ours_torch": "torch"}
# `ours` from this tree and from --reference (an earlier release's checkout),
# each in a child process on TensorFlow, to compare releases side by side.
RELEASE_CONTESTANTS = {"ours_proc": "tensorflow", "ours_ref": "tensorflow"}
REFERENCE = {"path": None}  # set by --reference


def make_in_backend(backend: str, name: str = ""):
    def make(workload: str, jit: bool):
        env = dict(os.environ, KERAS_BACKEND=backend)
        if name == "ours_ref":
            if not REFERENCE["path"]:
                raise SystemExit("ours_ref needs --reference DIR (a checkout of the release to compare with)")
            env["PYTHONPATH"] = os.pathsep.join([REFERENCE["path"], env.get("PYTHONPATH", "")])
        cmd = [sys.executable, os.path.abspath(__file__), "--serve", workload, backend, *precision_args(name)]
        child = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

        def run(steps: int) -> float:
            child.stdin.write(f"{steps}\n")
            child.stdin.flush()
            line = child.stdout.readline()
            if not line:
                raise RuntimeError(f"the {backend} contestant's process exited (code {child.poll()})")
            return float(line)

        return run

    return make


# `ours` under another precision policy, which is process-wide: a child process each.
PRECISION_CONTESTANTS = {"ours_bf16": "bfloat16"}

for _name, _backend in {**BACKEND_CONTESTANTS, **RELEASE_CONTESTANTS}.items():
    CONTESTANTS[_name] = make_in_backend(_backend, _name)
for _name in PRECISION_CONTESTANTS:
    CONTESTANTS[_name] = make_in_backend("tensorflow", _name)


def precision_args(name: str) -> list[str]:
    """The flags that give a child process the precision of contestant `name`."""
    return ["--precision", PRECISION_CONTESTANTS[name]] if name in PRECISION_CONTESTANTS else []


def cpu_description() -> str:
    """The CPU's model name and its bfloat16 flags, as the speed page shows beside each figure."""
    import platform

    from keras_wgangp import precision

    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            model = next((line.partition(":")[2].strip() for line in handle if line.startswith("model name")),
                         model)  # fmt: skip
    except OSError:
        pass
    flags = [flag for flag in precision.BF16_FLAGS if flag in precision.cpu_flags()]
    return f"{model} (bf16 flags: {', '.join(flags) or 'none'})"


def _make_here(name: str, workload: str, jit: bool):
    """A contestant in this process (a child for the backend contestants)."""
    if name in BACKEND_CONTESTANTS:
        return make_ours(workload, jit=BACKEND_CONTESTANTS[name] == "jax")
    if name in RELEASE_CONTESTANTS or name in PRECISION_CONTESTANTS:  # the child's path or policy decides
        return make_ours(workload, jit)
    return CONTESTANTS[name](workload, jit)


def importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def torch_available() -> bool:
    return importable("torch")


def available(name: str) -> bool:
    if name == "torch":
        return torch_available()
    if name == "ours_ref":
        return REFERENCE["path"] is not None
    return name not in BACKEND_CONTESTANTS or importable(BACKEND_CONTESTANTS[name])


def _peak_rss_mb() -> float:
    # VmHWM is this process's own peak; ru_maxrss would include the parent's
    # peak, which a child inherits across fork and exec on Linux.
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_mb(workload: str, name: str, args) -> float:
    """Peak RSS of one contestant alone (a child process: 1 warm-up + 2 steps)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--child", workload, name, *precision_args(name)]
    cmd += ["--jit"] if args.jit else []
    cmd += ["--mixed"] if args.mixed else []
    env = dict(os.environ, KERAS_BACKEND=BACKEND_CONTESTANTS.get(name, "tensorflow"))
    if name == "ours_ref":
        env["PYTHONPATH"] = os.pathsep.join([REFERENCE["path"], env.get("PYTHONPATH", "")])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env)
    if out.returncode != 0:
        return float("nan")
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"]


class Served:
    """One contestant on one workload in a child process of its own: timed step counts on
    request, and at the end that process's own peak resident memory."""

    def __init__(self, name: str, workload: str, args):
        cmd = [sys.executable, os.path.abspath(__file__), "--serve-contestant", workload, name]
        cmd += ["--jit"] if args.jit else []
        cmd += precision_args(name)
        cmd += ["--mixed"] if args.mixed else []
        self.child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, line: str) -> float:
        self.child.stdin.write(line + "\n")
        self.child.stdin.flush()
        answer = self.child.stdout.readline()
        if not answer:
            raise RuntimeError(f"a contestant's process exited (code {self.child.poll()})")
        return float(answer)

    def close(self) -> float:
        peak = self.ask("peak")
        self.child.stdin.close()
        self.child.wait(timeout=60)
        return peak


SCALING_CONTESTANTS = "ours,bare,torch"


def default_contestants(names: str, args) -> str:
    """`names`, with ours_bf16 after ours when --precision bfloat16 asks, or when auto picks bfloat16."""
    wanted = args.precision or kw.precision.resolve("auto").name
    return names.replace("ours,", "ours,ours_bf16,", 1) if wanted == "bfloat16" else names


def scaling(args) -> int:
    """Step time and peak RSS of the `images` recipe's DCGAN pair against image side (at batch 64)
    and against batch (at side 64), for each contestant in its own process, interleaved per point."""
    sides = [int(v) for v in args.sides.split(",")]
    batches = [int(v) for v in args.batches.split(",")]
    points = [(side, 64) for side in sides] + [(64, batch) for batch in batches if batch != 64]
    names = [n for n in (args.contestants or default_contestants(SCALING_CONTESTANTS, args)).split(",")
             if available(n)]  # fmt: skip
    repeats, steps = args.repeats or 3, args.steps or 2
    results = []
    for side, batch in points:
        workload = f"dcgan-{side}-{batch}"
        served = {name: Served(name, workload, args) for name in names}
        for child in served.values():
            child.ask("1")  # warm-up: tracing, optimizer build, first-call costs
        timings = {name: [] for name in names}
        count = steps * max(1, 64**3 // (side * side * batch))  # about as much work per repeat at every point
        for _ in range(repeats):
            for name, child in served.items():
                timings[name].append(child.ask(str(count)) / count * 1000)
        peaks = {name: child.close() for name, child in served.items()}
        row = {"side": side, "batch": batch, "ms": {n: statistics.median(v) for n, v in timings.items()},
               "runs": timings, "peak_mb": peaks}  # fmt: skip
        results.append(row)
        print(f"  {side}x{side} batch {batch}: " + ", ".join(f"{n} {row['ms'][n]:.0f} ms" for n in names),
              file=sys.stderr, flush=True)  # fmt: skip
    w = spec("dcgan-64-64")
    print(f"\nDCGAN pair of the `images` recipe (width {w['filters']}, z = {w['latent']}, "
          f"{w['critic_steps']} critic steps of WGAN-GP per generator step), RGB; {repeats} repeats of "
          f"{steps} steps at side 64 and batch 64 (as much work at the other points), each contestant in "
          f"its own process; {cpu_description()}")  # fmt: skip
    ratios = [f"ours/{n}" for n in names if n != "ours"]
    print("| side | batch | " + " | ".join(f"{n} ms/step" for n in names) + " | " + " | ".join(ratios)
          + " | " + " | ".join(f"{n} peak MB" for n in names) + " |")  # fmt: skip
    print("|" + "---|" * (2 + 2 * len(names) + len(ratios)))
    for row in results:
        ms = row["ms"]
        cells = [f"{ms[n]:.0f}" for n in names] + [f"{ms['ours'] / ms[n]:.2f}" for n in names if n != "ours"]
        cells += [f"{row['peak_mb'][n]:.0f}" for n in names]
        print(f"| {row['side']} | {row['batch']} | " + " | ".join(cells) + " |")
    slopes = {}
    for n in names:  # log-log slopes: time ∝ pixels^a at batch 64, ∝ batch^b at side 64
        by_side = [(r["side"] ** 2, r["ms"][n]) for r in results if r["batch"] == 64]
        by_batch = [(r["batch"], r["ms"][n]) for r in results if r["side"] == 64]
        slopes[n] = [_slope(by_side), _slope(by_batch)]
    print("\nlog-log slopes (time ∝ pixels^a at batch 64; ∝ batch^b at side 64): "
          + "; ".join(f"{n} a = {a:.2f}, b = {b:.2f}" for n, (a, b) in slopes.items()))  # fmt: skip
    if args.output:
        stem = args.output
        with open(stem + ".json", "w") as f:
            json.dump({"results": results, "slopes": slopes, "argv": sys.argv[1:]}, f, indent=1)
        scaling_plot(results, names, slopes, stem + ".png")
        print(f"Wrote {stem}.json and {stem}.png")
    return 0


def _slope(pairs: list[tuple[float, float]]) -> float:
    """The least-squares slope of log(time) against log(x)."""
    if len(pairs) < 2:
        return float("nan")
    x, y = np.log(np.array(pairs, "float64")).T
    return float(np.polyfit(x, y, 1)[0])


def scaling_plot(results: list[dict], names: list[str], slopes: dict, path: str) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4.2))
    for i, (key, fixed, label) in enumerate([("side", "batch", "pixels per image (side²), batch 64"),
                                             ("batch", "side", "batch, side 64")]):  # fmt: skip
        axes = figure.add_subplot(1, 2, i + 1)
        rows = sorted((r for r in results if r[fixed] == 64), key=lambda r: r[key])
        for j, n in enumerate(names):
            x = [r[key] ** 2 if key == "side" else r[key] for r in rows]
            axes.loglog(x, [r["ms"][n] for r in rows], marker="o", color=f"C{j}",
                        label=f"{n} (slope {slopes[n][i]:.2f})")  # fmt: skip
        axes.set_xlabel(label)
        axes.set_ylabel("ms per generator step")
        axes.grid(alpha=0.3, which="both")
        axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 repeats x 3 steps")
    parser.add_argument("--repeats", type=int)
    parser.add_argument(
        "--steps",
        type=int,
        help="generator steps per timed repeat, image workload [8; quick 3]; toy: 8x that",
    )
    parser.add_argument("--workloads", default="image,toy")
    parser.add_argument(
        "--contestants",
        help="[ours,kerasio,bare,torch,ours_lazy4,ours_jax,ours_torch; --scaling: ours,bare,torch]",
    )
    parser.add_argument("--jit", action="store_true", help="jit_compile=True (XLA) for the TF contestants")
    parser.add_argument("--mixed", action="store_true", help="mixed_float16 policy for the TF contestants")
    parser.add_argument(
        "--precision",
        choices=["float32", "bfloat16"],
        help="bfloat16: add ours_bf16 (mixed_bfloat16) beside ours [on where auto picks bfloat16]",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the per-contestant memory runs")
    parser.add_argument(
        "--reference",
        help="a checkout of an earlier release, for the ours_ref contestant (its package is imported)",
    )
    parser.add_argument(
        "--scaling", action="store_true", help="step time and peak RSS against image side and batch (DCGAN)"
    )
    parser.add_argument("--sides", default="16,32,64,128", help="--scaling: image sides at batch 64")
    parser.add_argument("--batches", default="32,64,128,256", help="--scaling: batches at side 64")
    parser.add_argument("--output", help="--scaling: write OUTPUT.json and OUTPUT.png")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--serve-contestant", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    REFERENCE["path"] = os.path.abspath(args.reference) if args.reference else None
    if args.mixed:
        keras.mixed_precision.set_global_policy("mixed_float16")
    if args.precision and (args.child or args.serve or args.serve_contestant):  # a contestant's own policy
        keras.mixed_precision.set_global_policy(kw.precision.resolve(args.precision).policy)
    if args.serve:  # a backend contestant: time `ours` for each step count read from stdin
        workload, backend = args.serve
        keras.utils.set_random_seed(0)
        run = make_ours(workload, jit=backend == "jax")
        for line in sys.stdin:
            print(run(int(line)), flush=True)
        return 0
    if args.serve_contestant:  # --scaling: one contestant, timed for each step count read from stdin
        workload, name = args.serve_contestant
        keras.utils.set_random_seed(0)
        run = (
            _make_here(name, workload, args.jit)
            if name in PRECISION_CONTESTANTS
            else CONTESTANTS[name](workload, args.jit)
        )
        for line in sys.stdin:
            print(_peak_rss_mb() if line.strip() == "peak" else run(int(line)), flush=True)
        return 0
    if args.scaling:
        return scaling(args)
    if args.child:
        workload, name = args.child
        run = _make_here(name, workload, args.jit)
        run(1)
        run(2)
        print(json.dumps({"peak_mb": _peak_rss_mb()}))
        return 0

    repeats = args.repeats or (3 if args.quick else 5)
    steps = args.steps or (3 if args.quick else 8)
    args.contestants = args.contestants or default_contestants(
        "ours,kerasio,bare,torch,ours_lazy4,ours_jax,ours_torch", args
    )
    names = [n for n in args.contestants.split(",") if available(n)]
    keras.utils.set_random_seed(0)
    lines = []
    for workload in args.workloads.split(","):
        runners = {name: CONTESTANTS[name](workload, args.jit) for name in names}
        for run in runners.values():  # warm-up: tracing, optimizer build, first-call costs
            run(2)
        timings = {name: [] for name in names}
        # Toy steps are ~20x cheaper: time more of them per fit call so the
        # per-call cost of fit (setup, input checks) is amortised as in real use.
        n = steps * (8 if workload == "toy" else 1)
        for _ in range(repeats):
            for name, run in runners.items():
                timings[name].append(run(n) / n * 1000)
                print(f"  {workload} {name}: {timings[name][-1]:.1f} ms/step", file=sys.stderr, flush=True)
        medians = {name: statistics.median(values) for name, values in timings.items()}
        memory = {
            name: float("nan") if args.no_memory else peak_memory_mb(workload, name, args) for name in names
        }
        w = spec(workload)
        first = len(lines)  # this workload's table starts here
        lines.append(f"\n{workload}: batch {w['batch']}, {w['critic_steps']} critic steps, "
                     f"{repeats} repeats x {n} steps")  # fmt: skip
        base = "ours" if "ours" in names else names[0]  # the ratio column's reference
        lines.append(f"| contestant | ms/step (median) | min–max | {base} / this | peak RSS MB |")
        lines.append("|---|---|---|---|---|")
        for name in names:
            values = timings[name]
            lines.append(
                f"| {name} | {medians[name]:.1f} | {min(values):.0f}–{max(values):.0f} | "
                f"{medians[base] / medians[name]:.2f} | {memory[name]:.0f} |"
            )
        if "ours_proc" in timings and "ours_ref" in timings:
            # Paired per repeat (the two ran back to back), so slow spells of the machine cancel.
            paired = [a / b for a, b in zip(timings["ours_proc"], timings["ours_ref"], strict=True)]
            lines.append(f"ours_proc / ours_ref: median of paired ratios {statistics.median(paired):.3f} "
                         f"(each repeat: {', '.join(f'{r:.3f}' for r in paired)})")  # fmt: skip
        print("\n".join(lines[first:]), flush=True)  # this table only, once per contestant
    device = "GPU" if tf.config.list_physical_devices("GPU") else f"{os.cpu_count()} CPU cores"
    versions = f"TensorFlow {tf.__version__}, Keras {keras.__version__}"
    for module in ("jax", "torch"):
        if importable(module) and any(n.endswith(module) for n in names):
            versions += f", {module} {__import__(module).__version__}"
    print(f"\n{device}: {cpu_description()}; {versions}; jit={args.jit} mixed={args.mixed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
