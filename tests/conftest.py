import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Cached classifiers go to a per-run folder, never the user's cache.
os.environ.setdefault("KERAS_WGANGP_CACHE", tempfile.mkdtemp(prefix="keras_wgangp_test_cache_"))
# The suite runs float32 on every machine kind, so its figures do not depend on the CPU's bfloat16
# units; the precision tests ask for bfloat16 themselves.
os.environ.setdefault("KERAS_WGANGP_PRECISION", "float32")

import keras  # noqa: E402
import pytest  # noqa: E402


def pytest_collection_modifyitems(items):
    # The slow tests first (a stable sort keeps their order): the two xdist workers then share
    # the long ones and finish together, instead of one running a long test alone at the end.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    yield


@pytest.fixture
def op_determinism():
    """Turns TF op determinism on for one test only.

    It is process-wide, and while it is on Keras silently refuses
    jit_compile=True, so it must not leak into later tests.
    """
    import tensorflow as tf
    from tensorflow.python.framework import config

    tf.config.experimental.enable_op_determinism()
    yield
    config.disable_op_determinism()
