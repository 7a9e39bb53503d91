"""tf.distribute (Mirrored, MultiWorker), mixed precision, jit_compile and determinism."""

import json
import os
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import tiny_gan

import keras_wgangp as kw

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "distributed_worker.py")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_worker(modes, out_dir):
    result = subprocess.run(
        [sys.executable, WORKER, ",".join(modes), str(out_dir)],
        capture_output=True,
        text=True,
        timeout=600,
        env=ENV,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return out_dir


def test_two_replicas_make_the_same_update_as_one(tmp_path):
    # One child process for both programs; mirrored_step_gan: hinge loss, a lazy gradient penalty
    # and R1.
    run_worker(["mirrored_step", "mirrored_step_gan"], tmp_path)
    for mode in ("mirrored_step", "mirrored_step_gan"):
        result = json.loads((tmp_path / f"{mode}.json").read_text())
        one, two = result["one"], result["two"]
        assert two["replicas"] == 2
        assert one["update_size"] > 1e-3  # the step really moved the weights
        for a, b in zip(one["weights"], two["weights"], strict=True):
            np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-5, atol=1e-6)
        assert one["penalty"] == pytest.approx(two["penalty"], rel=1e-5), mode


@pytest.mark.slow
def test_mirrored_fit_learns_and_saves(tmp_path):
    # A process of its own: a fit after the step programs' strategies meets their collective keys.
    result = json.loads((run_worker(["mirrored_fit"], tmp_path) / "mirrored_fit.json").read_text())
    assert result["critic_steps"] == 5 * result["generator_steps"] == 5 * 800
    assert result["coverage"]["modes_covered"] >= 7, result["coverage"]
    loaded = kw.load_model(str(tmp_path / "mirrored.keras"))
    assert int(loaded.generator_optimizer.iterations) == 800
    served = tf.saved_model.load(str(tmp_path / "mirrored_export"))
    np.testing.assert_allclose(
        served.sample(tf.constant(5), tf.constant(2, tf.int64)).numpy(),
        loaded.generate(5, seed=2),
        rtol=1e-5,
        atol=1e-6,
    )


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
def test_multi_worker_mirrored_on_localhost(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    try:
        for index in range(2):
            config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
            env = {**ENV, "TF_CONFIG": json.dumps(config)}
            processes.append(
                subprocess.Popen(
                    [sys.executable, WORKER, "multi_worker", str(tmp_path)],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        deadline = time.monotonic() + 300
        outputs = [p.communicate(timeout=max(1, deadline - time.monotonic())) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
    for p, (_out, err) in zip(processes, outputs, strict=True):
        assert p.returncode == 0, err[-4000:]
    results = [json.loads((tmp_path / f"worker_{i}.json").read_text()) for i in range(2)]
    assert results[0]["generator_steps"] == results[1]["generator_steps"] > 0
    assert (tmp_path / "chief.keras").exists()
    assert not any(name.startswith("scratch") for name in os.listdir(tmp_path))
    assert int(kw.load_model(str(tmp_path / "chief.keras")).generator_optimizer.iterations) > 0


@pytest.fixture
def policy():
    def set_policy(name):
        keras.mixed_precision.set_global_policy(name)

    yield set_policy
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains_without_non_finite_values(policy, name):
    policy(name)
    # float16 runs emulated on CPU (about 0.1 s a critic update at 64 units and batch 256), so the
    # run is short: a loss scale that collapses halves on every step and fails within these 200.
    gan = kw.WGANGP(
        kw.architectures.mlp_generator(units=32),
        kw.architectures.mlp_critic(units=32),
        critic_steps=5,
        gp_weight=1.0,
    )
    gan.compile(keras.optimizers.Adam(3e-4, 0.5, 0.9), keras.optimizers.Adam(3e-4, 0.5, 0.9))
    assert gan.critic.layers[1].compute_dtype == name.split("_")[1]
    assert gan.critic.layers[-1].compute_dtype == "float32"  # the score is float32
    assert gan.critic(np.zeros((2, 2), "float32")).dtype == "float32"
    steps = 40
    history = gan.fit(kw.data.toy_samples("8gaussians", steps * 5 * 64, seed=0), batch_size=64, verbose=0)
    for values in history.history.values():
        assert np.isfinite(values).all()
    assert np.isfinite(gan.generate(100)).all()
    if name == "mixed_float16":
        for optimizer in (gan.critic_optimizer, gan.generator_optimizer):
            assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
            assert float(optimizer.dynamic_scale) >= 2.0**10  # far from the collapse to 1
        # Skipped (non-finite) steps do not count, so allow a few.
        assert int(gan.critic_optimizer.iterations) >= 5 * steps - 20
    else:
        assert not isinstance(gan.critic_optimizer, keras.optimizers.LossScaleOptimizer)
        assert int(gan.critic_optimizer.iterations) == 5 * steps


def test_penalty_is_float32_under_mixed_precision(policy):
    policy("mixed_float16")
    critic = kw.architectures.mlp_critic(units=8)
    norms = kw.penalties.gradient_norms(critic, tf.random.normal((4, 2)))
    assert norms.dtype == tf.float32
    assert kw.gradient_penalty(critic, tf.zeros((4, 2)), tf.ones((4, 2))).dtype == tf.float32


def test_jit_compile_auto_is_off_on_cpu_and_true_works():
    gan = tiny_gan(critic_steps=2)
    gan.compile()
    assert gan.jit_compile is False
    gan = tiny_gan(critic_steps=2)
    gan.compile(jit_compile=True)
    assert gan.jit_compile is True
    history = gan.fit(np.random.rand(128, 2).astype("float32"), batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(history.history["critic_loss"]).all()
    assert int(gan.critic_optimizer.iterations) == 4


def test_two_runs_are_identical_with_seed_and_op_determinism(op_determinism):
    data = kw.data.toy_samples("25gaussians", 512, seed=0)

    def run():
        keras.utils.set_random_seed(123)
        gan = tiny_gan(critic_steps=3)
        gan.compile()
        gan.fit(data, batch_size=32, epochs=2, verbose=0)
        return gan.get_weights()

    for a, b in zip(run(), run(), strict=True):
        np.testing.assert_array_equal(a, b)
