"""Where a WGAN-GP step spends its time: a TensorFlow profiler trace, summarised.

Runs one `speed.py` contestant (TF ones only) for a few generator steps under
`tf.profiler`, then reads the trace (`*.xplane.pb`) and prints the op time per
generator step, summed over all threads (so on 2 cores it is about twice the
wall time), two ways:

* by op type (Conv2DBackpropFilter, FusedConv2D, ...), self time;
* for convolutions and matmuls, by network and by pass: 0 = forward, 1 = a backward pass
  (recorded under one `gradient_tape/` scope), 2 = the double backward of the
  gradient penalty (two scopes).

    python benchmarks/profile_step.py                  # ours, image network, 3 steps
    python benchmarks/profile_step.py kerasio --steps 2
    python benchmarks/profile_step.py bare_zeros --logdir /tmp/trace   # keep the trace

The trace can also be opened in TensorBoard's profile plugin, where installed.
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import re
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import speed  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402


def self_times(path: str, counts: collections.Counter | None = None) -> collections.Counter:
    """Self time in ps per event name: nested events are subtracted from their parent
    (`counts`, if given, gets the number of events per name)."""
    space = xplane_pb2.XSpace()
    with open(path, "rb") as handle:
        space.ParseFromString(handle.read())
    totals = collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            _add_line_self_times(line.events, plane.event_metadata, totals)
            if counts is not None:
                counts.update(plane.event_metadata[event.metadata_id].name for event in line.events)
    return totals


def _add_line_self_times(events, names, totals: collections.Counter) -> None:
    stack = []  # open events: [name, end, duration, time in children]

    def close(until):
        while stack and stack[-1][1] <= until:
            name, _, duration, children = stack.pop()
            totals[name] += duration - children
            if stack:
                stack[-1][3] += duration

    for event in sorted(events, key=lambda e: (e.offset_ps, -e.duration_ps)):
        close(event.offset_ps)
        end = event.offset_ps + event.duration_ps
        stack.append([names[event.metadata_id].name, end, event.duration_ps, 0])
    close(float("inf"))


def heavy_op_pass(name: str) -> tuple[str, int, str] | None:
    """(network, pass depth, op type) for a convolution or matmul op event, else None."""
    op_type = name.rsplit(":", 1)[-1]
    if "Conv" not in op_type and "MatMul" not in op_type:
        return None
    network = "critic" if "critic" in name else "generator" if "generator" in name else "other"
    return network, name.count("gradient_tape/"), re.sub(r"^_MklNative", "", op_type)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("contestant", nargs="?", default="ours", help="ours, kerasio, bare, bare_zeros, ...")
    parser.add_argument("--workload", default="image", help="image, toy, digits or dcgan-SIDE-BATCH")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--logdir", help="where to keep the trace (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.contestant == "torch":
        parser.error("torch is not traced by the TF profiler; use torch.profiler")

    run = speed.CONTESTANTS[args.contestant](args.workload, False)
    run(2)  # tracing and first-call costs stay out of the profile
    logdir = args.logdir or tempfile.mkdtemp(prefix="wgangp_profile_")
    tf.profiler.experimental.start(logdir)
    seconds = run(args.steps)
    tf.profiler.experimental.stop()
    path = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True))[-1]
    counts = collections.Counter()
    totals = self_times(path, counts)

    def ms(ps: float) -> float:
        return ps / 1e9 / args.steps

    print(f"{args.contestant} on {args.workload}: {seconds / args.steps * 1000:.0f} ms per generator step "
          f"(wall, under the profiler); trace: {path}")  # fmt: skip
    by_type = collections.Counter()
    for name, ps in totals.items():
        # Op events are "<op name>:<op type>"; runtime scopes ("KernelAndDeviceFunc::Run",
        # which spans the whole step) are not ops.
        if ":" in name and "::" not in name:
            by_type[name.rsplit(":", 1)[-1]] += ps
    ops_total = sum(by_type.values())
    executions = sum(n for name, n in counts.items() if ":" in name and "::" not in name) / args.steps
    print(f"\nop self time: {ms(ops_total):.0f} ms per step over all threads, in {executions:.0f} op "
          "executions per step\n")  # fmt: skip
    print("| op type | ms/step | share |\n|---|---|---|")
    for op_type, ps in by_type.most_common(12):
        print(f"| {op_type} | {ms(ps):.0f} | {ps / ops_total:.0%} |")
    passes = collections.Counter()
    for name, ps in totals.items():
        key = heavy_op_pass(name)
        if key:
            passes[key] += ps
    print("\nconvolutions and matmuls by pass (0 forward, 1 backward, 2 double backward of the penalty)\n")
    print("| network | pass | op type | ms/step |\n|---|---|---|---|")
    for (network, depth, op_type), ps in sorted(passes.items()):
        print(f"| {network} | {depth} | {op_type} | {ms(ps):.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
