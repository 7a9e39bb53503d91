"""The docstring examples of the installed package run and give what they show."""

import doctest
import importlib
import pkgutil

import pytest

import keras_wgangp

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(keras_wgangp.__path__, "keras_wgangp.")
    # Private modules; __main__ runs the CLI; each backend's step runs only under that backend.
    if not name.rsplit(".", 1)[1].startswith("_") and not name.endswith("_step")
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=FLAGS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"
    assert result.attempted > 0 or name == "keras_wgangp.cli", f"{name} has no docstring examples"
