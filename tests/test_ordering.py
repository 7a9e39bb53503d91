"""Update order inside train_step, and bit-identical seeded runs.

Algorithm 1 needs each critic update to see the previous update's weights and
the generator update to see the last critic update's. TensorFlow orders each
variable read before the next write, but not the ops that consume the value
read; these tests check the graph, the arithmetic and whole runs.
"""

import collections
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import tiny_gan

import keras_wgangp as kw

HERE = os.path.dirname(os.path.abspath(__file__))
WRITES = {"AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp"}


def _ancestors(graph):
    parents = {op: {t.op for t in op.inputs} | set(op.control_inputs) for op in graph.get_operations()}
    cache = {}

    def ancestors(op):
        if op not in cache:
            seen, stack = set(), [op]
            while stack:
                for parent in parents[stack.pop()]:
                    if parent not in seen:
                        seen.add(parent)
                        stack.append(parent)
            cache[op] = seen
        return cache[op]

    return ancestors


def unordered_uses(graph, variables):
    """(variable, consumer, write) triples where `consumer` uses a value of
    `variable` read before `write` but may still run after `write`.

    Only consumers that can affect a result (ancestors of an output or of a
    stateful op) count; dead ops are pruned when the function runs.
    """
    ancestors = _ancestors(graph)
    roots = [t.op for t in graph.outputs] + list(graph.control_outputs)
    live = set(roots).union(*(ancestors(op) for op in roots))
    handles = {id(v.value.handle): v.path for v in variables}
    placeholders = {inner.op: handles[id(outer)] for outer, inner in graph.captures if id(outer) in handles}
    uses = collections.defaultdict(list)
    for op in graph.get_operations():
        for tensor in op.inputs:
            if tensor.op in placeholders:
                uses[placeholders[tensor.op]].append(op)
    found = []
    for path, ops in uses.items():
        reads = [op for op in ops if op.type == "ReadVariableOp"]
        for write in (op for op in ops if op.type in WRITES):
            for read in reads:
                if read not in ancestors(write):
                    continue  # a read after the write sees its result
                for consumer in read.outputs[0].consumers():
                    if consumer in live and consumer is not write and consumer not in ancestors(write):
                        found.append((path, consumer.name, write.name))
    return found


@pytest.mark.parametrize("batch_dim", [None, 48], ids=["dynamic_batch", "static_batch"])
@pytest.mark.parametrize("options", [{}, {"ema_decay": 0.9, "clip_value": 0.5}], ids=["plain", "ema_clip"])
def test_no_update_can_overtake_a_use_of_the_weights_it_overwrites(batch_dim, options):
    gan = tiny_gan(critic_steps=3, seed=0, **options)
    gan.compile()
    gan.fit(np.zeros((48, 2), "float32"), batch_size=16, epochs=1, verbose=0)  # builds everything
    spec = tf.TensorSpec([batch_dim, 2], tf.float32)
    graph = tf.function(gan.train_step).get_concrete_function(spec).graph
    state = [gan.seed_generator.state]
    ema = gan.generator_ema.weights if gan.generator_ema is not None else []
    variables = gan.critic.weights + gan.generator.weights + ema + state
    assert unordered_uses(graph, variables) == []


def test_ada_writes_p_after_every_use_of_it():
    # ADA reads p to augment both batches and writes it after the critic update.
    A = kw.architectures
    ada = kw.augment.ADA(adjust_every=1, speed_images=64)
    gan = kw.GAN(A.dcgan_generator(8, (8, 8, 1), filters=4), A.dcgan_critic((8, 8, 1), filters=4),
                 loss="non_saturating", penalty="r1", critic_steps=2, seed=0, augment=ada)  # fmt: skip
    gan.compile()
    gan.fit(np.zeros((32, 8, 8, 1), "float32"), batch_size=8, verbose=0)
    graph = tf.function(gan.train_step).get_concrete_function(tf.TensorSpec([16, 8, 8, 1], tf.float32)).graph
    variables = gan.critic.weights + gan.generator.weights + list(gan.augment_variables)
    assert unordered_uses(graph, variables + [gan.seed_generator.state]) == []


class ConstantGenerator(keras.layers.Layer):
    """G(z) = c for every z: a generator whose output is known exactly."""

    def __init__(self, value, **kwargs):
        super().__init__(**kwargs)
        self.initial = np.asarray(value, "float32")

    def build(self, input_shape):
        self.c = self.add_weight(
            shape=self.initial.shape, initializer=keras.initializers.Constant(self.initial), name="c"
        )

    def call(self, z):
        return keras.ops.zeros_like(z[:, :1]) + self.c


def expected_after_sgd(w, c, real_batches, k, lr_critic, lr_generator, gp_weight, stale=False):
    """Algorithm 1 with SGD for D(x) = w·x + b and G(z) = c, in closed form.

    ∇ₓD = w everywhere, so every norm is ‖w‖ and the critic loss
    mean D(c) − mean D(real) + λ(‖w‖ − 1)² has ∂/∂w = c − mean(real) +
    2λ(‖w‖ − 1)·w/‖w‖ and ∂/∂b = 0; the generator loss −mean D(c) has
    ∂/∂c = −w, taken at the weights of the last critic update (at the ones
    before it if `stale`).
    """
    w, c = w.astype(np.float64), c.astype(np.float64)
    batches = iter(real_batches)
    for _ in range(len(real_batches) // k):
        for _ in range(k):
            norm = np.linalg.norm(w)
            grad = c - next(batches).mean(axis=0) + 2 * gp_weight * (norm - 1) * w / norm
            w, previous = w - lr_critic * grad, w
        c = c + lr_generator * (previous if stale else w)
    return w, c


@pytest.mark.parametrize("path", ["fit", "static_step"])
def test_each_update_sees_the_previous_updates_weights(path):
    k, m, steps = 3, 4, 2
    rng = np.random.default_rng(0)
    real = rng.normal(size=(k * m * steps, 2)).astype("float32")
    w0, c0 = np.array([0.6, -1.1], "float32"), np.array([0.5, 2.0], "float32")
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    critic.set_weights([w0[:, None], np.array([0.3], "float32")])
    gan = kw.WGANGP(ConstantGenerator(c0), critic, latent_dim=1, critic_steps=k, gp_weight=10.0, seed=0)
    gan.compile(keras.optimizers.SGD(0.2), keras.optimizers.SGD(0.05))
    if path == "fit":  # arrays arrive with an unknown batch size
        gan.fit(real, batch_size=m, epochs=1, shuffle=False, verbose=0)
    else:  # full groups of a known size take the static-shape branch
        kw.checks.check_networks(gan, real[:2])
        step = tf.function(gan.train_step, input_signature=[tf.TensorSpec([k * m, 2], tf.float32)])
        for group in real.reshape(steps, k * m, 2):
            step(tf.constant(group))
    batches = real.reshape(k * steps, m, 2)
    w, c = expected_after_sgd(w0, c0, batches, k, 0.05, 0.2, 10.0)
    np.testing.assert_allclose(critic.get_weights()[0][:, 0], w, atol=1e-6)
    np.testing.assert_allclose(critic.get_weights()[1], [0.3], atol=1e-7)  # ∂/∂b = 0
    np.testing.assert_allclose(gan.generator.get_weights()[0], c, atol=1e-6)
    # The tolerance separates the right order from a generator update that
    # read the critic one update late.
    _, stale_c = expected_after_sgd(w0, c0, batches, k, 0.05, 0.2, 10.0, stale=True)
    assert np.abs(stale_c - c).max() > 1e-3


@pytest.mark.slow
def test_seeded_runs_are_bit_identical_in_fresh_processes():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_NUM_", "OMP_NUM_THREADS"))}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    worker = os.path.join(HERE, "determinism_worker.py")
    results = []
    for _ in range(2):  # two fresh processes, each repeating each run
        done = subprocess.run([sys.executable, worker], capture_output=True, text=True, timeout=300, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    for result in results:
        assert result["steps"] == 40
        assert result["max_difference"] == {"no_ema": 0.0, "ema": 0.0}, result
    # Fresh processes agree with each other too.
    assert len({r["checksum"]["no_ema"] for r in results}) == 1
    assert len({r["checksum"]["ema"] for r in results}) == 1
