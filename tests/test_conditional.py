"""Conditional GANs (labels, projection/concat critics, ACGAN) and InfoGAN codes."""

import math
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_wgangp as kw
from keras_wgangp import codes
from keras_wgangp.data import toy_modes

A = kw.architectures
K = 8


def labelled_toys(n, seed=0):
    x = kw.data.toy_samples("8gaussians", n, seed=seed)
    centres, _ = toy_modes("8gaussians")
    y = np.argmin(((x[:, None] - centres[None]) ** 2).sum(-1), axis=1).astype("int32")
    return x, y


def conditional_gan(cls=kw.WGANGP, units=16, **kwargs):
    generator = A.mlp_generator(units=units, num_classes=K)
    critic = A.mlp_critic(units=units, num_classes=K, **kwargs.pop("critic", {}))
    return cls(generator, critic, num_classes=K, seed=0, **kwargs)


def weights(gan):
    return [w.copy() for w in gan.generator.get_weights() + gan.critic.get_weights()]


# ----------------------------------------------------------- validation
def bad_fit_cases():
    x, y = labelled_toys(64)
    return {
        "missing labels": ((x,), {}, ValueError, "needs labels"),
        "float labels": ((x, y.astype("float32")), {}, TypeError, "integer class ids"),
        "label too large": ((x, np.where(y == 0, K, y)), {}, ValueError, r"outside \[0, 8\)"),
        "negative label": ((x, np.where(y == 0, -1, y)), {}, ValueError, r"outside \[0, 8\)"),
        "length mismatch": ((x, y[:-3]), {}, ValueError, "64 examples but 61 labels"),
        "dataset without labels": (
            (tf.data.Dataset.from_tensor_slices(x).batch(16),),
            {},
            ValueError,
            "needs labels",
        ),
        "dataset with float labels": (
            (tf.data.Dataset.from_tensor_slices((x, y.astype("float32"))).batch(16),),
            {},
            TypeError,
            "integer class ids",
        ),
        "dataset with a bad first label": (
            (tf.data.Dataset.from_tensor_slices((x, y + K)).batch(16),),
            {},
            ValueError,
            "outside",
        ),
    }


@pytest.mark.parametrize("case", list(bad_fit_cases()))
def test_bad_labels_raise_before_any_weight_changes(case):
    args, kwargs, error, match = bad_fit_cases()[case]
    gan = conditional_gan()
    gan.compile()
    before = weights(gan)
    with pytest.raises(error, match=match):
        gan.fit(*args, batch_size=16, epochs=1, verbose=0, **kwargs)
    for old, new in zip(before, weights(gan), strict=True):
        np.testing.assert_array_equal(old, new)
    assert int(gan.critic_optimizer.iterations.numpy()) == 0


@pytest.mark.parametrize("wrong", ["generator", "critic"])
def test_networks_that_do_not_take_labels_are_named(wrong):
    x, y = labelled_toys(64)
    generator = A.mlp_generator(units=8, num_classes=None if wrong == "generator" else K)
    critic = A.mlp_critic(units=8, num_classes=None if wrong == "critic" else K)
    gan = kw.WGANGP(generator, critic, num_classes=K, latent_dim=2)
    gan.compile()
    before = weights(gan)
    with pytest.raises(ValueError, match=rf"The {wrong} failed on \[(z|x), labels\].*num_classes"):
        gan.fit(x, y, batch_size=16, verbose=0)
    for old, new in zip(before, weights(gan), strict=True):
        np.testing.assert_array_equal(old, new)


def test_later_bad_label_in_a_dataset_stops_before_its_step():
    x, y = labelled_toys(64)
    y[40] = K  # in the third batch of 16; the first is checked up front
    gan = conditional_gan(critic_steps=1)
    gan.compile()
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_classes=8"):
        gan.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(16), epochs=1, verbose=0)
    assert int(gan.critic_optimizer.iterations.numpy()) <= 2


def test_option_errors():
    g, c = A.mlp_generator(units=8), A.mlp_critic(units=8)
    with pytest.raises(ValueError, match="num_classes"):
        kw.GAN(g, c, num_classes=1)
    with pytest.raises(ValueError, match="num_classes"):
        A.mlp_critic(units=8, num_classes=2.0)
    # NumPy integers are accepted alike by the model and the architectures.
    three = np.int64(3)
    assert kw.GAN(A.mlp_generator(units=8, num_classes=three), A.mlp_critic(units=8, num_classes=three),
                  num_classes=three).num_classes == 3  # fmt: skip
    with pytest.raises(ValueError, match="needs labels"):
        kw.GAN(g, c, classifier_weight=1.0)
    with pytest.raises(ValueError, match="need num_classes"):
        A.mlp_critic(units=8, auxiliary_classifier=True)
    with pytest.raises(ValueError, match="conditioning"):
        A.mlp_critic(units=8, num_classes=3, conditioning="film")
    gan = conditional_gan()
    with pytest.raises(ValueError, match=r"outside \[0, 8\)"):
        gan.generate(3, labels=8)
    with pytest.raises(TypeError, match="int class ids"):
        gan.generate(3, labels=1.5)
    with pytest.raises(ValueError, match="not conditional|conditional model"):
        kw.WGANGP(g, c).generate(3, labels=1)


def test_critic_output_count_is_checked():
    x, y = labelled_toys(32)
    gan = conditional_gan(critic={"auxiliary_classifier": True})  # two outputs, no classifier_weight
    gan.compile()
    with pytest.raises(ValueError, match=r"returns 2 output\(s\).*expects 1"):
        gan.fit(x, y, batch_size=16, verbose=0)


# ------------------------------------------------------- labels in the step
def label_scaled_critic():
    """D(x, y) = (y + 1)·(w·x): ‖∇ₓD‖ = (y + 1)·‖w‖ depends on the label."""
    x_in = keras.Input((2,))
    y_in = keras.Input((), dtype="int32")
    linear = keras.layers.Dense(
        1, use_bias=False, kernel_initializer=keras.initializers.Constant([[0.6], [0.8]])
    )
    scale = keras.layers.Embedding(K, 1)
    out = keras.layers.Multiply()([linear(x_in), scale(y_in)])
    scale.set_weights([np.arange(1, K + 1, dtype="float32")[:, None]])
    return keras.Model([x_in, y_in], out)


@pytest.mark.parametrize(
    "penalty, metric, expected",
    [
        (kw.penalties.GradientPenalty(weight=1.0), "gradient_norm", lambda s: np.mean(s)),
        (kw.penalties.GradientPenalty(weight=1.0), "gradient_penalty", lambda s: np.mean((s - 1) ** 2)),
        (kw.penalties.DRAGAN(weight=1.0), "dragan_gradient_norm", lambda s: np.mean(s)),
        (kw.penalties.R1(gamma=1.0), "r1", lambda s: np.mean(s**2)),
        (kw.penalties.R2(gamma=1.0), "r2", lambda s: np.mean(s**2)),
    ],
)
def test_penalties_see_the_real_labels(penalty, metric, expected):
    # ‖w‖ = 1, so the gradient norm at any point of example i is y_i + 1.
    # With the labels 0..7 the mean norm is 4.5; with the labels lost it would be 1.
    x, _ = labelled_toys(16)
    y = np.arange(16, dtype="int32") % K
    gan = kw.GAN(
        A.mlp_generator(units=8, num_classes=K), label_scaled_critic(), num_classes=K, penalty=penalty
    )
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    history = gan.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history[metric][0], expected(y + 1.0), rtol=1e-5)


def test_each_critic_update_generates_with_its_real_labels():
    seen = []

    class Recording(kw.GAN):
        def critic_loss(self, batch):
            seen.append(batch.labels.numpy().copy())
            return super().critic_loss(batch)

    x, y = labelled_toys(48)
    gan = Recording(
        A.mlp_generator(units=8, num_classes=K),
        A.mlp_critic(units=8, num_classes=K),
        num_classes=K,
        critic_steps=3,
    )
    gan.compile(run_eagerly=True)
    gan.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_array_equal(np.concatenate(seen), y)


# ------------------------------------------------------ exact ACGAN / InfoGAN
def constant_head_critic(num_classes=None, q=None, logits=None, info=None):
    """Score 0, and heads whose outputs ignore x: fixed class logits / Q outputs."""
    x_in = keras.Input((2,))
    inputs = [x_in, keras.Input((), dtype="int32")] if num_classes else x_in
    zeros = keras.initializers.Zeros()
    outputs = [keras.layers.Dense(1, kernel_initializer=zeros)(x_in)]
    if logits is not None:
        outputs.append(
            keras.layers.Dense(
                len(logits), kernel_initializer=zeros, bias_initializer=keras.initializers.Constant(logits)
            )(x_in)
        )
    if info is not None:
        outputs.append(
            keras.layers.Dense(
                len(info), kernel_initializer=zeros, bias_initializer=keras.initializers.Constant(info)
            )(x_in)
        )
    return keras.Model(inputs, outputs)


def test_acgan_terms_match_hand_computed_cross_entropy():
    logits = np.log(np.array([0.5, 0.25, 0.125, 0.125]))
    x, _ = labelled_toys(8)
    y = np.array([0, 0, 1, 2, 3, 0, 1, 0], "int32")
    gan = kw.GAN(
        A.mlp_generator(units=8, num_classes=4),
        constant_head_critic(num_classes=4, logits=logits),
        num_classes=4,
        classifier_weight=0.5,
        critic_steps=1,
    )
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    logs = gan.fit(x, y, batch_size=8, epochs=1, verbose=0).history
    cross_entropy = -np.mean(logits[y])  # the same constant logits for real and fake
    np.testing.assert_allclose(logs["classifier_loss"][0], 2 * cross_entropy, rtol=1e-6)
    np.testing.assert_allclose(logs["classifier_accuracy"][0], np.mean(y == 0), rtol=1e-6)
    np.testing.assert_allclose(logs["critic_loss"][0], 0.5 * 2 * cross_entropy, rtol=1e-6)  # scores are 0
    np.testing.assert_allclose(logs["generator_loss"][0], 0.5 * cross_entropy, rtol=1e-6)


def test_infogan_term_matches_hand_computed_likelihood():
    q = np.array([0.0, 0.0, 0.0, 0.0, 0.3])  # uniform logits over 4, then μ = 0.3
    gan = kw.GAN(
        A.mlp_generator(latent_dim=3 + 5, units=8),
        constant_head_critic(info=q),
        latent_codes=[codes.Categorical(4), codes.Uniform(1)],
        info_weight=2.0,
        critic_steps=1,
    )
    assert gan.latent_dim == 3
    gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0))
    recorded = []
    original = codes.mutual_information_penalty

    def spy(latent_codes, q_out, columns):
        recorded.append(columns)
        return original(latent_codes, q_out, columns)

    codes.mutual_information_penalty = spy
    try:
        gan.compile(keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.0), run_eagerly=True)
        logs = gan.fit(labelled_toys(8)[0], batch_size=8, epochs=1, verbose=0).history
    finally:
        codes.mutual_information_penalty = original
    c = recorded[-1].numpy()[:, 4]  # the generator update's continuous code
    assert np.all(np.abs(c) <= 1) and recorded[-1].numpy()[:, :4].sum(axis=1).tolist() == [1.0] * 8
    expected = math.log(4) + np.mean(0.5 * (c - 0.3) ** 2) + 0.5 * math.log(2 * math.pi)
    np.testing.assert_allclose(logs["info_loss"][0], expected, rtol=1e-5)
    np.testing.assert_allclose(logs["generator_loss"][0], 2.0 * expected, rtol=1e-5)


def test_mutual_information_penalty_reference_values():
    # Categorical: cross-entropy; Uniform: −log N(c; μ, 1), averaged (TF-GAN's convention).
    q = np.array([[2.0, 0.0, 0.5, -1.0], [0.0, 1.0, 0.0, 1.0]], "float32")
    columns = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 1.0]], "float32")
    cat = -np.mean([2.0 - np.log(np.exp(2.0) + 1.0), 1.0 - np.log(1.0 + np.e)])
    gauss = np.mean(0.5 * np.array([[-0.5, 1.0], [1.0, 0.0]]) ** 2) + 0.5 * np.log(2 * np.pi)
    value = codes.mutual_information_penalty([codes.Categorical(2), codes.Uniform(2)], q, columns)
    np.testing.assert_allclose(float(value), cat + gauss, rtol=1e-6)


def test_codes_drawn_from_uniform():
    u = np.array([[0.0, 0.49, 0.999], [0.5, 0.5, 0.5]], "float32")
    out = codes.from_uniform([codes.Categorical(2), codes.Uniform(2, low=0.0, high=2.0)], u).numpy()
    np.testing.assert_allclose(out, [[1, 0, 0.98, 1.998], [0, 1, 1.0, 1.0]], rtol=1e-6)


# ------------------------------------------------------- generate / save / export
def test_generate_labels_and_codes():
    gan = conditional_gan()
    a = gan.generate(16, seed=3)  # labels 0..7 in turn
    b = gan.generate(16, labels=np.arange(16) % K, seed=3)
    np.testing.assert_array_equal(a, b)
    same_z = gan.generate(8, labels=2, seed=3)
    assert not np.allclose(same_z, a[:8])

    info = kw.GAN(
        A.mlp_generator(latent_dim=2 + 3, units=8),
        A.mlp_critic(units=8, q_outputs=3),
        latent_codes=[codes.Categorical(3)],
    )
    fixed = info.generate(6, seed=0, codes=[1])
    manual = info.generator(np.concatenate([keras.random.normal((6, 2), seed=0), np.eye(3)[[1] * 6]], 1))
    np.testing.assert_allclose(fixed, manual.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="one entry per latent code"):
        info.generate(2, codes=[1, 2])
    with pytest.raises(ValueError, match="Categorical"):
        info.generate(2, codes=[3])


@pytest.mark.parametrize("kind", ["projection", "concat", "acgan", "infogan"])
def test_round_trips_keep_conditional_mode(tmp_path, kind):
    x, y = labelled_toys(64)
    extra = {}
    if kind == "infogan":
        gan = kw.WGANGP(
            A.mlp_generator(latent_dim=2 + 4, units=8),
            A.mlp_critic(units=8, q_outputs=4),
            latent_codes=[codes.Categorical(3), codes.Uniform(1)],
            info_weight=0.5,
            seed=0,
            ema_decay=0.9,
        )
        fit_args = (x,)
    else:
        critic = {"conditioning": "concat"} if kind == "concat" else {}
        if kind == "acgan":
            critic, extra = {"auxiliary_classifier": True}, {"classifier_weight": 0.7}
        gan = conditional_gan(critic=critic, ema_decay=0.9, **extra)
        fit_args = (x, y)
    gan.compile()
    gan.fit(*fit_args, batch_size=16, epochs=1, verbose=0)
    labels = None if kind == "infogan" else 5
    expected = gan.generate(7, seed=11, labels=labels)

    path = str(tmp_path / "model.keras")
    gan.save(path)
    loaded = kw.load_model(path)
    assert (loaded.num_classes, loaded.classifier_weight, loaded.latent_codes, loaded.info_weight) == (
        gan.num_classes,
        gan.classifier_weight,
        gan.latent_codes,
        gan.info_weight,
    )
    np.testing.assert_allclose(loaded.generate(7, seed=11, labels=labels), expected, rtol=1e-6)
    loaded.fit(*fit_args, batch_size=16, epochs=1, verbose=0)  # trains on after reload
    assert int(loaded.critic_optimizer.iterations.numpy()) == 2 * int(gan.critic_optimizer.iterations.numpy())
    if kind in ("concat", "acgan"):
        return  # the export holds only the generator, the same labelled one as projection's

    export = str(tmp_path / "saved")
    gan.export(export, verbose=False)
    served = tf.saved_model.load(export)
    args = [tf.constant(7), tf.constant(11, tf.int64)]
    if labels is not None:
        args.append(tf.constant(labels))
        assert int(served.num_classes()) == K
        z = keras.random.normal((3, 2), seed=1)
        direct = gan.sampling_generator([z, tf.constant([0, 1, 7])], training=False)
        np.testing.assert_allclose(served.serve(z, tf.constant([0, 1, 7])).numpy(), direct.numpy(), rtol=1e-5)
        for bad in (K, -1):  # the SavedModel checks labels itself (GPU lookups would not)
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"class id in \[0, 8\)"):
                served.sample(tf.constant(2), tf.constant(0, tf.int64), tf.constant(bad))
            with pytest.raises(tf.errors.InvalidArgumentError, match="class id"):
                served.serve(z, tf.constant([0, bad, 1]))
    np.testing.assert_allclose(served.sample(*args).numpy(), expected, rtol=1e-5, atol=1e-6)
    sampler = kw.saving.load_sampler(export)
    np.testing.assert_allclose(sampler(7, 11, labels), expected, rtol=1e-5, atol=1e-6)


def test_sample_cli_label_from_both_formats(tmp_path):
    from keras_wgangp.cli import main

    gan = conditional_gan()
    gan.compile()
    gan.save(str(tmp_path / "m.keras"))
    gan.export(str(tmp_path / "saved"), verbose=False)
    outputs = []
    for model in ("m.keras", "saved"):
        npy = str(tmp_path / f"{model}.npy")
        argv = ["sample", "--model", str(tmp_path / model), "--num", "5", "--label", "6", "--npy", npy]
        assert main(argv + ["--output", str(tmp_path / f"{model}.png")]) == 0
        outputs.append(np.load(npy))
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs[0], gan.generate(5, labels=6, seed=0), rtol=1e-5, atol=1e-6)
    assert (
        main(
            ["sample", "--model", str(tmp_path / "saved"), "--num", "5", "--output", str(tmp_path / "x.png")]
        )
        == 1
    )


# ------------------------------------------------------------ callbacks
def test_sample_images_one_row_per_class_and_code_sweep(tmp_path):
    gan = kw.GAN(
        A.dcgan_generator(4, (8, 8, 1), filters=4, num_classes=3),
        A.dcgan_critic((8, 8, 1), filters=4, num_classes=3),
        num_classes=3,
        latent_dim=4,
    )
    callback = kw.callbacks.SampleImages(str(tmp_path), num_images=7)
    callback.set_model(gan)
    cols, arguments = callback._layout()
    assert cols == 2 and arguments["labels"].tolist() == [0, 0, 1, 1, 2, 2]
    np.testing.assert_array_equal(arguments["latents"][:2], arguments["latents"][2:4])  # same z per column
    callback.on_epoch_end(0)
    assert os.path.exists(callback.paths[0])

    info = kw.GAN(
        A.dcgan_generator(4 + 4, (8, 8, 1), filters=4),
        A.dcgan_critic((8, 8, 1), filters=4, q_outputs=4),
        latent_codes=[codes.Categorical(3), codes.Uniform(1)],
    )
    sweep = kw.callbacks.SampleImages(str(tmp_path / "sweep"), num_images=9, sweep_code=1, sweep_steps=3)
    sweep.set_model(info)
    cols, arguments = sweep._layout()
    assert cols == 3
    np.testing.assert_allclose(arguments["codes"][1][:, 0], [-1, 0, 1] * 3)
    assert len(set(arguments["codes"][0][:3].tolist())) == 1  # the other code is fixed along a row
    sweep.on_epoch_end(0)
    assert os.path.exists(sweep.paths[0])
    wrong_dim = kw.callbacks.SampleImages(str(tmp_path / "wrong"), sweep_code=1, sweep_dim=1)
    wrong_dim.set_model(info)
    with pytest.raises(ValueError, match=r"sweep_dim=1 but latent code 1 has 1 dimension"):
        wrong_dim._layout()


# ------------------------------------------------------------ learning
@pytest.mark.slow
def test_conditioning_learns_each_label_to_its_mode():
    # 600 generator steps (about 15 s on 2 CPU cores). Chance is 1/8.
    keras.utils.set_random_seed(0)
    x, y = labelled_toys(600 * 5 * 128, seed=1)
    gan = kw.WGANGP(
        A.mlp_generator(units=64, num_classes=K),
        A.mlp_critic(units=64, num_classes=K),
        num_classes=K,
        gp_weight=1.0,
        seed=0,
    )
    adam = lambda: keras.optimizers.Adam(1e-3, beta_1=0.5, beta_2=0.9)  # noqa: E731
    gan.compile(adam(), adam())
    gan.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(128), epochs=1, verbose=0)
    centres, _ = toy_modes("8gaussians")
    per_label = []
    for label in range(K):
        samples = gan.generate(200, labels=label, seed=label)
        nearest = np.argmin(((samples[:, None] - centres[None]) ** 2).sum(-1), axis=1)
        per_label.append(np.mean(nearest == label))
    assert min(per_label) >= 0.8, per_label


def test_cli_trains_and_evaluates_a_conditional_toy_model(tmp_path, capsys):
    import json

    from keras_wgangp.cli import main

    out = tmp_path / "run"
    argv = ["train", "--conditional", "--steps", "10", "--epochs", "1", "--width", "16"]
    assert main(argv + ["--output", str(out), "--verbose", "0"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_classes"] == 8 and summary["conditioning"] == "projection"
    assert len(summary["conditional_accuracy"]["per_class"]) == 8
    assert os.path.exists(summary["files"]["critic_contour"])
    capsys.readouterr()
    for model in ("model.keras", "saved_model"):
        argv = ["evaluate", "--model", str(out / model), "--dataset", "8gaussians", "--num", "400", "--json"]
        assert main(argv) == 0
        result = json.loads(capsys.readouterr().out)
        assert len(result["conditional_accuracy_per_class"]) == 8
        assert 0.0 <= result["conditional_accuracy"] <= 1.0
