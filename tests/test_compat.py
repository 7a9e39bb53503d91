"""Files saved by earlier releases keep loading (fixtures/make_fixture.py writes them).

Marked `backends`: test_backends.py loads them under JAX and PyTorch too.
"""

import glob
import json
import os

import numpy as np
import pytest

import keras_wgangp as kw

pytestmark = pytest.mark.backends

FIXTURES = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "*.keras")))


def test_there_are_fixtures_for_each_release():
    names = {os.path.basename(path) for path in FIXTURES}
    assert {
        "wgangp-0.1.0.keras",
        "gan-0.2.0.keras",
        f"wgangp-{kw.__version__}.keras",
        f"gan-{kw.__version__}.keras",
        f"cgan-{kw.__version__}.keras",
        f"pacgan-{kw.__version__}.keras",
        f"augmented-{kw.__version__}.keras",
    } <= names


@pytest.mark.parametrize("path", FIXTURES, ids=os.path.basename)
def test_release_fixture_loads_with_its_samples_and_optimizer_state(path):
    with open(path[: -len(".keras")] + ".json") as f:
        expected = json.load(f)
    gan = kw.load_model(path)
    assert type(gan) is getattr(kw, expected.get("class", "WGANGP"))
    np.testing.assert_allclose(gan.generate(8, seed=0), expected["generate_8_seed_0"], rtol=1e-5, atol=1e-6)
    assert int(np.asarray(gan.generator_optimizer.iterations)) == expected["generator_iterations"]
    assert int(np.asarray(gan.critic_optimizer.iterations)) == expected["critic_iterations"]
    learning_rate = float(np.asarray(gan.critic_optimizer.learning_rate))
    assert learning_rate == pytest.approx(expected["critic_learning_rate"])
    assert np.asarray(gan.seed_generator.state).tolist() == expected["seed_state"]
    if "loss" in expected:  # GAN fixtures, from 0.2.0
        # Same types and saved options (later releases may add options with defaults).
        assert len(gan.penalties) == len(expected["penalties"])
        objects, saved_objects = (
            [gan.adversarial_loss, *gan.penalties],
            [expected["loss"], *expected["penalties"]],
        )
        for obj, saved in zip(objects, saved_objects, strict=True):
            assert type(obj).__name__ == saved["class"]
            assert {k: obj.get_config()[k] for k in saved["config"]} == saved["config"]
        assert [float(np.asarray(v)) for v in gan.loss_variables] == pytest.approx(expected["loss_variables"])
    if "augment" in expected:  # augmented fixtures, from 0.6.0
        assert {"class": type(gan.augment).__name__, "config": gan.augment.get_config()} == expected[
            "augment"
        ]
        assert [float(np.asarray(v)) for v in gan.augment_variables] == pytest.approx(
            expected["augment_variables"]
        )
    if "pack" in expected:  # PacGAN fixtures, from 0.4.0
        assert gan.pack == expected["pack"]
    if "num_classes" in expected:  # conditional fixtures, from 0.3.0
        assert (gan.num_classes, gan.classifier_weight, gan.info_weight) == (
            expected["num_classes"],
            expected["classifier_weight"],
            expected["info_weight"],
        )
        assert [{"class": type(c).__name__, "config": c.get_config()} for c in gan.latent_codes] == expected[
            "latent_codes"
        ]
        np.testing.assert_allclose(
            gan.generate(8, labels=2, seed=0), expected["generate_8_label_2_seed_0"], rtol=1e-5, atol=1e-6
        )
