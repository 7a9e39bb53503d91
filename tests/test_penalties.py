"""Exact values of the gradient penalty and the classic bugs it must not have.

Backend-agnostic (marked `backends`): `test_backends.py` runs this module
again under JAX and PyTorch; the TensorFlow-only tests skip there.
"""

import contextlib

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import weight_gradients
from hypothesis import given, settings
from hypothesis import strategies as st

import keras_wgangp as kw
from keras_wgangp.penalties import gradient_norms, interpolate, penalty_from_norms, sample_epsilon

pytestmark = pytest.mark.backends
ops = keras.ops
tf_only = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow-only")
SHAPES = {"rank2": (5,), "rank3": (4, 3), "rank4": (3, 3, 2)}
# The axes of the per-example norm come from shared keras.ops code: the JAX and PyTorch reruns
# take the image rank only (the gradient itself is the backend's, and rank 4 exercises it).
RANKS = [
    pytest.param(shape, id=name, marks=[] if name == "rank4" else [pytest.mark.one_backend])
    for name, shape in SHAPES.items()
]


def linear_critic(w):
    w = ops.convert_to_tensor(np.asarray(w, "float32"))

    def critic(x):
        axes = tuple(range(1, len(x.shape)))
        return ops.sum(x * w, axis=axes)

    return critic


def quadratic_critic(x):
    axes = tuple(range(1, len(x.shape)))
    return 0.5 * ops.sum(ops.square(x), axis=axes)


@pytest.mark.parametrize("shape", RANKS)
@settings(max_examples=15, deadline=None)
@given(scale=st.floats(0.05, 5.0), batch=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_linear_critic_gives_exact_penalty(shape, scale, batch, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape).astype("float32")
    w *= scale / np.linalg.norm(w)
    real = rng.standard_normal((batch,) + shape).astype("float32")
    fake = rng.standard_normal((batch,) + shape).astype("float32")
    gp = kw.gradient_penalty(linear_critic(w), real, fake, seed=seed)
    np.testing.assert_allclose(float(gp), (np.linalg.norm(w) - 1.0) ** 2, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape", RANKS)
def test_linear_keras_critic_gives_exact_penalty(shape):
    critic = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(1)])
    kernel, bias = critic.layers[-1].get_weights()
    kernel = np.full_like(kernel, 0.7)
    critic.layers[-1].set_weights([kernel, bias + 3.0])
    real = np.random.rand(6, *shape).astype("float32")
    fake = np.random.rand(6, *shape).astype("float32")
    expected = (np.linalg.norm(kernel) - 1.0) ** 2
    np.testing.assert_allclose(float(kw.gradient_penalty(critic, real, fake)), expected, rtol=1e-5)


@pytest.mark.parametrize("shape", RANKS)
def test_quadratic_critic_with_real_equal_fake(shape):
    # f(x) = ½‖x‖² has ∇f(x) = x, and x̂ = x whatever ε is when real == fake,
    # so the penalty is the batch mean of (‖x_i‖ − 1)², one norm per example.
    x = np.random.default_rng(0).standard_normal((7,) + shape).astype("float32")
    x[0] *= 0.0  # an example with zero gradient
    norms = np.linalg.norm(x.reshape(len(x), -1), axis=1)
    expected = np.mean((norms - 1.0) ** 2)
    got = float(kw.gradient_penalty(quadratic_critic, x, x))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    # The classic bug: one norm over the whole batch instead of one per example.
    assert abs(got - (np.linalg.norm(x) - 1.0) ** 2) > 0.1


def test_target_norm_option():
    x = np.ones((4, 3), "float32")
    got = float(kw.gradient_penalty(quadratic_critic, x, x, target_norm=2.0))
    np.testing.assert_allclose(got, (np.sqrt(3.0) - 2.0) ** 2, rtol=1e-6)


def test_epsilon_is_one_uniform_draw_per_example():
    # real = 0, fake = 1 in d dims, quadratic critic: x̂ = (1 − ε)·1, so
    # ‖∇D(x̂)‖ = (1 − ε)√d and, with u = 1 − ε ~ U[0,1],
    # E[GP] = E[(u√d − 1)²] = d/3 − √d + 1.
    d, n = 16, 40_000
    real = np.zeros((n, d), "float32")
    fake = np.ones((n, d), "float32")
    got = float(kw.gradient_penalty(quadratic_critic, real, fake, seed=7))
    per_example_uniform = d / 3 - np.sqrt(d) + 1  # 2.333
    per_element_uniform = (np.sqrt(d / 3) - 1) ** 2  # ≈ 1.71 (ε drawn per element)
    per_example_normal = d + 1  # 17 (ε ~ N(0, 1))
    assert abs(got - per_example_uniform) < 0.06, got
    assert abs(got - per_element_uniform) > 0.4
    assert abs(got - per_example_normal) > 10


def test_sample_epsilon_shape_and_distribution():
    eps = ops.convert_to_numpy(sample_epsilon(20_000, rank=4, seed=3))
    assert eps.shape == (20_000, 1, 1, 1)
    assert eps.min() >= 0.0 and eps.max() <= 1.0
    # Uniform moments: mean 1/2, variance 1/12.
    assert abs(eps.mean() - 0.5) < 0.01
    assert abs(eps.var() - 1 / 12) < 0.003


def test_interpolate_endpoints():
    real, fake = ops.full((2, 3), 5.0), ops.full((2, 3), -1.0)
    out = ops.convert_to_numpy(interpolate(real, fake, ops.array([[1.0], [0.0]])))
    np.testing.assert_array_equal(out[0], 5.0)
    np.testing.assert_array_equal(out[1], -1.0)


def test_zero_gradient_gives_finite_penalty_and_gradient():
    # A critic whose input gradient is exactly zero: sqrt(0) must not give NaN.
    critic = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    gp, grads = weight_gradients(lambda: kw.gradient_penalty(critic, x, x + 1.0), critic.trainable_variables)
    assert gp == pytest.approx(1.0)
    for g in grads:
        assert g is None or np.isfinite(g).all()


def test_penalty_gradient_matches_closed_form_for_linear_critic():
    # GP(w) = (‖w‖ − 1)² ⇒ dGP/dw = 2(‖w‖ − 1)·w/‖w‖: the second-order path works.
    w0 = np.array([[0.3], [-1.2], [0.5]], "float32")
    critic = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    critic.layers[-1].set_weights([w0, np.zeros(1, "float32")])
    x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    _, (grad_w,) = weight_gradients(lambda: kw.gradient_penalty(critic, x, -x), [critic.layers[-1].kernel])
    norm = np.linalg.norm(w0)
    np.testing.assert_allclose(grad_w, 2 * (norm - 1) * w0 / norm, rtol=1e-5)


@tf_only
def test_dynamic_batch_size_in_a_graph():
    critic = linear_critic(np.full((3,), 0.5, "float32"))

    @tf.function(input_signature=[tf.TensorSpec((None, 3)), tf.TensorSpec((None, 3))])
    def penalty(real, fake):
        return kw.gradient_penalty(critic, real, fake)

    expected = (np.linalg.norm(np.full(3, 0.5)) - 1) ** 2
    for batch in (1, 3, 17):
        x = tf.random.normal((batch, 3))
        np.testing.assert_allclose(float(penalty(x, -x)), expected, rtol=1e-5)


def test_penalty_from_norms():
    assert float(penalty_from_norms(ops.array([1.0, 1.0]))) == 0.0
    assert float(penalty_from_norms(ops.array([0.0, 3.0]))) == pytest.approx(2.5)


def test_gradient_norms_are_per_example():
    x = ops.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(ops.convert_to_numpy(gradient_norms(quadratic_critic, x)), [5.0, 0.0])


def test_rank_one_input_is_rejected():
    with pytest.raises(ValueError, match="rank >= 2"):
        kw.gradient_penalty(quadratic_critic, ops.zeros(3), ops.zeros(3))


# ---------------------------------------------------- skipping exact zeros
def _conv_critic(activation):
    return keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            keras.layers.Conv2D(4, 3, strides=2, padding="same"),
            activation(),
            keras.layers.Conv2D(6, 3, padding="same"),
            activation(),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )


CRITICS = {
    "leaky_relu": lambda: _conv_critic(lambda: keras.layers.LeakyReLU(0.2)),
    "relu": lambda: _conv_critic(keras.layers.ReLU),
    "relu6": lambda: _conv_critic(lambda: keras.layers.ReLU(max_value=6.0)),
    "elu": lambda: _conv_critic(keras.layers.ELU),  # has curvature: untouched
}


def _critic_loss_and_tape(critic, seed=0):
    rng = np.random.default_rng(seed)
    real, fake = (tf.constant(rng.normal(size=(6, 8, 8, 2)).astype("float32")) for _ in range(2))
    epsilon = tf.constant(rng.uniform(size=(6, 1, 1, 1)).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        scores = tf.reshape(critic(tf.concat([real, fake], 0)), [-1])
        loss = kw.losses.critic_loss(*tf.split(scores, 2)) + 10.0 * kw.gradient_penalty(
            critic, real, fake, epsilon=epsilon
        )
    return loss, tape


@tf_only
@pytest.mark.parametrize("make_critic", CRITICS.values(), ids=CRITICS.keys())
def test_skipping_zero_second_derivatives_leaves_gradients_unchanged(make_critic):
    critic = make_critic()
    loss, tape = _critic_loss_and_tape(critic)
    usual = tape.gradient(loss, critic.trainable_variables)
    with kw.penalties.skip_zero_second_derivatives() as active:
        skipped = tape.gradient(loss, critic.trainable_variables)
    assert active
    for a, b in zip(usual, skipped, strict=True):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-6, atol=1e-7)
    # The penalty alone: the second-order path itself is unchanged.
    with tf.GradientTape() as tape:
        penalty = kw.gradient_penalty(critic, tf.ones((3, 8, 8, 2)), tf.zeros((3, 8, 8, 2)), seed=3)
    usual = tape.gradient(penalty, critic.trainable_variables)
    with tf.GradientTape() as tape:
        penalty = kw.gradient_penalty(critic, tf.ones((3, 8, 8, 2)), tf.zeros((3, 8, 8, 2)), seed=3)
    with kw.penalties.skip_zero_second_derivatives():
        skipped = tape.gradient(penalty, critic.trainable_variables)
    for a, b in zip(usual, skipped, strict=True):
        # Only an exact zero may become None ("not connected").
        expected = np.zeros(1) if a is None else a.numpy()
        got = np.zeros_like(expected) if b is None else b.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def _count_ops(critic, skip, op_type):
    @tf.function
    def critic_gradients():
        loss, tape = _critic_loss_and_tape(critic)
        with kw.penalties.skip_zero_second_derivatives() if skip else contextlib.nullcontext():
            return tape.gradient(loss, critic.trainable_variables)

    graph = critic_gradients.get_concrete_function().graph
    return sum(op.type == op_type for op in graph.get_operations())


@tf_only
@pytest.mark.parametrize("name", ["leaky_relu", "relu", "relu6"])
def test_skipping_removes_the_backward_pass_of_zeros_through_the_critic(name):
    # Without skipping, TF backpropagates zeros through the forward pass on x̂:
    # one extra weight-gradient op per conv layer (2 here), all of it wasted.
    critic = CRITICS[name]()
    usual = _count_ops(critic, False, "Conv2DBackpropFilter")
    skipped = _count_ops(critic, True, "Conv2DBackpropFilter")
    assert usual - skipped == 2


@tf_only
def test_curved_activations_keep_their_second_derivative_path():
    critic = CRITICS["elu"]()
    assert _count_ops(critic, False, "Conv2DBackpropFilter") == _count_ops(
        critic, True, "Conv2DBackpropFilter"
    )


@tf_only
def test_gradient_registry_is_restored_even_after_an_error():
    from tensorflow.python.framework import ops

    before = {name: ops._gradient_registry.lookup(name) for name in ("ReluGrad", "LeakyReluGrad")}
    with pytest.raises(RuntimeError), kw.penalties.skip_zero_second_derivatives():
        assert ops._gradient_registry.lookup("ReluGrad") is not before["ReluGrad"]
        raise RuntimeError("boom")
    assert {name: ops._gradient_registry.lookup(name) for name in before} == before


# ------------------------------------------------------------ penalty objects
@pytest.mark.parametrize("shape", RANKS)
@settings(max_examples=10, deadline=None)
@given(scale=st.floats(0.05, 5.0), seed=st.integers(0, 2**16))
def test_penalty_objects_on_a_linear_critic(shape, scale, seed):
    # f(x) = w·x has ∇f = w everywhere, so every penalty is a closed form in ‖w‖.
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape).astype("float32")
    w *= scale / np.linalg.norm(w)
    real = rng.standard_normal((6,) + shape).astype("float32")
    fake = rng.standard_normal((6,) + shape).astype("float32")
    critic, norm = linear_critic(w), float(np.linalg.norm(w))
    assert float(kw.penalties.GradientPenalty(weight=3.0)(critic, real, fake, seed=1)) == pytest.approx(
        3.0 * (norm - 1) ** 2, rel=1e-4, abs=1e-6
    )
    one_sided = float(kw.penalties.GradientPenalty(one_sided=True)(critic, real, fake, seed=1))
    assert one_sided == pytest.approx(10.0 * max(norm - 1, 0.0) ** 2, rel=1e-4, abs=1e-6)
    assert float(kw.penalties.R1(gamma=4.0)(critic, real, fake)) == pytest.approx(2.0 * norm**2, rel=1e-5)
    assert float(kw.penalties.R2(gamma=4.0)(critic, real, fake)) == pytest.approx(2.0 * norm**2, rel=1e-5)
    assert float(kw.penalties.DRAGAN(weight=2.0)(critic, real, fake, seed=1)) == pytest.approx(
        2.0 * (norm - 1) ** 2, rel=1e-4, abs=1e-6
    )


def test_penalty_objects_on_a_quadratic_critic():
    # f(x) = ½‖x‖² has ∇f(x) = x: R1 and R2 measure the points themselves.
    rng = np.random.default_rng(0)
    real = rng.standard_normal((5, 3)).astype("float32")
    fake = 3.0 * rng.standard_normal((5, 3)).astype("float32")
    sq_real, sq_fake = (real**2).sum(axis=1), (fake**2).sum(axis=1)
    assert float(kw.penalties.R1(gamma=2.0)(quadratic_critic, real, fake)) == pytest.approx(
        sq_real.mean(), rel=1e-5
    )
    assert float(kw.penalties.R2(gamma=2.0)(quadratic_critic, real, fake)) == pytest.approx(
        sq_fake.mean(), rel=1e-5
    )
    # Without perturbation DRAGAN is the two-sided penalty at the real points.
    dragan = kw.penalties.DRAGAN(weight=1.0, perturbation=0.0)(quadratic_critic, real, fake, seed=0)
    assert float(dragan) == pytest.approx(((np.sqrt(sq_real) - 1) ** 2).mean(), rel=1e-5)


def test_dragan_ignores_the_fakes_and_perturbs_around_real_data():
    real = np.random.default_rng(1).standard_normal((8, 2)).astype("float32")
    penalty = kw.penalties.DRAGAN()
    a = penalty(quadratic_critic, real, np.zeros_like(real), seed=5)
    b = penalty(quadratic_critic, real, 100 + np.ones_like(real), seed=5)
    assert float(a) == float(b)
    # The perturbation moves the points: the value differs from perturbation=0.
    exact = kw.penalties.DRAGAN(perturbation=0.0)(quadratic_critic, real, None, seed=5)
    assert abs(float(a) - float(exact)) > 1e-4


@pytest.mark.parametrize(
    "name", ["gradient_penalty", "gp", "one_sided_gradient_penalty", "dragan", "r1", "r2"]
)
def test_penalties_resolve_by_name_and_round_trip(name):
    penalty = kw.penalties.get(name)
    restored = kw.penalties.get(keras.saving.serialize_keras_object(penalty))
    assert restored == penalty and restored is not penalty
    assert kw.penalties.get("one_sided_gradient_penalty").one_sided


def test_penalty_objects_reject_bad_options_and_names():
    with pytest.raises(ValueError, match="valid names: dragan, gp"):
        kw.penalties.get("wgan_gp")
    with pytest.raises(TypeError, match="must be a name"):
        kw.penalties.get(1.0)
    with pytest.raises(ValueError, match="`gamma` must be a finite number"):
        kw.penalties.R1(gamma=-1.0)


def test_r1_is_finite_with_a_zero_gradient():
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    x = np.zeros((4, 2), "float32")
    value, grads = weight_gradients(lambda: kw.penalties.R1()(critic, x, None), critic.trainable_variables)
    assert value == 0.0
    assert all(np.isfinite(g).all() for g in grads if g is not None)
