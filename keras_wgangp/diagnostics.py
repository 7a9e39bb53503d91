"""Inside a critic that misbehaves: per-layer gradient norms, weight histograms, clipping.

The pictures of Gulrajani et al. 2017, Figure 1: (a) the norm of the
gradient of the critic's loss with respect to each layer's output, from
input to output, which under weight clipping explodes or vanishes layer
by layer; (b) the critic's weights, which under clipping pile up at ±c.
`CriticDiagnostics` logs both during `fit` (and the mean ‖∇ₓD(x̂)‖ at
interpolates); `plot_critic_diagnostics` draws them for several runs side
by side.

The per-layer gradients take the critic as a chain of layers, each fed by
the one before: every `keras.Sequential`, and functional critics built the
same way. Each gradient is taken with the backend's own autodiff, so it
works on TensorFlow, JAX and PyTorch.
"""

from __future__ import annotations

import keras
import numpy as np

from keras_wgangp import _autodiff, losses, penalties

__all__ = [
    "CriticDiagnostics",
    "clip_share",
    "critic_layers",
    "layer_gradient_norms",
    "plot_critic_diagnostics",
    "weight_histogram",
]

ops = keras.ops


def critic_layers(critic) -> list:
    """The critic's layers from input to output, checked to form a chain.

    Args:
        critic: A `keras.Sequential` or a functional model whose layers each
            take the previous layer's output.

    Returns:
        The layers, input layers left out.

    Examples:
        >>> net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3), keras.layers.Dense(1)])
        >>> [layer.name for layer in critic_layers(net)] == [layer.name for layer in net.layers]
        True
    """
    layers = [layer for layer in critic.layers if not isinstance(layer, keras.layers.InputLayer)]
    if isinstance(critic, keras.Sequential):
        return layers
    for previous, layer in zip(layers, layers[1:], strict=False):
        nodes = getattr(layer, "_inbound_nodes", [])
        parents = [t._keras_history.operation for node in nodes[:1] for t in node.input_tensors]
        if parents != [previous]:
            raise ValueError(
                f"Per-layer gradients need a critic whose layers form a chain, but {layer.name!r} is not fed "
                f"by {previous.name!r} alone. Use a keras.Sequential critic (or a functional chain)."
            )
    return layers


def layer_gradient_norms(critic, real, fake, loss=None) -> list[float]:
    """‖∂L/∂hᵢ‖ for every layer output hᵢ of the critic, from input to output.

    L is the critic's adversarial loss on the real and generated batch
    (`loss.critic_loss(D(real), D(fake))`; the Wasserstein loss
    mean D(fake) − mean D(real) by default), without penalties; each norm is
    taken over the whole batch of that layer's outputs.

    Args:
        critic: A chain critic (`critic_layers`) taking examples alone.
        real: Real examples.
        fake: Generated examples, as many.
        loss: An `AdversarialLoss` (default `Wasserstein()`).

    Returns:
        One float per layer.

    Examples:
        >>> score = keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")
        >>> net = keras.Sequential([keras.Input((1,)), score])
        >>> layer_gradient_norms(net, np.zeros((2, 1)), np.zeros((2, 1)))  # ±1/2 on each of 4 rows
        [1.0]
    """
    loss = loss or losses.Wasserstein()
    layers = critic_layers(critic)
    real, fake = ops.convert_to_tensor(real, "float32"), ops.convert_to_tensor(fake, "float32")
    n = ops.shape(real)[0]
    h = ops.concatenate([real, fake], 0)
    norms = []
    for i, layer in enumerate(layers):
        h = layer(h, training=False)

        def rest(x, i=i):
            for later in layers[i + 1 :]:
                x = later(x, training=False)
            scores = ops.reshape(x, (-1,))
            return ops.reshape(loss.critic_loss(scores[:n], scores[n:]), (1,))

        grads = _autodiff.input_gradients(rest, h)
        norms.append(float(ops.convert_to_numpy(ops.sqrt(ops.sum(ops.square(grads))))))
    return norms


def weight_histogram(values, bins: int = 50, limit: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A histogram of weights: `(counts, edges)`, over [−limit, limit] or the values' range.

    Args:
        values: A weight tensor (any shape).
        bins: Number of bins.
        limit: Symmetric range, e.g. the clip value; None: the values' own range.

    Returns:
        `(counts, edges)` as `numpy.histogram` gives them.

    Examples:
        >>> counts, edges = weight_histogram(np.array([-0.1, 0.0, 0.1, 0.1]), bins=2, limit=0.1)
        >>> counts.tolist(), np.round(edges, 6).tolist()
        ([1, 3], [-0.1, 0.0, 0.1])
    """
    values = np.asarray(values, "float64").reshape(-1)
    # A hair wider than ±limit: float32 weights clipped to ±c can lie just past c in float64.
    value_range = (-limit * (1 + 1e-6), limit * (1 + 1e-6)) if limit else None
    return np.histogram(values, bins=bins, range=value_range)


def clip_share(values, clip_value: float, tolerance: float = 0.01) -> float:
    """The share of weights within `tolerance` × c of ±c (piled up at the clipping bound).

    Args:
        values: Weights.
        clip_value: c.
        tolerance: The relative band, 1 %.

    Returns:
        A float in [0, 1].

    Examples:
        >>> clip_share(np.array([0.01, -0.01, 0.00995, 0.005]), 0.01)  # 0.00995 is within 1 % of 0.01
        0.75
    """
    values = np.abs(np.asarray(values, "float64").reshape(-1))
    return float(np.mean(values >= clip_value * (1.0 - tolerance)))


class CriticDiagnostics(keras.callbacks.Callback):
    """Looks inside the critic every few epochs: the per-layer gradient norms of its loss,
    its weights, their share at the clipping bound, and ‖∇ₓD(x̂)‖ at interpolates.

    At the end of every `every_n_epochs`-th epoch, on a fixed batch of real
    examples and the generator's samples from fixed latents, it adds to the
    epoch's `logs` (and `record`):

    - `critic_grad_norm_00`, `_01`, …: ‖∂L/∂hᵢ‖ for each layer output hᵢ,
      input to output (`layer_gradient_norms`);
    - `critic_weights_at_clip`: the share of all critic weights within 1 %
      of ±`clip_value` (with weight clipping);
    - `critic_interpolate_grad_norm`: the mean ‖∇ₓD(x̂)‖ at x̂ = εr + (1 − ε)f.

    `histograms` keeps, per measured epoch, the histogram of all critic
    weights (`"all"`) and of each weight tensor (by path);
    with `log_dir`, the scalars and histograms also go to TensorBoard.
    Skipped epochs cost nothing.

    Args:
        data: Real examples; the first `num_examples` are the fixed batch.
        every_n_epochs: Measure on epochs n, 2n, ... (1-based).
        log_dir: A TensorBoard folder, or None.
        num_examples: Real (and generated) examples per measurement.
        bins: Histogram bins.
        seed: Seed of the fixed latents and of ε.

    Examples:
        >>> import keras_wgangp as kw
        >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8))
        >>> gan.compile()
        >>> data = kw.data.toy_samples("swissroll", 256, seed=0)
        >>> diagnostics = CriticDiagnostics(data, num_examples=64)
        >>> history = gan.fit(data, epochs=1, verbose=0, callbacks=[diagnostics])
        >>> len(diagnostics.record["layer_grad_norms"][0])  # 3 hidden layers and the score
        4
    """

    def __init__(
        self,
        data,
        every_n_epochs: int = 1,
        log_dir: str | None = None,
        num_examples: int = 256,
        bins: int = 50,
        seed: int = 0,
    ):
        super().__init__()
        if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int) or every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be an integer >= 1, got {every_n_epochs!r}.")
        self.real = np.asarray(data, "float32")[:num_examples]
        if len(self.real) < 2:
            raise ValueError("CriticDiagnostics needs at least 2 real examples.")
        self.every_n_epochs, self.log_dir, self.bins, self.seed = every_n_epochs, log_dir, bins, seed
        self.record: dict[str, list] = {"epoch": [], "layer_grad_norms": [], "weights_at_clip": []}
        self.record["interpolate_grad_norm"] = []
        self.histograms: dict[int, dict] = {}
        self._writer = None

    def measure(self) -> dict:
        """The diagnostics of the model now: per-layer norms, clipping share, interpolate norm, histograms."""
        model = self.model
        fake = model.generate(len(self.real), seed=self.seed)
        norms = layer_gradient_norms(model.critic, self.real, fake, model.adversarial_loss)
        clip = getattr(model, "clip_value", None)
        weights = [keras.ops.convert_to_numpy(w) for w in model.critic.trainable_weights]
        every = np.concatenate([w.reshape(-1) for w in weights])
        epsilon = penalties.sample_epsilon(len(self.real), self.real.ndim, seed=self.seed)
        x_hat = penalties.interpolate(ops.convert_to_tensor(self.real), ops.convert_to_tensor(fake), epsilon)
        interpolate = float(ops.convert_to_numpy(ops.mean(penalties.gradient_norms(model.critic, x_hat))))
        histograms = {"all": weight_histogram(every, self.bins, clip)}
        for w, value in zip(model.critic.trainable_weights, weights, strict=True):
            histograms[w.path] = weight_histogram(value, self.bins, clip)
        return {
            "layer_grad_norms": norms,
            "weights_at_clip": clip_share(every, clip) if clip else None,
            "interpolate_grad_norm": interpolate,
            "histograms": histograms,
        }

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        result = self.measure()
        self.record["epoch"].append(epoch + 1)
        for key in ("layer_grad_norms", "weights_at_clip", "interpolate_grad_norm"):
            self.record[key].append(result[key])
        self.histograms[epoch + 1] = result["histograms"]
        values = {f"critic_grad_norm_{i:02d}": norm for i, norm in enumerate(result["layer_grad_norms"])}
        values["critic_interpolate_grad_norm"] = result["interpolate_grad_norm"]
        if result["weights_at_clip"] is not None:
            values["critic_weights_at_clip"] = result["weights_at_clip"]
        if logs is not None:
            logs.update(values)
        if self.log_dir:
            self._write(epoch + 1, values)

    def _write(self, step: int, values: dict) -> None:
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        with self._writer.as_default():
            for name, value in values.items():
                tf.summary.scalar(name, value, step=step)
            for w in self.model.critic.trainable_weights:
                tf.summary.histogram(f"critic/{w.path}", keras.ops.convert_to_numpy(w), step=step)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def plot_critic_diagnostics(runs: dict, path: str, epoch: int | None = None) -> str:
    """Figure 1 of Gulrajani et al. 2017 for several runs: (a) log₁₀ of the per-layer
    gradient norms against the layer, one line per run; (b) each run's critic weights.

    Args:
        runs: Label → `CriticDiagnostics` (after `fit`).
        path: The PNG to write.
        epoch: The measured epoch to draw; None: each run's last.

    Returns:
        The path written.

    Examples:
        >>> import os, tempfile
        >>> class Run:  # a stand-in with the record of two layers
        ...     record = {"epoch": [1], "layer_grad_norms": [[0.1, 10.0]]}
        ...     histograms = {1: {"all": weight_histogram(np.linspace(-1, 1, 9), bins=4)}}
        >>> os.path.exists(plot_critic_diagnostics({"run": Run()}, os.path.join(tempfile.mkdtemp(), "f.png")))
        True
    """
    from matplotlib.figure import Figure

    from keras_wgangp.plots import save_figure

    figure = Figure(figsize=(5 + 3.2 * len(runs), 3.8))
    grid = figure.add_gridspec(1, 1 + len(runs), width_ratios=[1.6] + [1] * len(runs))
    axes = figure.add_subplot(grid[0, 0])
    for label, run in runs.items():
        index = -1 if epoch is None else run.record["epoch"].index(epoch)
        norms = np.asarray(run.record["layer_grad_norms"][index], "float64")
        axes.plot(np.arange(1, len(norms) + 1), np.log10(np.maximum(norms, 1e-30)), marker="o", label=label)
    axes.set_xlabel("layer (input to output)")
    axes.set_ylabel("log₁₀ ‖∂L/∂hᵢ‖")
    axes.set_title("(a) gradient norm by layer")
    axes.legend(fontsize=7)
    axes.grid(alpha=0.3)
    for column, (label, run) in enumerate(runs.items(), start=1):
        panel = figure.add_subplot(grid[0, column])
        measured = run.record["epoch"][-1] if epoch is None else epoch
        counts, edges = run.histograms[measured]["all"]
        panel.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="tab:blue")
        panel.set_title(f"(b) weights: {label}", fontsize=9)
        panel.set_yscale("log")
    figure.tight_layout()
    return save_figure(figure, path, tight=False)
