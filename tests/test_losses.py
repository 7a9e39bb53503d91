import keras
import numpy as np
import pytest

from keras_wgangp import losses

pytestmark = pytest.mark.backends  # test_backends.py runs this module under JAX and PyTorch too
ops = keras.ops


def dtype(x):
    return keras.backend.standardize_dtype(x.dtype)


def test_critic_and_generator_losses_exact():
    real = ops.array([[1.0], [3.0]])
    fake = ops.array([[0.5], [-0.5], [1.5]])
    assert float(losses.critic_loss(real, fake)) == np.float32(0.5 - 2.0)
    assert float(losses.generator_loss(fake)) == np.float32(-0.5)
    assert float(losses.wasserstein_estimate(real, fake)) == np.float32(1.5)


def test_losses_reduce_in_float32():
    scores = ops.array([60000.0, 60000.0], "float16")
    # float16 would overflow while summing (max 65504); float32 does not.
    assert float(losses.generator_loss(scores)) == -60000.0
    assert dtype(losses.generator_loss(scores)) == "float32"


# TF-GAN's test logits; the expected values below are its published unit-test values.
REAL = [-5.0, 1.4, 12.5, 2.7]
FAKE = [10.0, 4.4, -5.5, 3.6]
SOFTPLUS_MINUS_ONE = float(np.log1p(np.exp(-1.0)))


def softplus(x):
    return np.logaddexp(0.0, np.asarray(x, np.float64))


@pytest.mark.parametrize(
    "loss, critic, generator",
    [
        (losses.Wasserstein(), 0.225, -3.125),
        (losses.Hinge(), 6.75, -3.125),
        (losses.LeastSquares(), 41.73375, 17.69625),
        # TF-GAN's modified (non-saturating) loss; its critic default smooths labels by 0.25.
        (losses.NonSaturating(label_smoothing=0.25), 6.19637, 1.38582),
        # TF-GAN's minimax generator loss also scores a logit of 1 as "real": softplus(−1) more.
        (losses.Minimax(label_smoothing=0.25), 6.19637, -4.82408 + SOFTPLUS_MINUS_ONE),
        # RpGAN, paired example by example: mean softplus(f − r) and mean softplus(r − f).
        (losses.RelativisticPairing(), 4.822435, 4.597435),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, losses.AdversarialLoss) else None,
)
def test_losses_match_published_values(loss, critic, generator):
    for shape in ((4,), (4, 1)):
        real, fake = ops.reshape(REAL, shape), ops.reshape(FAKE, shape)
        assert float(loss.critic_loss(real, fake)) == pytest.approx(critic, abs=1e-5)
        assert float(loss.generator_loss(fake, real)) == pytest.approx(generator, abs=1e-5)


def test_began_on_the_same_scores_as_reconstruction_errors():
    # Scores are reconstruction errors L(x); with k = 0 the critic loss is mean L(r), then
    # k = clip(λ_k·(γ·mean L(r) − mean L(f)), 0, 1) = 0.001·(0.5·2.9 − 3.125) → clipped to 0.
    loss = losses.BEGAN()
    for shape in ((4,), (4, 1)):
        real, fake = ops.reshape(REAL, shape), ops.reshape(FAKE, shape)
        assert float(loss.critic_loss(real, fake)) == pytest.approx(2.9)
        assert float(loss.generator_loss(fake, real)) == pytest.approx(3.125)
    logs = loss.after_critic_update(ops.array(FAKE), ops.array(REAL))  # 0.001·(0.5·3.125 − 2.9) < 0
    assert float(logs["k"]) == 0.0
    assert float(logs["convergence"]) == pytest.approx(3.125 + abs(0.5 * 3.125 - 2.9))
    logs = loss.after_critic_update(ops.array([4.0]), ops.array([1.0]))  # 0.001·(2 − 1)
    assert float(logs["k"]) == pytest.approx(0.001)
    assert float(loss.critic_loss([4.0], [1.0])) == pytest.approx(4.0 - 0.001)


def test_non_saturating_and_relativistic_closed_forms():
    r, f = np.asarray(REAL, np.float64), np.asarray(FAKE, np.float64)
    ns = losses.NonSaturating()
    assert float(ns.critic_loss(REAL, FAKE)) == pytest.approx(
        softplus(-r).mean() + softplus(f).mean(), rel=1e-6
    )
    ra = losses.RelativisticAverage()
    critic = softplus(-(r - f.mean())).mean() + softplus(f - r.mean()).mean()
    generator = softplus(-(f - r.mean())).mean() + softplus(r - f.mean()).mean()
    assert float(ra.critic_loss(REAL, FAKE)) == pytest.approx(critic, rel=1e-6)
    assert float(ra.generator_loss(FAKE, REAL)) == pytest.approx(generator, rel=1e-6)
    with pytest.raises(ValueError, match="needs `real_scores`"):
        ra.generator_loss(FAKE)
    rp = losses.get("rpgan")
    assert isinstance(rp, losses.RelativisticPairing) and rp == losses.get("relativistic_pairing")
    assert float(rp.critic_loss(REAL, FAKE)) == pytest.approx(softplus(f - r).mean(), rel=1e-6)
    with pytest.raises(ValueError, match="needs `real_scores`"):
        rp.generator_loss(FAKE)


@pytest.mark.parametrize("name", ["wasserstein", "hinge", "non_saturating", "minimax", "least_squares",
                                  "relativistic_average", "relativistic_pairing", "began"])  # fmt: skip
def test_every_loss_reduces_to_float32_and_round_trips(name):
    loss = losses.get(name)
    scores = ops.array([[60000.0], [60000.0]], "float16")
    for value in (loss.critic_loss(scores, -scores), loss.generator_loss(-scores, scores)):
        assert dtype(value) == "float32" and value.shape == ()
        assert np.isfinite(float(value))
    restored = losses.get(keras.saving.serialize_keras_object(loss))
    assert restored == loss and restored is not loss


def test_options_round_trip_and_bad_names_are_rejected():
    loss = losses.LeastSquares(real_label=0.9, fake_label=-1.0)
    assert losses.get(keras.saving.serialize_keras_object(loss)).get_config() == {
        "real_label": 0.9,
        "fake_label": -1.0,
    }
    with pytest.raises(ValueError, match="valid names: began, hinge, least_squares"):
        losses.get("wgan")
    with pytest.raises(TypeError, match="must be a name"):
        losses.get(3)
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.NonSaturating(label_smoothing=1.5)
