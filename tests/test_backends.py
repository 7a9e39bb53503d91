"""The backend-agnostic tests (marker `backends`) again under JAX and PyTorch.

Each backend runs in a child process, since Keras fixes its backend at
import. Tests that need TensorFlow skip themselves there.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_backend_agnostic_tests_pass_on(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed: pip install '.[{backend}]'")
    env = dict(os.environ, KERAS_BACKEND=backend)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-m",
            "backends and not one_backend",
            "-n",
            "0",  # one process: the parent's workers already fill the cores
            "-p",
            "no:cacheprovider",
            HERE,
        ],  # fmt: skip
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, f"{backend}: {summary}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert " passed" in summary, summary
