"""Plots for watching a GAN learn: critic contours, sample grids and the training curves.

The callbacks (`keras_wgangp.callbacks`), the command line and the
benchmarks draw with these. Figures are made with Matplotlib's object API
on an Agg canvas (`save_figure`), so they work on headless machines and
never touch pyplot's global state.
"""

from __future__ import annotations

import os

import keras
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "image_grid",
    "nearest_neighbours",
    "plot_critic_contour",
    "plot_history",
    "save_figure",
    "save_image_grid",
    "save_samples_png",
]


def save_figure(figure: Figure, path: str, dpi: int = 100, tight: bool = True) -> str:
    """Writes a Matplotlib `Figure` to a file on an Agg canvas, creating its folder.

    Args:
        figure: A `matplotlib.figure.Figure` (not made by pyplot).
        path: Where to write; the format follows the extension.
        dpi: Resolution.
        tight: Crop the white margin (`bbox_inches="tight"`).

    Returns:
        The path written.

    Examples:
        >>> import tempfile, os
        >>> figure = Figure(figsize=(2, 2))
        >>> _ = figure.add_subplot().plot([0, 1], [1, 0])
        >>> os.path.exists(save_figure(figure, os.path.join(tempfile.mkdtemp(), "sub", "f.png")))
        True
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=dpi, bbox_inches="tight" if tight else None)
    return path


def plot_critic_contour(
    gan,
    real: np.ndarray,
    path: str,
    num_generated: int = 1000,
    grid_size: int = 100,
    extent: tuple[float, float, float, float] | None = None,
    title: str | None = None,
    seed: int = 0,
) -> str:
    """Draws the critic's value contours with real and generated 2-D points.

    This is the picture of the paper's Figure 2: the critic's level sets, the
    real data (orange) and the generator's samples (green). For a
    conditional model the samples are drawn for the classes in turn and
    coloured by label, and the contours show the critic's score averaged
    over the classes. For a packed critic (`pack=m`) the contours are
    D(x, x, …, x), the score of m copies of the point.

    Args:
        gan: A `GAN` (or `WGANGP`) with 2-D data.
        real: Real points, shape `(n, 2)`.
        path: Where to write the PNG.
        num_generated: Number of generated points to draw.
        grid_size: Resolution of the contour grid per axis.
        extent: `(xmin, xmax, ymin, ymax)`; by default it covers both point sets.
        title: Optional figure title.
        seed: Seed of the generated points.

    Returns:
        The path written.

    Examples:
        >>> import keras_wgangp as kw, tempfile, os
        >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=16),
        ...                 kw.architectures.mlp_critic(units=16))
        >>> real = kw.data.toy_samples("8gaussians", 200, seed=0)
        >>> out = plot_critic_contour(gan, real, os.path.join(tempfile.mkdtemp(), "c.png"))
        >>> os.path.exists(out)
        True
    """
    real = np.asarray(real, "float32")
    if real.ndim != 2 or real.shape[1] != 2:
        raise ValueError(f"Critic contours need 2-D data of shape (n, 2); got {real.shape}.")
    fake = gan.generate(num_generated, seed=seed)
    num_classes = getattr(gan, "num_classes", None)
    if extent is None:
        both = np.concatenate([real, fake])
        low, high = np.percentile(both, 0.5, axis=0), np.percentile(both, 99.5, axis=0)
        pad = 0.15 * (high - low).max() + 1e-3
        extent = (low[0] - pad, high[0] + pad, low[1] - pad, high[1] + pad)
    xs = np.linspace(extent[0], extent[1], grid_size, dtype="float32")
    ys = np.linspace(extent[2], extent[3], grid_size, dtype="float32")
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1)
    values = _critic_values(gan, grid).reshape(grid_x.shape)

    figure = Figure(figsize=(5, 5))
    axes = figure.add_subplot()
    contour = axes.contour(grid_x, grid_y, values, levels=15, cmap="viridis", linewidths=0.8)
    figure.colorbar(contour, ax=axes, shrink=0.8, label="critic value D(x)")
    axes.scatter(real[:, 0], real[:, 1], s=3, c="tab:orange", alpha=0.5, label="real")
    if num_classes is None:
        axes.scatter(fake[:, 0], fake[:, 1], s=3, c="tab:green", alpha=0.5, label="generated")
    else:
        labels = np.arange(len(fake)) % num_classes  # generate()'s default labels
        axes.scatter(
            fake[:, 0],
            fake[:, 1],
            s=3,
            c=labels,
            cmap="tab10" if num_classes <= 10 else "tab20",
            alpha=0.7,
            label="generated (colour: label)",
        )
    axes.set_xlim(extent[0], extent[1])
    axes.set_ylim(extent[2], extent[3])
    axes.set_aspect("equal")
    axes.legend(loc="upper right", markerscale=4, fontsize=8)
    if title:
        axes.set_title(title)
    return save_figure(figure, path)


def _critic_values(gan, points: np.ndarray) -> np.ndarray:
    """The critic's score at each point; for a conditional critic, its mean over the classes."""
    num_classes = getattr(gan, "num_classes", None)

    def score(inputs):
        out = gan.critic(inputs, training=False)
        out = out[0] if isinstance(out, (list, tuple)) else out
        return keras.ops.convert_to_numpy(out).reshape(-1)

    pack = getattr(gan, "pack", 1)
    if pack > 1:  # a packed critic's slice through m copies of the same point
        return score(np.tile(points, (1, pack)))
    if num_classes is None:
        return score(points)
    return np.mean([score([points, np.full(len(points), c, "int32")]) for c in range(num_classes)], axis=0)


def plot_history(history, path: str, evaluations=None) -> str:
    """Plots the training curves to a PNG.

    Panels: critic and generator losses; the Wasserstein estimate
    (mean D(real) − mean D(fake)); the gradient penalty and the mean
    gradient norm at the interpolates (which should settle near 1); with
    `CriticOverfitting`, the critic's mean scores of training, held-out and
    generated images and r_v (`overfit_rv`); the other logged metrics; and,
    with `evaluations`, one panel per quality measure at the epochs it was
    measured.

    Args:
        history: A `keras.callbacks.History` or its `.history` dict.
        path: Where to write the PNG.
        evaluations: An `EvaluateEvery` callback (or its `.record` dict,
            `{"epoch": [...], name: [...]}`); its measures are drawn against
            their own epochs and left out of the other panels.

    Returns:
        The path written.

    Examples:
        >>> import tempfile, os
        >>> logs = {"critic_loss": [1.0, 0.5], "generator_loss": [0.1, 0.2], "fid": [3.0]}
        >>> record = {"epoch": [2], "fid": [3.0]}
        >>> os.path.exists(plot_history(logs, os.path.join(tempfile.mkdtemp(), "h.png"), record))
        True
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError("plot_history needs a History object or a non-empty dict of metric lists.")
    record = dict(getattr(evaluations, "record", evaluations) or {})
    measured = [name for name in record if name != "epoch"]
    panels = [
        ("losses", ["critic_loss", "generator_loss"]),
        ("Wasserstein estimate", ["wasserstein_estimate"]),
        ("gradient penalty / norm", ["gradient_penalty", "gradient_norm"]),
        # CriticOverfitting: the mean scores, and r_v (0: unseen reals scored like training ones).
        (
            "critic: real train / validation / fake",
            ["critic_real_train", "critic_real_validation", "critic_fake"],
        ),
        ("critic overfitting r_v", ["overfit_rv"]),
    ]
    panels = [(title, [k for k in keys if k in logs]) for title, keys in panels]
    panels = [(title, keys) for title, keys in panels if keys]
    # `loss` is GAN's copy of `critic_loss`, kept for Keras's stock callbacks.
    shown = (
        {k for _, keys in panels for k in keys}
        | set(measured)
        | ({"loss"} if "critic_loss" in logs else set())
    )
    extra = [k for k in logs if k not in shown]
    if extra:
        panels.append(("other", extra))
    panels += [(name, [name]) for name in measured]
    figure = Figure(figsize=(4.5 * len(panels), 3.5))
    for i, (title, keys) in enumerate(panels, start=1):
        axes = figure.add_subplot(1, len(panels), i)
        for key in keys:
            if key in measured:
                axes.plot(record["epoch"], np.asarray(record[key], "float64"), marker="o", label=key)
                continue
            values = np.asarray(logs[key], dtype="float64")
            axes.plot(np.arange(1, len(values) + 1), values, label=key)
        axes.set_title(title)
        axes.set_xlabel("epoch")
        axes.legend(fontsize=8)
        axes.grid(alpha=0.3)
    figure.tight_layout()
    return save_figure(figure, path)


def image_grid(
    images: np.ndarray,
    value_range: tuple[float, float] = (-1.0, 1.0),
    padding: int = 1,
    columns: int | None = None,
) -> np.ndarray:
    """Tiles a batch of NHWC images into one image, row by row, nearly square.

    Counts that are not perfect squares leave the last row partly empty.

    Args:
        images: Array of shape `(n, height, width, channels)` with 1 or 3 channels.
        value_range: The range of the pixel values, mapped to [0, 1].
        padding: Pixels of white between tiles.
        columns: Images per row; by default ceil(√n).

    Returns:
        A float array in [0, 1] of shape `(rows·(h+p)+p, cols·(w+p)+p, channels)`.

    Examples:
        >>> image_grid(np.zeros((5, 8, 8, 1))).shape  # 2 rows x 3 columns of 8+1 pixels, plus 1
        (19, 28, 1)
    """
    images = np.asarray(images, "float32")
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"image_grid needs NHWC images with 1 or 3 channels, got shape {images.shape}.")
    low, high = value_range
    images = np.clip((images - low) / (high - low), 0.0, 1.0)
    n, h, w, c = images.shape
    cols = int(columns) if columns else int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    grid = np.ones((rows * (h + padding) + padding, cols * (w + padding) + padding, c), "float32")
    for i in range(n):
        r, q = divmod(i, cols)
        top, left = padding + r * (h + padding), padding + q * (w + padding)
        grid[top : top + h, left : left + w] = images[i]
    return grid


def save_samples_png(samples: np.ndarray, path: str, value_range: tuple[float, float] = (-1.0, 1.0)) -> str:
    """Writes samples as a PNG: a scatter plot for 2-D points, a grid for images.

    Args:
        samples: Shape `(n, 2)` points or `(n, h, w, 1|3)` images.
        path: Where to write the PNG.
        value_range: Pixel range of images (ignored for points).

    Returns:
        The path written.

    Examples:
        >>> import tempfile, os
        >>> p = save_samples_png(np.random.randn(50, 2), os.path.join(tempfile.mkdtemp(), "s.png"))
        >>> os.path.exists(p)
        True
    """
    samples = np.asarray(samples)
    figure = Figure(figsize=(5, 5))
    axes = figure.add_subplot()
    if samples.ndim == 2 and samples.shape[1] == 2:
        axes.scatter(samples[:, 0], samples[:, 1], s=3, c="tab:green", alpha=0.6)
        axes.set_aspect("equal")
        axes.set_title(f"{len(samples)} generated samples")
    elif samples.ndim == 4:
        grid = image_grid(samples, value_range)
        if grid.shape[-1] == 1:
            axes.imshow(grid[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        else:
            axes.imshow(grid, interpolation="nearest")
        axes.axis("off")
    else:
        raise ValueError(
            f"Can draw 2-D points (n, 2) or images (n, h, w, c), not samples of shape {samples.shape}; "
            "save them as .npy instead."
        )
    return save_figure(figure, path)


# The longer side a saved grid is enlarged towards: an 8×8 grid of 28×28 digits (233 pixels)
# becomes 699, each digit 84 pixels wide, which a person can read on a page.
GRID_PIXELS = 768


def save_image_grid(grid: np.ndarray, path: str) -> str:
    """Writes a grid from `image_grid` as a PNG, enlarged towards `GRID_PIXELS` (768) pixels.

    The grid is enlarged by the largest whole factor that keeps its longer
    side within 768 pixels, by nearest-neighbour repetition, so the pixels
    stay sharp; grids already that large are written at their own pixels.

    Args:
        grid: A float array in [0, 1] of shape `(h, w, 1)` or `(h, w, 3)`.
        path: Where to write the PNG (its folder must exist).

    Returns:
        The path written.

    Examples:
        >>> import tempfile, os
        >>> grid = image_grid(np.zeros((4, 8, 8, 1)))
        >>> os.path.exists(save_image_grid(grid, os.path.join(tempfile.mkdtemp(), "g.png")))
        True
    """
    from matplotlib import image as mpimg

    scale = max(1, GRID_PIXELS // max(grid.shape[:2]))
    grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    if grid.shape[-1] == 1:
        mpimg.imsave(path, grid[..., 0], cmap="gray", vmin=0.0, vmax=1.0)
    else:
        mpimg.imsave(path, grid)
    return path


def nearest_neighbours(
    samples: np.ndarray,
    train_images: np.ndarray,
    path: str,
    num_samples: int = 8,
    k: int = 5,
    features=None,
    value_range: tuple[float, float] = (-1.0, 1.0),
) -> str:
    """Writes the memorisation figure: each sample, then its `k` nearest training images.

    One row per sample (the first `num_samples`): the sample on the left, a gap, then its
    nearest training images, nearest first, as in BigGAN's and StudioGAN's figures. A row of
    near-identical images is a copy.

    Args:
        samples: Generated images `(n, h, w, 1|3)`.
        train_images: The training images, of the same shape.
        path: Where to write the PNG.
        num_samples: Rows (samples) to show.
        k: Training images per row.
        features: The space the neighbours are found in: None for pixels, a dataset name of
            `keras_wgangp.evaluation.IMAGE_DATASETS` or a function images -> features (see
            `keras_wgangp.evaluation.nearest_training_images`).
        value_range: The range of the pixel values.

    Returns:
        The path written.

    Examples:
        >>> import tempfile, os
        >>> train = np.random.default_rng(0).uniform(-1, 1, (20, 8, 8, 1))
        >>> p = nearest_neighbours(train[:3] + 0.01, train, os.path.join(tempfile.mkdtemp(), "nn.png"), k=2)
        >>> os.path.exists(p)
        True
    """
    from keras_wgangp.evaluation.memorization import nearest_training_images

    samples = np.asarray(samples, "float32")[:num_samples]
    train_images = np.asarray(train_images, "float32")
    if samples.ndim != 4 or samples.shape[1:] != train_images.shape[1:]:
        raise ValueError(
            f"nearest_neighbours needs samples and training images of one NHWC shape; got {samples.shape} "
            f"and {train_images.shape}."
        )
    _, nearest = nearest_training_images(
        samples, train_images, k=min(k, len(train_images)), features=features
    )
    blank = np.full_like(samples[:1], value_range[1])  # a white tile between sample and neighbours
    rows = [
        np.concatenate([samples[i : i + 1], blank, train_images[nearest[i]]]) for i in range(len(samples))
    ]
    grid = image_grid(np.concatenate(rows), value_range, columns=nearest.shape[1] + 2)
    figure = Figure(figsize=(1.0 * (nearest.shape[1] + 2), 1.0 * len(samples) + 0.4))
    axes = figure.add_subplot()
    axes.imshow(
        grid[..., 0] if grid.shape[-1] == 1 else grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest"
    )
    axes.set_title("sample | nearest training images", fontsize=9)
    axes.axis("off")
    return save_figure(figure, path)
