"""PacGAN packing (GAN(pack=m)): the layout, penalties in packed space, and bad input.

Marked `backends`: test_backends.py runs this module under JAX and PyTorch too.
"""

import keras
import numpy as np
import pytest
from helpers import weights

import keras_wgangp as kw
from keras_wgangp.conditioning import pack as _pack

pytestmark = pytest.mark.backends
DATA = kw.data.toy_samples("8gaussians", 256, seed=0)


def test_pack_joins_consecutive_examples_along_the_last_axis():
    vectors = np.arange(12, dtype="float32").reshape(6, 2)
    np.testing.assert_array_equal(np.asarray(_pack(vectors, 3)), [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
    images = np.random.default_rng(0).normal(size=(4, 3, 3, 2)).astype("float32")
    packed = np.asarray(_pack(images, 2))
    assert packed.shape == (2, 3, 3, 4)
    # Channels of example 2i, then of example 2i + 1, at every pixel.
    np.testing.assert_array_equal(packed[1, ..., :2], images[2])
    np.testing.assert_array_equal(packed[1, ..., 2:], images[3])
    # A remainder that fills no whole pack is dropped; pack=1 is the identity.
    assert np.asarray(_pack(vectors[:5], 2)).shape == (2, 4)
    assert _pack(vectors, 1) is vectors


def linear_packed_gan(w, pack, **kwargs):
    critic = keras.Sequential([keras.Input((2 * pack,)), keras.layers.Dense(1, use_bias=False)])
    critic.layers[0].kernel.assign(np.reshape(w, (-1, 1)).astype("float32"))
    gan = kw.WGANGP(kw.architectures.mlp_generator(units=8, depth=1), critic, pack=pack, seed=0, **kwargs)
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    return gan


@pytest.mark.parametrize("pack", [2, 4])
def test_gradient_penalty_is_taken_in_packed_space(pack):
    # For D(p) = w·p the gradient at every packed interpolate is w, so the norm
    # is ‖w‖ over all m·d inputs; per-example blocks would give ‖w_block‖.
    w = np.arange(1, 2 * pack + 1, dtype="float32") / 4.0
    gan = linear_packed_gan(w, pack, critic_steps=1, gp_weight=10.0)
    history = gan.fit(DATA, batch_size=32 * pack, epochs=1, verbose=0).history
    norm = float(np.linalg.norm(w))
    np.testing.assert_allclose(history["gradient_norm"][-1], norm, rtol=1e-5)
    np.testing.assert_allclose(history["gradient_penalty"][-1], (norm - 1.0) ** 2, rtol=1e-5)


def test_wasserstein_estimate_of_a_linear_packed_critic():
    # Real rows are all r and the generator always returns b, so packs are
    # [r, r] and [b, b], never mixed: E D(real) − E D(fake) = w·[r, r] − w·[b, b].
    w = np.array([1.0, 2.0, 3.0, 4.0], "float32")
    r, b = np.array([0.5, 0.25], "float32"), np.array([1.0, -1.0], "float32")
    critic = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, use_bias=False)])
    critic.layers[0].kernel.assign(w.reshape(-1, 1))
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, kernel_initializer="zeros")])
    generator.layers[0].bias.assign(b)
    gan = kw.WGANGP(generator, critic, pack=2, critic_steps=1, gp_weight=0.0, seed=0)
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    history = gan.fit(np.tile(r, (64, 1)), batch_size=64, epochs=1, verbose=0).history
    expected = w @ np.concatenate([r, r]) - w @ np.concatenate([b, b])  # 3.5 - (-2) = 5.5
    np.testing.assert_allclose(history["wasserstein_estimate"][-1], expected, rtol=1e-6)


def test_packed_gan_trains_round_trips_and_generates_single_examples(tmp_path):
    gan = kw.GAN(
        kw.architectures.mlp_generator(units=16, depth=2),
        kw.architectures.mlp_critic(input_dim=4, units=16, depth=2),
        loss="non_saturating",
        penalty="r1",
        pack=2,
        seed=0,
    )
    gan.compile()
    gan.fit(DATA, batch_size=64, epochs=1, verbose=0)
    assert gan.generate(5, seed=0).shape == (5, 2)
    path = str(tmp_path / "packed.keras")
    gan.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.pack == 2
    np.testing.assert_allclose(loaded.generate(5, seed=0), gan.generate(5, seed=0), atol=1e-6)


def test_packed_image_critics_take_the_joined_channels():
    # PacGAN joins m images along the channels: an RGB critic with pack 2 sees 6 channels.
    for critic in (kw.architectures.dcgan_critic((8, 8, 6), filters=4),
                   kw.architectures.resnet_critic((8, 8, 2), dim=4)):  # fmt: skip
        assert critic.output_shape == (None, 1)
    gan = kw.GAN(kw.architectures.dcgan_generator(8, (8, 8, 3), filters=4), kw.architectures.dcgan_critic(
        (8, 8, 6), filters=4), pack=2, critic_steps=1, seed=0)  # fmt: skip
    gan.compile()
    images = np.random.default_rng(0).uniform(-1, 1, (8, 8, 8, 3)).astype("float32")
    history = gan.fit(images, batch_size=8, epochs=1, verbose=0).history
    assert np.isfinite(history["critic_loss"][-1]) and gan.generate(3, seed=0).shape == (3, 8, 8, 3)
    with pytest.raises(ValueError, match="1 or 3 channels"):
        kw.architectures.dcgan_generator(8, (8, 8, 6))


def test_partial_last_group_is_padded_to_whole_packs():
    # 250 examples, 2 critic steps of 64: the last group's slices are rounded
    # up to whole packs, so every update scores full packs and stays finite.
    gan = linear_packed_gan(np.ones(6, "float32"), 3, critic_steps=2)
    history = gan.fit(DATA[:250], batch_size=63, epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in history.values())


@pytest.mark.parametrize("pack", [0, -1, 1.5, True])
def test_pack_must_be_a_positive_integer(pack):
    with pytest.raises(ValueError, match="`pack` must be an integer >= 1"):
        kw.WGANGP(kw.architectures.mlp_generator(), kw.architectures.mlp_critic(), pack=pack)


def test_pack_rejects_per_example_labels_and_codes():
    with pytest.raises(ValueError, match="cannot be combined with num_classes"):
        kw.WGANGP(
            kw.architectures.mlp_generator(num_classes=3),
            kw.architectures.mlp_critic(num_classes=3),
            num_classes=3,
            pack=2,
        )


def test_bad_packed_input_is_named_before_any_weight_changes():
    gan = kw.WGANGP(
        kw.architectures.mlp_generator(units=8, depth=1),
        kw.architectures.mlp_critic(units=8, depth=1),  # built for 2-D, not 4-D
        pack=2,
    )
    gan.compile()
    before = weights(gan)
    with pytest.raises(ValueError, match=r"mlp_critic\(input_dim=4\)"):
        gan.fit(DATA, batch_size=64, verbose=0)
    with pytest.raises(ValueError, match="multiple of pack=2"):
        gan.fit(DATA, batch_size=63, verbose=0)
    for a, b in zip(before, weights(gan), strict=True):
        np.testing.assert_array_equal(a, b)
