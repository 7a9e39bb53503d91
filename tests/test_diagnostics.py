"""Critic diagnostics: per-layer gradient norms in closed form, weight histograms, the clipping share."""

import keras
import numpy as np
import pytest

import keras_wgangp as kw
from keras_wgangp import diagnostics

W1 = np.array([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]], "float32")
W2 = np.array([[2.0, 0.0], [1.0, -1.0], [0.0, 0.5]], "float32")
W3 = np.array([[1.5], [-2.0]], "float32")


def linear_chain(functional=False):
    dense = [keras.layers.Dense(w.shape[1], use_bias=False) for w in (W1, W2, W3)]
    if functional:
        x_in = keras.Input((2,))
        x = x_in
        for layer in dense:
            x = layer(x)
        net = keras.Model(x_in, x)
    else:
        net = keras.Sequential([keras.Input((2,)), *dense])
    for layer, w in zip(dense, (W1, W2, W3), strict=True):
        layer.set_weights([w])
    return net


@pytest.mark.backends
@pytest.mark.parametrize("functional", [False, True], ids=["sequential", "functional"])
def test_layer_gradient_norms_of_a_linear_chain_in_closed_form(functional):
    # L = mean D(f) − mean D(r) with D(x) = x·W1·W2·W3: row j of ∂L/∂hᵢ is sⱼ (W_{i+1}⋯W3)ᵀ,
    # sⱼ = ±1/2 for 2 fakes and 2 reals, so ‖∂L/∂hᵢ‖ = ‖W_{i+1}⋯W3‖ · √(4 · ¼).
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(2, 2)), rng.normal(size=(2, 2))
    norms = diagnostics.layer_gradient_norms(linear_chain(functional), real, fake)
    expected = [np.linalg.norm(W2 @ W3), np.linalg.norm(W3), 1.0]
    np.testing.assert_allclose(norms, expected, rtol=1e-6)
    # Other batch sizes scale by √(1/n_f + 1/n_r).
    norms = diagnostics.layer_gradient_norms(linear_chain(functional), rng.normal(size=(4, 2)), real)
    np.testing.assert_allclose(norms, np.array(expected) * np.sqrt(1 / 2 + 1 / 4), rtol=1e-6)


def test_a_critic_that_is_no_chain_is_named():
    x_in = keras.Input((2,))
    hidden = keras.layers.Dense(2)(x_in)
    net = keras.Model(x_in, keras.layers.Dense(1)(keras.layers.Add()([x_in, hidden])))
    with pytest.raises(ValueError, match="form a chain"):
        diagnostics.critic_layers(net)


def test_histogram_counts_and_the_share_at_the_clipping_bound():
    weights = np.array([-0.01, -0.01, -0.00995, -0.005, 0.0, 0.004, 0.0099, 0.01])
    counts, edges = diagnostics.weight_histogram(weights, bins=4, limit=0.01)
    assert counts.tolist() == [3, 1, 2, 2] and edges.tolist() == pytest.approx(
        [-0.01, -0.005, 0.0, 0.005, 0.01]
    )
    # Within 1 % of ±0.01, |w| >= 0.0099: five of eight; within 60 %, |w| >= 0.004: seven.
    assert diagnostics.clip_share(weights, 0.01) == 0.625
    assert diagnostics.clip_share(weights, 0.01, tolerance=0.6) == 0.875


@pytest.mark.backends
def test_the_callback_logs_every_layer_and_the_clipping_share(tmp_path):
    data = kw.data.toy_samples("swissroll", 256, seed=0)
    networks = kw.architectures.mlp_generator(units=8, depth=2), kw.architectures.mlp_critic(units=8, depth=2)
    gan = kw.GAN(*networks, clip_value=0.01, seed=0)
    gan.compile(keras.optimizers.RMSprop(5e-5), keras.optimizers.RMSprop(5e-5))
    log_dir = tmp_path / "tensorboard"
    watch = kw.callbacks.CriticDiagnostics(data, every_n_epochs=2, num_examples=64, log_dir=str(log_dir))
    history = gan.fit(data, batch_size=64, epochs=2, verbose=0, callbacks=[watch]).history
    assert watch.record["epoch"] == [2] and len(history["critic_grad_norm_00"]) == 1
    assert sorted(k for k in history if k.startswith("critic_grad_norm_")) == [
        f"critic_grad_norm_0{i}" for i in range(3)
    ]
    weights = np.concatenate([keras.ops.convert_to_numpy(w).ravel() for w in gan.critic.trainable_weights])
    assert history["critic_weights_at_clip"][0] == pytest.approx(diagnostics.clip_share(weights, 0.01))
    counts, edges = watch.histograms[2]["all"]
    assert counts.sum() == weights.size and edges[0] == pytest.approx(-0.01)
    assert list(log_dir.glob("events.out.tfevents.*"))  # scalars and histograms for TensorBoard
    path = diagnostics.plot_critic_diagnostics({"clip 0.01": watch}, str(tmp_path / "figure.png"))
    assert (tmp_path / "figure.png").exists() and path.endswith("figure.png")
