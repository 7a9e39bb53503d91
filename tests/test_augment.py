"""Differentiable augmentation (DiffAugment, ADA) and scheduled penalty weights.

Marked `backends`: `test_backends.py` runs this module under JAX and
PyTorch as well as here under TensorFlow.
"""

import keras
import numpy as np
import pytest

import keras_wgangp as kw

pytestmark = pytest.mark.backends
ops = keras.ops
augment = kw.augment


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def test_transforms_keep_shapes_and_draw_per_image():
    ones = ops.ones((16, 8, 8, 3))
    # Translation by up to int(8/8 + 0.5) = 1 pixel a side, zero padding: 64, 56 or 49 ones remain.
    shifted = to_numpy(augment.DiffAugment("translation")(ones, seed=0))
    assert shifted.shape == (16, 8, 8, 3) and set(np.unique(shifted)) <= {0.0, 1.0}
    kept = shifted[..., 0].sum(axis=(1, 2))
    assert set(kept) <= {64.0, 56.0, 49.0} and len(set(kept)) > 1
    # Cutout zeroes one a×b rectangle of the 4×4 window clipped to the image (a, b in 2..4).
    cut = to_numpy(augment.DiffAugment("cutout")(ones, seed=1))[..., 0]
    for image in cut:
        rows, cols = np.nonzero(image == 0.0)
        height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
        assert 2 <= height <= 4 and 2 <= width <= 4 and len(rows) == height * width
    # Colour on a constant grey image: saturation and contrast keep it, brightness adds u − 0.5.
    grey = ops.full((16, 4, 4, 1), 0.25)
    shifted = to_numpy(augment.DiffAugment("color")(grey, seed=2)) - 0.25
    assert np.allclose(shifted, shifted[:, :1, :1, :], atol=1e-6)
    assert np.all(np.abs(shifted) <= 0.5) and np.ptp(shifted[:, 0, 0, 0]) > 0.1
    # Contrast and saturation on a colour image keep each image's mean.
    image = keras.random.uniform((4, 4, 4, 3), -1.0, 1.0, seed=3)
    out = augment.Augmentation("color")._transforms[2](image, 4, 4)
    assert np.allclose(
        to_numpy(ops.mean(out, axis=(1, 2, 3))), to_numpy(ops.mean(image, axis=(1, 2, 3))), atol=1e-5
    )


@pytest.mark.one_backend
def test_bad_policies_names_and_vector_data_are_rejected():
    with pytest.raises(ValueError, match="use a comma-separated list of color, translation, cutout"):
        augment.DiffAugment("color,flip")
    with pytest.raises(ValueError, match="valid names: ada, diffaugment"):
        augment.get("diffaug")
    gan = kw.GAN(
        kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8), augment="diffaugment"
    )
    gan.compile()
    with pytest.raises(ValueError, match=r"transforms images .* use augment=None for vector data"):
        gan.fit(kw.data.toy_samples("8gaussians", 32, seed=0), batch_size=16, verbose=0)
    assert int(to_numpy(gan.critic_optimizer.iterations)) == 0


class PlusOne(augment.Augmentation):
    """T(x) = x + 1: a deterministic augmentation for closed forms."""

    def __call__(self, images, seed=None):
        return images + 1.0


class HalfSquare(keras.layers.Layer):
    """D(x) = a·½‖x‖² with a = 1: ∇D(x) = x."""

    def build(self, shape):
        self.a = self.add_weight(shape=(), initializer="ones")

    def call(self, x):
        return ops.reshape(self.a * 0.5 * ops.sum(ops.square(x), axis=(1, 2, 3)), (-1, 1))


def closed_form_gan(penalty, **kwargs):
    generator = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(64, kernel_initializer="zeros"),
            keras.layers.Reshape((8, 8, 1)),
        ]
    )  # G(z) = 0
    critic = keras.Sequential([keras.Input((8, 8, 1)), HalfSquare()])
    gan = kw.GAN(generator, critic, loss="wasserstein", penalty=penalty, critic_steps=2, seed=0, **kwargs)
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    return gan


def test_critic_and_penalties_see_the_augmented_points():
    # Real 1, fake 0, T(x) = x + 1: D(T(r)) = ½·64·4 = 128, D(T(f)) = 32. R1 at T(r):
    # ‖T(r)‖² = 256; R2 at T(f): 64; with γ = 2 the critic loss is 32 − 128 + 256 + 64 = 224
    # (R1 is lazy, every=2: ×2 on one update of two, the same mean). The generator's loss is −D(T(f)) = −32.
    gan = closed_form_gan(
        [kw.penalties.R1(gamma=2.0, every=2), kw.penalties.R2(gamma=2.0)], augment=PlusOne()
    )
    logs = gan.fit(np.ones((8, 8, 8, 1), "float32"), batch_size=4, verbose=0).history
    assert logs["r1"][0] == pytest.approx(256.0) and logs["r2"][0] == pytest.approx(64.0)
    assert logs["critic_loss"][0] == pytest.approx(224.0) and logs["generator_loss"][0] == pytest.approx(
        -32.0
    )
    # The gradient penalty at ε·T(r) + (1 − ε)·T(f) = 1 for real = fake = 0: ‖∇D‖ = ‖1‖ = 8.
    gan = closed_form_gan("gp", augment=PlusOne())
    logs = gan.fit(np.zeros((8, 8, 8, 1), "float32"), batch_size=4, verbose=0).history
    assert logs["gradient_norm"][0] == pytest.approx(8.0) and logs["gradient_penalty"][0] == pytest.approx(
        49.0
    )


def test_scheduled_gamma_is_evaluated_at_the_critic_iteration_and_logged():
    # γ = 10 on critic update 0, 2 from update 1 on: over 4 updates mean γ = 4 and the
    # critic loss −96 + γ/2·256 averages −96 + 128·4 = 416.
    gamma = keras.optimizers.schedules.PiecewiseConstantDecay([0], [10.0, 2.0])
    gan = closed_form_gan(kw.penalties.R1(gamma=gamma), augment=PlusOne())
    logs = gan.fit(np.ones((16, 8, 8, 1), "float32"), batch_size=4, verbose=0).history
    assert logs["r1_gamma"][0] == pytest.approx(4.0) and logs["critic_loss"][0] == pytest.approx(416.0)
    penalty = kw.penalties.get(keras.saving.serialize_keras_object(kw.penalties.R1(gamma=gamma)))
    assert isinstance(penalty.gamma, keras.optimizers.schedules.PiecewiseConstantDecay)
    assert penalty.metric_names == ("r1", "r1_gamma") and kw.penalties.R1().metric_names == ("r1",)
    with pytest.raises(TypeError, match="a number or a keras.optimizers.schedules.LearningRateSchedule"):
        kw.penalties.R2(gamma="high")


def test_ada_controller_moves_p_by_the_sign_of_r_t():
    ada = augment.ADA(target=0.6, adjust_every=2, speed_images=100)
    ada.build()
    # Update 1: not due. Update 2: r_t = (4 + 2)/8 = 0.75 > 0.6, so p += 8/100.
    assert float(ada.after_critic_update(ops.ones(4), ops.zeros(4))["augment_p"]) == 0.0
    assert float(
        ada.after_critic_update(ops.array([1.0, 1.0, 1.0, -1.0]), ops.zeros(4))["augment_p"]
    ) == pytest.approx(0.08)
    # r_t = 0 < 0.6 twice: p = 0.08 − 0.08 = 0, then clipped at 0.
    for _ in range(2):
        ada.after_critic_update(ops.array([1.0, -1.0]), ops.zeros(2))
        p = ada.after_critic_update(ops.array([1.0, -1.0]), ops.zeros(2))["augment_p"]
    assert float(p) == 0.0
    # The pair statistic counts sign(D(r) − D(f)): all real scores −1 but above the fakes.
    pair = augment.ADA(adjust_every=1, speed_images=10, statistic="pair")
    pair.build()
    assert float(pair.after_critic_update(-ops.ones(2), -3 * ops.ones(2))["augment_p"]) == pytest.approx(0.2)
    # p = 0 leaves images untouched; p = 1 changes them.
    images = keras.random.uniform((4, 8, 8, 1), -1.0, 1.0, seed=0)
    assert np.array_equal(to_numpy(augment.ADA()(images, seed=1)), to_numpy(images))
    assert not np.allclose(to_numpy(augment.ADA(initial_p=1.0)(images, seed=1)), to_numpy(images))


def test_augmented_gan_trains_saves_p_and_never_augments_samples(tmp_path):
    A = kw.architectures
    # target −1: p rises by 8/64 each update unless all 8 pairs are ordered wrongly.
    ada = augment.ADA(target=-1.0, adjust_every=1, speed_images=64, statistic="pair")
    gan = kw.GAN(A.dcgan_generator(8, (8, 8, 1), filters=4), A.dcgan_critic((8, 8, 1), filters=4),
                 loss="rpgan", penalty=["r1", "r2"], seed=0, augment=ada)  # fmt: skip
    gan.compile()
    before = [to_numpy(v) for v in gan.generator.trainable_variables]
    real = np.random.default_rng(0).uniform(-1, 1, (32, 8, 8, 1)).astype("float32")
    history = gan.fit(real, batch_size=8, verbose=0).history
    assert all(np.isfinite(values[-1]) for values in history.values()), history
    assert 0.0 < history["augment_p"][0] <= 0.3125  # at most the mean of 1/8, 2/8, 3/8, 4/8
    after = [to_numpy(v) for v in gan.generator.trainable_variables]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))  # through T
    path = str(tmp_path / "ada.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.augment == gan.augment and float(to_numpy(loaded.augment.p)) == float(
        to_numpy(gan.augment.p)
    )
    assert np.array_equal(to_numpy(loaded.generate(3, seed=1)), to_numpy(gan.generate(3, seed=1)))
    plain = kw.GAN(gan.generator, gan.critic, loss="rpgan", seed=0)
    assert np.array_equal(to_numpy(plain.generate(3, seed=1)), to_numpy(gan.generate(3, seed=1)))
