"""The critic-overfitting watch (r_v) and ADA steered by it, on the active backend.

Marked `backends`: `test_backends.py` runs this module under JAX and PyTorch as well.
"""

import keras
import numpy as np
import pytest

import keras_wgangp as kw
from keras_wgangp import augment
from keras_wgangp.callbacks import CriticOverfitting
from keras_wgangp.overfitting import critic_scores, overfit_ratio

pytestmark = pytest.mark.backends
ops = keras.ops


def to_numpy(x):
    return np.asarray(ops.convert_to_numpy(x))


def linear_gan(fake_point=(-2.0, 5.0), **kwargs):
    # G(z) = fake_point for every z; D(x) = x₀.
    constant = keras.initializers.Constant
    generator = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(2, kernel_initializer="zeros", bias_initializer=constant(fake_point)),
        ]
    )
    critic = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(1, kernel_initializer=constant([[1.0], [0.0]]))]
    )
    return kw.GAN(generator, critic, loss="wasserstein", penalty="gp", seed=0, **kwargs)


def test_overfit_ratio_is_the_closed_form_shift_and_scale_invariant_and_never_nan():
    train, validation, fake = [2.0, 2.0], [1.0, 1.0], [-2.0, -2.0]
    assert overfit_ratio(train, validation, fake) == pytest.approx(0.25)  # (2 − 1) / (2 + 2)
    shifted = [[7.0 * s - 3.0 for s in scores] for scores in (train, validation, fake)]
    assert overfit_ratio(*shifted) == pytest.approx(0.25)
    assert overfit_ratio(train, train, fake) == 0.0  # unseen reals scored like training ones
    assert overfit_ratio(train, fake, fake) == pytest.approx(1.0)  # ... like fakes
    value = overfit_ratio([1.0, 1.0], [0.0, 0.0], [1.0, 1.0])  # fakes as high as the training images
    assert np.isfinite(value) and value > 0
    with pytest.raises(ValueError, match="at least one score"):
        overfit_ratio([], [1.0], [1.0])


def test_critic_overfitting_measures_a_linear_critic_exactly():
    gan = linear_gan()
    gan.compile()
    train = np.array([[2.0, 9.0], [2.0, -9.0], [2.0, 0.0], [2.0, 1.0]], "float32")  # D = 2
    validation = np.array([[1.0, 3.0], [1.0, 4.0]], "float32")  # D = 1
    watch = CriticOverfitting(validation, train, num_images=3)
    watch.set_model(gan)
    values = watch.measure()
    assert values["critic_real_train"] == pytest.approx(2.0)
    assert values["critic_real_validation"] == pytest.approx(1.0)
    assert values["critic_fake"] == pytest.approx(-2.0)
    assert values["overfit_rv"] == pytest.approx(0.25)
    assert len(watch.train[0]) == 3 and len(watch.validation[0]) == 2  # up to num_images each
    np.testing.assert_allclose(critic_scores(gan, train), [2.0] * 4)


def test_critic_overfitting_writes_logs_under_fit_and_skipped_epochs_cost_nothing():
    gan = kw.WGANGP(
        kw.architectures.mlp_generator(units=8, depth=1), kw.architectures.mlp_critic(units=8, depth=1)
    )
    gan.compile()
    data = kw.data.toy_samples("8gaussians", 320, seed=0)
    watch = CriticOverfitting(data[:64], data[64:], every_n_epochs=2, num_images=32)
    history = gan.fit(data[64:], epochs=4, verbose=0, callbacks=[watch]).history
    assert watch.record["epoch"] == [2, 4] and len(history["overfit_rv"]) == 2
    assert all(np.isfinite(history[name]).all() for name in ("overfit_rv", "critic_real_validation"))
    with pytest.raises(ValueError, match="every_n_epochs"):
        CriticOverfitting(data, data, every_n_epochs=0)
    with pytest.raises(ValueError, match="equal length"):
        CriticOverfitting((data, np.zeros(3)), data)


def test_ada_validation_statistic_moves_p_by_the_sign_of_the_measured_rv():
    ada = augment.ADA(statistic="validation", adjust_every=1, speed_images=100)
    assert ada.target == 0.3 and ada.needs_validation
    ada.build()
    ones = ops.ones(10)
    # Before any measurement r_v is the target: p holds.
    assert float(to_numpy(ada.after_critic_update(ones, ones)["augment_p"])) == 0.0
    ada.observe_overfitting(0.9)  # above 0.3: +10/100 per update of 10 images, whatever the scores say
    for expected in (0.1, 0.2):
        assert float(to_numpy(ada.after_critic_update(-ones, ones)["augment_p"])) == pytest.approx(expected)
    ada.observe_overfitting(0.1)  # below: down again
    assert float(to_numpy(ada.after_critic_update(ones, -ones)["augment_p"])) == pytest.approx(0.1)
    config = ada.get_config()
    assert config["statistic"] == "validation" and config["target"] == 0.3
    assert augment.ADA(statistic="pair").target == 0.6 and not augment.ADA().needs_validation
    with pytest.raises(ValueError, match='"real", "pair" or "validation"'):
        augment.ADA(statistic="train")


def test_ada_validation_needs_the_watch_steers_p_under_fit_and_saves_rv(tmp_path):
    # Tiny dense networks on 4x4 images: ADA needs images, not convolutions (quick to compile on JAX).
    layers = keras.layers
    generator = keras.Sequential(
        [keras.Input((4,)), layers.Dense(16, activation="tanh"), layers.Reshape((4, 4, 1))]
    )
    critic = keras.Sequential([keras.Input((4, 4, 1)), layers.Flatten(), layers.Dense(8, activation="relu"),
                               layers.Dense(1)])  # fmt: skip
    ada = augment.ADA(statistic="validation", adjust_every=1, speed_images=64)
    gan = kw.GAN(generator, critic, loss="wasserstein", penalty="gp", seed=0, augment=ada)
    gan.compile()
    real = np.random.default_rng(0).uniform(-1, 1, (48, 4, 4, 1)).astype("float32")
    before = [to_numpy(v) for v in gan.critic.trainable_variables]
    with pytest.raises(ValueError, match="CriticOverfitting"):
        gan.fit(real, batch_size=8, verbose=0)
    assert all(
        np.array_equal(b, to_numpy(v)) for b, v in zip(before, gan.critic.trainable_variables, strict=True)
    )

    class Overfit(CriticOverfitting):  # a critic that always looks overfitted: r_v = 1 > 0.3
        def measure(self):
            return {**super().measure(), "overfit_rv": 1.0}

    watch = Overfit(real[:8], real[8:], every_n_steps=1)
    history = gan.fit(real[8:], batch_size=8, epochs=2, verbose=0, callbacks=[watch]).history
    # From the first measurement on (after step 1, mid-epoch), every critic update raises p by 8/64,
    # on every backend (`Callback.model` syncs JAX's trainer state): the first epoch logs the mean
    # of 0, 1/8, 2/8, 3/8 and 4/8.
    assert history["augment_p"][0] == pytest.approx(0.25)
    assert history["augment_p"][-1] > history["augment_p"][0]
    assert float(to_numpy(gan.augment.overfit_rv)) == 1.0
    path = str(tmp_path / "ada_validation.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.augment.statistic == "validation"
    assert float(to_numpy(loaded.augment.p)) == float(to_numpy(gan.augment.p))
    assert float(to_numpy(loaded.augment.overfit_rv)) == 1.0


def test_a_step_measurement_at_the_end_of_an_epoch_is_not_taken_twice():
    A = kw.architectures
    gan = kw.WGANGP(A.mlp_generator(units=8, depth=1), A.mlp_critic(units=8, depth=1), critic_steps=1)
    gan.compile()
    data = kw.data.toy_samples("8gaussians", 320, seed=0)  # 256 examples: 4 steps of 64 per epoch
    watch = CriticOverfitting(data[:64], data[64:], num_images=32, every_n_steps=2)
    history = gan.fit(data[64:], epochs=2, verbose=0, callbacks=[watch]).history
    assert watch.record["step"] == [2, 4, 6, 8] and len(history["overfit_rv"]) == 2
