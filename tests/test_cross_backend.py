"""`.keras` files move between backends: every ordered pair of TensorFlow,
JAX and PyTorch, with weights, optimizer state and samples compared."""

import importlib.util
import json
import os
import subprocess
import sys

import keras
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
BACKENDS = ["tensorflow"] + [b for b in ("jax", "torch") if importlib.util.find_spec(b) is not None]


def worker(backend, command, folder):
    result = subprocess.run(
        [sys.executable, os.path.join(HERE, "cross_backend_worker.py"), command, str(folder)],
        env=dict(os.environ, KERAS_BACKEND=backend),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{backend} {command}:\n{result.stderr[-4000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.skipif(len(BACKENDS) < 3, reason="needs jax and torch: pip install '.[jax,torch]'")
def test_keras_files_load_under_every_backend(tmp_path):
    import cross_backend_worker as here  # this process's backend saves and checks in process

    first, last = [backend for backend in BACKENDS if backend != keras.backend.backend()]
    here.save(str(tmp_path))
    worker(first, "save", tmp_path)
    reports = {last: worker(last, "save,check", tmp_path)}  # three processes, not six
    reports[first] = worker(first, "check", tmp_path)
    reports[keras.backend.backend()] = here.check(str(tmp_path))
    assert sorted(reports) == sorted(BACKENDS)
    for target, report in reports.items():
        assert sorted(report) == sorted(BACKENDS), report
        for source, found in report.items():
            pair = f"{source} -> {target}"
            assert found["weights"] == 0.0, (pair, found)
            assert found["optimizer"] == 0.0, (pair, found)
            assert found["optimizer_variables"] == found["expected_optimizer_variables"], (pair, found)
            # Same weights and the same latents on every backend: float-level agreement.
            assert found["samples"] < 1e-5, (pair, found)
            # 192 examples in groups of 2 x 32: 6 critic updates were saved,
            # and one more epoch on the loaded state makes 12.
            assert found["iterations_after_resume"] == 12, (pair, found)


@pytest.mark.slow
@pytest.mark.skipif("jax" not in BACKENDS, reason="needs jax: pip install '.[jax]'")
def test_jax_data_parallel_step_equals_the_single_device_step():
    result = subprocess.run(
        [sys.executable, os.path.join(HERE, "data_parallel_worker.py")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    single, parallel = found["logs"]
    assert found["devices"] == 2 and parallel["variable_devices"] == 2 and single["variable_devices"] == 1
    assert single["moved"] > 1e-5  # the step trained (Adam at 1e-4 moves weights about 1e-4)
    assert found["max_weight_difference"] < 1e-6, found
    for name in ("critic_loss", "generator_loss", "gradient_penalty"):
        assert parallel[name] == pytest.approx(single[name], rel=1e-5), (name, found)
