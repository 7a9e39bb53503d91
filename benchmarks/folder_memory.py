"""Peak memory of `keras-wgangp train` on image folders of different sizes.

Writes folders of generated 64×64 RGB PNGs (random smooth colour blobs,
one class), trains on each from the command line for a few steps in a
child process, and reads the child's peak resident memory (`ru_maxrss` of
the finished child). The folder is streamed (`kw.data.image_folder_dataset`),
so the peak should not grow with the number of images.

    python benchmarks/folder_memory.py                      # 500 and 20,000 images
    python benchmarks/folder_memory.py --sizes 500,5000 --steps 20
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np


def write_folder(folder: str, count: int, side: int = 64, seed: int = 0) -> None:
    """`count` PNGs of smooth random colour fields, `side` × `side` RGB."""
    from PIL import Image

    os.makedirs(os.path.join(folder, "images"), exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        image = Image.fromarray(coarse).resize((side, side), Image.BILINEAR)
        image.save(os.path.join(folder, "images", f"{i:06d}.png"))


# Runs its arguments as a child and prints that child's peak RSS: one fresh
# measurer per run, since RUSAGE_CHILDREN keeps the maximum over all children.
MEASURER = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)"
)


def peak_rss_mb(argv: list[str]) -> tuple[float, float, int]:
    """Runs `keras-wgangp ARGV` in a child process: (its peak RSS in MB, seconds, exit code)."""
    start = time.perf_counter()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-c", MEASURER, sys.executable, "-m", "keras_wgangp", *argv]
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_kb, code = result.stdout.strip().splitlines()[-1].split()
    if int(code):
        print(result.stderr[-2000:], file=sys.stderr)
    return int(peak_kb) / 1024, seconds, int(code)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="500,20000", help="image counts, ascending [500,20000]")
    parser.add_argument("--steps", type=int, default=20, help="generator steps per run [20]")
    parser.add_argument("--keep", help="write the folders here and keep them (default: a temporary folder)")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    root = args.keep or tempfile.mkdtemp(prefix="kw_folder_memory_")
    rows = []
    try:
        for count in sizes:
            folder = os.path.join(root, f"folder_{count}")
            start = time.perf_counter()
            if not os.path.exists(folder):
                write_folder(folder, count)
            written = time.perf_counter() - start
            run = ["train", "--dataset", folder, "--image-size", "64", "--steps", str(args.steps), "--epochs"]
            run += ["1", "--output", os.path.join(root, f"run_{count}"), "--verbose", "0"]
            peak, seconds, code = peak_rss_mb(run)
            rows.append((count, peak, seconds, written, code))
            print(f"{count} images: peak RSS {peak:.0f} MB, run {seconds:.0f} s (exit {code})", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print("\n| images (64×64 RGB PNG) | peak RSS MB | run s | writing the folder s |")
    print("|---|---|---|---|")
    for count, peak, seconds, written, _ in rows:
        print(f"| {count:,} | {peak:.0f} | {seconds:.0f} | {written:.0f} |")
    print(f"\npeak difference, largest − smallest: {rows[-1][1] - rows[0][1]:.0f} MB; "
          f"{args.steps} generator steps per run; {os.cpu_count()} CPU cores")  # fmt: skip
    return 0 if all(row[-1] == 0 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
