"""How long an evaluation takes the first time and the second: the real side's cache.

For each dataset, four calls of `kw.evaluation.evaluate_samples`, each in a fresh process and
timed inside it, on the same samples (real training images with noise: 26,000 for the stacked
sets, 1,000 otherwise), in a temporary cache folder:

1. first, nothing cached: the classifier is trained and the real side computed;
2. second: both read from the cache;
3. first, classifier cached: the reference files deleted, so only the real side is computed;
4. second again.

    python benchmarks/evaluation_cache.py                      # stacked_mnist, mnist, stacked_digits, digits
    python benchmarks/evaluation_cache.py --datasets digits    # about 30 s
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

CHILD = """
import json, sys, time
import numpy as np
import keras_wgangp as kw
dataset = sys.argv[1]
rng = np.random.default_rng(1)
if dataset == "stacked_mnist":
    x, _ = kw.data.stacked_mnist(26_000, seed=11)
elif dataset == "stacked_digits":
    x, _ = kw.data.stacked_digits(26_000, 16, seed=11)
elif dataset == "mnist":
    x = kw.data.mnist("train")[0][:1000]
else:
    x = kw.data.digits_split(16)[0][:1000]
x = np.clip(x + rng.normal(0, 0.2, x.shape), -1, 1).astype("float32")
start = time.perf_counter()
result = kw.evaluation.evaluate_samples(x, dataset)
print(json.dumps({"seconds": time.perf_counter() - start, "fid": result["fid"]}))
"""
DATASETS = ("stacked_mnist", "mnist", "stacked_digits", "digits")


def timed(dataset: str, cache: str) -> dict:
    env = {**os.environ, "KERAS_WGANGP_CACHE": cache, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, dataset], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode:
        raise RuntimeError(f"{dataset}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(dataset: str) -> dict:
    cache = tempfile.mkdtemp(prefix="evaluation_cache_")
    try:
        runs = [timed(dataset, cache), timed(dataset, cache)]
        shutil.rmtree(os.path.join(cache, "reference"))
        runs += [timed(dataset, cache), timed(dataset, cache)]
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    if len({run["fid"] for run in runs}) != 1:
        raise RuntimeError(f"{dataset}: the cached and computed results differ: {runs}")
    return {"dataset": dataset, "seconds": [run["seconds"] for run in runs]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS), help=f"comma-separated; of {DATASETS}")
    args = parser.parse_args(argv)
    datasets = args.datasets.split(",")
    unknown = [name for name in datasets if name not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset {unknown[0]!r}; choose from {', '.join(DATASETS)}")
    print("| dataset | first, nothing cached | second | first, classifier cached | second | ratios |")
    print("|---|---|---|---|---|---|")
    for dataset in datasets:
        cold, warm, reference, again = measure(dataset)["seconds"]
        print(
            f"| {dataset} | {cold:.1f} s | {warm:.1f} s | {reference:.1f} s | {again:.1f} s | "
            f"{warm / cold:.2f}, {again / reference:.2f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
