"""Images per second from a folder to `fit`: our stream against Keras's and PyTorch's loaders.

Writes a folder of `--images` synthetic photos-like images (smooth colour fields with noise,
`--source-size` pixels a side) once per format (PNG and JPEG), then times, interleaved per
repeat so that slow spells of the machine fall on every contestant alike:

* ours: `kw.data.image_folder_dataset` (parallel decode and resize, batches of 64);
* ours_cache: the same with `cache=` a file, timed on its second pass (read from the cache);
* keras: `keras.utils.image_dataset_from_directory(..., labels=None)`;
* torch: a PyTorch `DataLoader` over PIL (open, RGB, resize, to a tensor) with 2 workers;

each for one pass over the folder, resized to `--size`, in images per second. The page cache is
warm (the files were just read) unless `--cold`, which evicts each file from it
(`posix_fadvise(DONTNEED)`) before every timed pass. It also times the DCGAN training step of
`keras-wgangp train` on a folder at `--size` (the `images` recipe, batch 64, 5 critic updates of
64 images per generator step) on random batches, and prints the images per second it consumes;
the ratio column is each loader's rate over that.

    python benchmarks/pipeline.py                       # 20,000 images, PNG and JPEG, warm
    python benchmarks/pipeline.py --cold                # evicted from the page cache first
    python benchmarks/pipeline.py --images 500 --repeats 1   # a smoke run
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

BATCH = 64


def write_folder(folder: str, count: int, side: int, fmt: str, seed: int = 0) -> str:
    """`count` images of `side` pixels in `folder/<fmt>/`, written once (kept for later runs)."""
    from PIL import Image

    target = os.path.join(folder, fmt)
    os.makedirs(target, exist_ok=True)
    have = len([name for name in os.listdir(target) if not name.startswith(".")])
    rng = np.random.default_rng(seed)
    grid = np.linspace(0.0, 1.0, side)
    for i in range(have, count):
        a, b, c = rng.uniform(0, 1, (3, 3))
        field = (
            a[:, None, None] * grid[None, :, None] + b[:, None, None] * grid[None, None, :] + c[:, None, None]
        )
        pixels = np.clip(127 * field.transpose(1, 2, 0) + rng.normal(0, 12, (side, side, 3)), 0, 255)
        Image.fromarray(pixels.astype("uint8")).save(os.path.join(target, f"{i:06d}.{fmt}"))
    return target


def evict(folder: str) -> None:
    """Drops the folder's files from the page cache (no root needed for one's own files)."""
    for name in os.listdir(folder):
        descriptor = os.open(os.path.join(folder, name), os.O_RDONLY)
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)


def ours(folder: str, size: int, cache: str | None = None):
    import keras_wgangp as kw

    dataset = kw.data.image_folder_dataset(folder, size, BATCH, channels=3, cache=cache)

    def one_pass() -> int:
        return sum(int(batch.shape[0]) for batch in dataset)

    if cache:
        one_pass()  # the first pass decodes and fills the cache; the timed ones read it
    return one_pass


def keras_loader(folder: str, size: int):
    import keras

    dataset = keras.utils.image_dataset_from_directory(
        folder, labels=None, image_size=(size, size), batch_size=BATCH, shuffle=True, seed=0, verbose=False
    )

    def one_pass() -> int:
        return sum(int(batch.shape[0]) for batch in dataset)

    return one_pass


def torch_loader(folder: str, size: int):
    import torch
    from PIL import Image

    paths = sorted(os.path.join(folder, name) for name in os.listdir(folder))

    class Folder(torch.utils.data.Dataset):
        def __len__(self):
            return len(paths)

        def __getitem__(self, index):
            with Image.open(paths[index]) as image:
                image = image.convert("RGB").resize((size, size), Image.BILINEAR)
            return torch.from_numpy(np.asarray(image, "float32") / 127.5 - 1.0).permute(2, 0, 1)

    loader = torch.utils.data.DataLoader(
        Folder(), batch_size=BATCH, shuffle=True, num_workers=2, persistent_workers=True
    )

    def one_pass() -> int:
        return sum(int(batch.shape[0]) for batch in loader)

    return one_pass


def step_rate(size: int, steps: int = 5) -> float:
    """Real images per second that the `images` recipe's DCGAN step consumes at this size."""
    import dataclasses

    import tensorflow as tf

    import keras_wgangp as kw

    recipe = dataclasses.replace(kw.recipes.get("images"), steps=None, lr_schedule="constant")
    gan = kw.recipes.build_gan(recipe, (size, size, 3), seed=0)
    per_step = recipe.batch_size * recipe.critic_steps
    real = tf.random.uniform((per_step * (steps + 2), size, size, 3), -1.0, 1.0)
    gan.fit(real[: 2 * per_step], batch_size=recipe.batch_size, verbose=0)  # tracing
    start = time.perf_counter()
    gan.fit(real[2 * per_step :], batch_size=recipe.batch_size, verbose=0)
    return steps * per_step / (time.perf_counter() - start)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=64, help="the side the loaders resize to [64]")
    parser.add_argument("--source-size", type=int, default=96, help="the side of the written images [96]")
    parser.add_argument("--formats", default="png,jpeg")
    parser.add_argument("--contestants", default="ours,ours_cache,keras,torch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--cold", action="store_true", help="evict the files from the page cache before each pass"
    )
    parser.add_argument("--folder", default=os.path.join(tempfile.gettempdir(), "keras_wgangp_pipeline"))
    args = parser.parse_args(argv)
    rows = []
    for fmt in args.formats.split(","):
        folder = write_folder(os.path.join(args.folder, str(args.images)), args.images, args.source_size, fmt)
        makers = {
            "ours": lambda folder: ours(folder, args.size),
            "ours_cache": lambda folder: ours(folder, args.size, os.path.join(tempfile.mkdtemp(), "cache")),
            "keras": lambda folder: keras_loader(folder, args.size),
            "torch": lambda folder: torch_loader(folder, args.size),
        }
        loaders = {name: makers[name](folder) for name in args.contestants.split(",")}
        rates = {name: [] for name in loaders}
        for _ in range(args.repeats):
            for name, one_pass in loaders.items():
                if args.cold:
                    evict(folder)
                start = time.perf_counter()
                count = one_pass()
                rates[name].append(count / (time.perf_counter() - start))
                print(f"  {fmt} {name}: {rates[name][-1]:.0f} images/s", file=sys.stderr, flush=True)
        rows.append((fmt, {name: statistics.median(values) for name, values in rates.items()}, rates))
    consumed = step_rate(args.size)
    cache = "cold (evicted before each pass)" if args.cold else "warm"
    source, side = f"{args.source_size}x{args.source_size}", f"{args.size}x{args.size}"
    print(f"\n{args.images:,} images of {source} resized to {side}, batch {BATCH}, {args.repeats} repeats, "
          f"page cache {cache}; {os.cpu_count()} CPU cores")  # fmt: skip
    print("| format | loader | images/s (median) | min–max | / the fastest of keras, torch | / the step |")
    print("|---|---|---|---|---|---|")
    for fmt, medians, rates in rows:
        for name, median in medians.items():
            others = [value for other, value in medians.items() if not other.startswith("ours")]
            fastest = f"{median / max(others):.2f}" if others else "–"
            print(f"| {fmt} | {name} | {median:.0f} | {min(rates[name]):.0f}–{max(rates[name]):.0f} | "
                  f"{fastest} | {median / consumed:.1f} |")  # fmt: skip
    print(f"\nThe DCGAN {side} step of the `images` recipe consumes {consumed:.0f} real images/s here.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
