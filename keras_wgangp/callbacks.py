"""Keras callbacks for watching a GAN learn: critic contours and sample grids during `fit`,
quality measures in `logs`, and a stop at the first NaN.

The pictures themselves are drawn by `keras_wgangp.plots`; its functions
stay importable from here too, where they lived before `plots` existed.
"""

from __future__ import annotations

import os

import keras
import numpy as np

from keras_wgangp.diagnostics import CriticDiagnostics  # noqa: F401  (a callback, documented there)
from keras_wgangp.overfitting import CriticOverfitting  # noqa: F401  (a callback, documented there)
from keras_wgangp.plots import (  # noqa: F401  (their import path before plots.py)
    image_grid,
    plot_critic_contour,
    plot_history,
    save_image_grid,
    save_samples_png,
)

__all__ = [
    "CriticContour",
    "CriticDiagnostics",
    "CriticOverfitting",
    "EvaluateEvery",
    "SampleImages",
    "StopOnDivergence",
]


class CriticContour(keras.callbacks.Callback):
    """Saves critic-contour plots (paper Figure 2 style) during training.

    Writes `critic_epoch_0003.png` (1-based epoch numbers) every
    `every_n_epochs` epochs.

    Args:
        output_dir: Folder for the PNGs (created if needed).
        real: Real 2-D points to draw, shape `(n, 2)`.
        every_n_epochs: Plot frequency.
        num_generated: Generated points per plot, always from the same seed
            so successive plots are comparable.
        grid_size: Contour grid resolution per axis.
        extent: Fixed plot limits `(xmin, xmax, ymin, ymax)`; defaults to a
            box around the real data, fixed for the whole run.

    Examples:
        >>> import keras_wgangp as kw, tempfile
        >>> real = kw.data.toy_samples("8gaussians", 512, seed=0)
        >>> callback = CriticContour(tempfile.mkdtemp(), real)
    """

    def __init__(
        self,
        output_dir: str,
        real,
        every_n_epochs: int = 1,
        num_generated: int = 1000,
        grid_size: int = 100,
        extent: tuple[float, float, float, float] | None = None,
    ):
        super().__init__()
        self.output_dir = output_dir
        self.real = np.asarray(real, "float32")
        if self.real.ndim != 2 or self.real.shape[1] != 2:
            raise ValueError(f"CriticContour needs 2-D data of shape (n, 2); got {self.real.shape}.")
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}.")
        self.every_n_epochs = every_n_epochs
        self.num_generated = num_generated
        self.grid_size = grid_size
        if extent is None:
            low, high = self.real.min(axis=0), self.real.max(axis=0)
            pad = 0.25 * (high - low).max()
            extent = (low[0] - pad, high[0] + pad, low[1] - pad, high[1] + pad)
        self.extent = tuple(float(v) for v in extent)
        self.paths: list[str] = []

    def plot(self, path: str, title: str | None = None) -> str:
        """Draws the current state to `path` and returns it."""
        return plot_critic_contour(
            self.model, self.real, path, self.num_generated, self.grid_size, self.extent, title
        )

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        path = os.path.join(self.output_dir, f"critic_epoch_{epoch + 1:04d}.png")
        self.paths.append(self.plot(path, title=f"epoch {epoch + 1}"))


class EvaluateEvery(keras.callbacks.Callback):
    """Measures sample quality every few epochs and writes it into `logs`.

    At the end of every `every_n_epochs`-th epoch it computes the chosen
    measures on the model's samples (the EMA generator's when there is one)
    and adds them to the epoch's `logs`, so `History`, `CSVLogger`,
    `EarlyStopping(monitor="fid")`, `ModelCheckpoint(monitor="fid",
    save_best_only=True)` and `TensorBoard` see them; list it before those
    callbacks. Skipped epochs cost nothing and carry no value (monitoring
    callbacks then warn that the metric is missing: use `every_n_epochs=1`
    with them). `record` keeps every measured value with its epoch.

    Args:
        metrics: Names of the measures of `keras_wgangp.evaluation.evaluate`
            on `dataset` (e.g. `"fid"`, `"kid"`, `"precision"`, `"recall"`,
            `"modes_covered"`, `"kl"`, `"high_quality_fraction"`), or a
            function `model -> dict` of float measures.
        dataset: The reference dataset of named measures (a name of
            `keras_wgangp.evaluation.DATASETS`: a toy, `"digits"`, `"mnist"`,
            `"stacked_digits"` or `"stacked_mnist"`).
        every_n_epochs: Measure on epochs n, 2n, ... (1-based).
        num_samples: Samples per measurement (None: the protocol's default).
        seed: Seed of the samples (the same every time, so values compare).

    Examples:
        >>> import keras_wgangp as kw
        >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8))
        >>> gan.compile()
        >>> watch = EvaluateEvery(["modes_covered"], dataset="8gaussians", num_samples=200)
        >>> history = gan.fit(kw.data.toy_samples("8gaussians", 640, seed=0), epochs=2, verbose=0,
        ...                   callbacks=[watch])
        >>> len(history.history["modes_covered"]), watch.record["epoch"]
        (2, [1, 2])
    """

    def __init__(
        self,
        metrics,
        dataset: str | None = None,
        every_n_epochs: int = 1,
        num_samples: int | None = None,
        seed: int = 0,
    ):
        super().__init__()
        if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int) or every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be an integer >= 1, got {every_n_epochs!r}.")
        if callable(metrics):
            self.metric_fn, self.names = metrics, None
        else:
            names = [metrics] if isinstance(metrics, str) else list(metrics)
            if not names or dataset is None:
                raise ValueError(
                    "EvaluateEvery needs metric names with their `dataset` (e.g. EvaluateEvery(['fid'], "
                    "dataset='digits')), or a function model -> dict."
                )
            self.metric_fn, self.names = None, names
        self.dataset, self.every_n_epochs = dataset, every_n_epochs
        self.num_samples, self.seed = num_samples, seed
        self.record: dict[str, list] = {"epoch": []}

    def measure(self) -> dict:
        """The measures of the model now, as floats."""
        if self.metric_fn is not None:
            return {name: float(value) for name, value in self.metric_fn(self.model).items()}
        from keras_wgangp.evaluation import evaluate

        report = evaluate(self.model, self.dataset, self.num_samples, self.seed)
        missing = [name for name in self.names if name not in report]
        if missing:
            raise ValueError(
                f"EvaluateEvery: {self.dataset} has no measure {missing[0]!r}; it has {', '.join(report)}."
            )
        return {name: float(report[name]) for name in self.names}

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        values = self.measure()
        self.record["epoch"].append(epoch + 1)
        for name, value in values.items():
            self.record.setdefault(name, []).append(value)
        if logs is not None:
            logs.update(values)


class StopOnDivergence(keras.callbacks.Callback):
    """Stops `fit` at the first step whose logged values are NaN or infinite, and records which.

    Keras's `TerminateOnNaN` watches `loss` only; a GAN can diverge in
    `generator_loss` or a penalty first. `diverged` is then
    `(metric name, generator step)`; `keras-wgangp train` uses it to stop,
    keep the last good checkpoint, and say what went bad where.

    Examples:
        >>> import keras_wgangp as kw
        >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8))
        >>> gan.compile(keras.optimizers.SGD(1e30), keras.optimizers.SGD(1e30))
        >>> stop = StopOnDivergence()
        >>> data = kw.data.toy_samples("8gaussians", 2560, seed=0)
        >>> _ = gan.fit(data, epochs=3, verbose=0, callbacks=[stop])
        >>> stop.diverged is not None
        True
    """

    def __init__(self):
        super().__init__()
        self.diverged = None

    def on_train_batch_end(self, batch, logs=None):
        if self.diverged is not None:
            return
        for name, value in (logs or {}).items():
            if not np.all(np.isfinite(np.asarray(value, dtype="float64"))):
                optimizer = getattr(self.model, "generator_optimizer", None) or self.model.optimizer
                step = int(np.asarray(keras.ops.convert_to_numpy(optimizer.iterations)))
                self.diverged = (name, step)
                self.model.stop_training = True
                return


class SampleImages(keras.callbacks.Callback):
    """Saves a grid of generated images every few epochs, from fixed latents.

    The latent vectors are drawn once (from `seed`), so every grid shows the
    same z and progress is comparable across epochs. Files are named
    `samples_epoch_0003.png` (1-based epochs). Grayscale and RGB images and
    any `num_images` (not only perfect squares) are handled.

    For a conditional model the grid has one row per class, with
    `max(1, num_images // num_classes)` images per row and the same z down
    each column. With `sweep_code=i` (InfoGAN) each row keeps one z and the
    other codes fixed while code i varies along the row: every category of
    a `Categorical` code, or `sweep_steps` values from low to high of
    dimension `sweep_dim` of a `Uniform` code; `num_images // columns` rows.

    Args:
        output_dir: Folder for the PNGs (created if needed).
        num_images: Images per grid.
        every_n_epochs: Save frequency.
        seed: Seed of the fixed latents.
        log_dir: If given, also write the grid as a TensorBoard image summary
            named `samples` at step = epoch.
        value_range: Pixel range of the generator's output (tanh: (-1, 1)).
        sweep_code: Index of the InfoGAN code to sweep along each row, or None.
        sweep_steps: Values per row when sweeping a `Uniform` code.
        sweep_dim: Which dimension of a `Uniform` code to sweep.

    Examples:
        >>> import tempfile
        >>> callback = SampleImages(tempfile.mkdtemp(), num_images=16)
    """

    def __init__(
        self,
        output_dir: str,
        num_images: int = 64,
        every_n_epochs: int = 1,
        seed: int = 0,
        log_dir: str | None = None,
        value_range: tuple[float, float] = (-1.0, 1.0),
        sweep_code: int | None = None,
        sweep_steps: int = 8,
        sweep_dim: int = 0,
    ):
        super().__init__()
        if num_images < 1 or every_n_epochs < 1 or sweep_steps < 2:
            raise ValueError("num_images and every_n_epochs must be >= 1, sweep_steps >= 2.")
        self.sweep_code, self.sweep_steps, self.sweep_dim = sweep_code, sweep_steps, sweep_dim
        self.output_dir = output_dir
        self.num_images = num_images
        self.every_n_epochs = every_n_epochs
        self.seed = seed
        self.log_dir = log_dir
        self.value_range = value_range
        self.paths: list[str] = []
        self._latents = None
        self._writer = None

    def latents(self) -> np.ndarray:
        """The fixed latent batch, drawn on first use from the model's latent size."""
        if self._latents is None:
            rng = np.random.default_rng(self.seed)
            self._latents = rng.standard_normal((self.num_images, self.model.latent_dim)).astype("float32")
        return self._latents

    def _layout(self) -> tuple[int | None, dict]:
        """Returns (images per row, the `generate` arguments of the grid)."""
        model = self.model
        num_classes = getattr(model, "num_classes", None)
        latent_codes = getattr(model, "latent_codes", [])
        if self.sweep_code is not None:
            if not 0 <= self.sweep_code < len(latent_codes):
                raise ValueError(
                    f"sweep_code={self.sweep_code} but the model has {len(latent_codes)} latent code(s)."
                )
            code = latent_codes[self.sweep_code]
            dims = getattr(code, "dims", None)
            if dims is not None and not 0 <= self.sweep_dim < dims:
                raise ValueError(
                    f"sweep_dim={self.sweep_dim} but latent code {self.sweep_code} has {dims} "
                    f"dimension(s); pass sweep_dim in [0, {dims})."
                )
            if hasattr(code, "num_categories"):
                values = np.arange(code.num_categories)
            else:
                values = np.linspace(code.low, code.high, self.sweep_steps, dtype="float32")
            cols = len(values)
            rows = max(1, self.num_images // cols)
            z = np.repeat(self.latents()[:rows], cols, axis=0)
            rng = np.random.default_rng(self.seed + 1)
            fixed = []
            for i, other in enumerate(latent_codes):
                if hasattr(other, "num_categories"):
                    per_row = rng.integers(0, other.num_categories, rows)
                    fixed.append(np.tile(values, rows) if i == self.sweep_code else np.repeat(per_row, cols))
                else:
                    per_row = rng.uniform(other.low, other.high, (rows, other.dims)).astype("float32")
                    value = np.repeat(per_row, cols, axis=0)
                    if i == self.sweep_code:
                        value[:, self.sweep_dim] = np.tile(values, rows)
                    fixed.append(value)
            arguments = {"latents": z, "codes": fixed}
            if num_classes is not None:
                arguments["labels"] = np.repeat(np.arange(rows) % num_classes, cols).astype("int32")
            return cols, arguments
        if num_classes is not None:
            cols = max(1, self.num_images // num_classes)
            z = np.tile(self.latents()[:cols], (num_classes, 1))
            labels = np.repeat(np.arange(num_classes), cols).astype("int32")
            return cols, {"latents": z, "labels": labels}
        return None, {"latents": self.latents()}

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        cols, arguments = self._layout()
        images = self.model.generate(len(arguments["latents"]), seed=self.seed, **arguments)
        if images.ndim != 4:
            raise ValueError(
                f"SampleImages needs image data (n, h, w, c); the generator outputs {images.shape}."
            )
        grid = image_grid(images, self.value_range, columns=cols)
        path = os.path.join(self.output_dir, f"samples_epoch_{epoch + 1:04d}.png")
        os.makedirs(self.output_dir, exist_ok=True)
        save_image_grid(grid, path)
        self.paths.append(path)
        if self.log_dir:
            import tensorflow as tf

            if self._writer is None:
                self._writer = tf.summary.create_file_writer(self.log_dir)
            with self._writer.as_default():
                tf.summary.image("samples", grid[None], step=epoch + 1)
            self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
