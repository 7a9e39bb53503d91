import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Cached classifiers go to a per-run folder, never the user's cache.
os.environ.setdefault("KERAS_WGANGP_CACHE", tempfile.mkdtemp(prefix="keras_wgangp_test_cache_"))

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)
    yield
