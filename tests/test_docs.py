"""The docs site builds: every page, link and docstring, offline, in strict mode."""

import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None, reason="needs the docs tools: pip install '.[docs]'"
)
def test_mkdocs_build_is_strictly_clean(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    # MkDocs' own messages; TensorFlow's absl preamble (imported by the hooks) is not one.
    warnings = [line for line in result.stderr.splitlines() if line.startswith(("WARNING -", "ERROR -"))]
    assert result.returncode == 0 and not warnings, "\n".join(warnings) or result.stderr[-3000:]
    # The API reference renders the docstrings with their examples as code.
    api = (tmp_path / "site" / "api" / "models" / "index.html").read_text()
    assert "critic_loss" in api and "WGANGP" in api
    examples = api.split('doc-section-title">Examples:')
    assert len(examples) > 1 and all('<span class="gp">&gt;&gt;&gt; </span>' in e[:800] for e in examples[1:])
