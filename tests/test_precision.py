"""bfloat16 precision: what `auto` picks, the penalty's exact value under it, a digits run, and saving."""

import dataclasses
import json

import keras
import numpy as np
import pytest

import keras_wgangp as kw
from keras_wgangp import precision, recipes
from keras_wgangp.cli import main

# bfloat16 keeps 8 significant bits: rounding a value to it changes it by at most 2⁻⁸ of itself
# (round to nearest: 2⁻⁹; 2⁻⁸ leaves room for oneDNN's own rounding of the product).
BF16_RTOL = 2.0**-8


@pytest.mark.parametrize(
    "flags, backend, gpu, name",
    [
        ({"avx512f", "avx512_bf16"}, "tensorflow", False, "bfloat16"),
        ({"amx_bf16", "amx_tile"}, "tensorflow", False, "bfloat16"),
        ({"avx512f", "avx512_vnni"}, "tensorflow", False, "float32"),  # Ice Lake: emulated, slower
        ({"avx512_bf16"}, "tensorflow", True, "float32"),  # a GPU: auto keeps float32
        ({"avx512_bf16"}, "jax", False, "float32"),
    ],
)
def test_auto_picks_bfloat16_only_for_tensorflow_on_a_cpu_with_bf16_units(flags, backend, gpu, name):
    chosen = precision.resolve("auto", flags=flags, backend=backend, gpu=gpu)
    assert chosen.name == name and chosen.reason.startswith("auto: ")
    assert chosen.policy == {"float32": "float32", "bfloat16": "mixed_bfloat16"}[name]


def test_explicit_names_the_environment_and_bad_names(monkeypatch):
    assert str(precision.resolve("bfloat16")) == "bfloat16 (mixed_bfloat16; asked for)"
    monkeypatch.setenv(precision.ENVIRONMENT, "bfloat16")
    assert precision.resolve("auto").reason == f"auto: {precision.ENVIRONMENT}=bfloat16"
    assert precision.resolve("float32").name == "float32"  # an explicit name wins
    monkeypatch.setenv(precision.ENVIRONMENT, "fp8")
    with pytest.raises(ValueError, match=f"{precision.ENVIRONMENT} must be float32 or bfloat16"):
        precision.resolve("auto")
    with pytest.raises(ValueError, match="precision must be one of auto, float32, bfloat16, got 'half'"):
        precision.resolve("half")


def test_cpu_flags_reads_the_flags_line(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16\nbugs\t\t: spectre\n")
    assert precision.cpu_flags(str(info)) == {"fpu", "avx512f", "avx512_bf16"}


def test_use_restores_the_policy_after_an_error():
    with pytest.raises(RuntimeError), precision.use("bfloat16"):
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
        raise RuntimeError
    assert keras.mixed_precision.global_policy().name == "float32"


@pytest.mark.parametrize("exact", [True, False], ids=["bf16_exact_weights", "random_weights"])
def test_gradient_penalty_of_a_linear_critic_under_bfloat16(exact):
    # D(x) = w·x + b has ∇D = w at every point, so GP = λ (‖w‖ − 1)² exactly. Under bfloat16 the
    # critic multiplies in bfloat16, so ∇D is w rounded to bfloat16: each component within 2⁻⁸ of
    # itself, and ‖∇D‖ within 2⁻⁸·‖w‖ (the float32 sum of squares adds ~1e-7). Weights that
    # bfloat16 holds exactly give the closed form to float32 rounding.
    rng = np.random.default_rng(0)
    w = np.array([0.75, -0.5, 1.25, 0.375], "float32") if exact else rng.normal(size=4).astype("float32")
    with precision.use("bfloat16"):
        critic = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    assert critic.layers[0].compute_dtype == "bfloat16"
    critic.layers[0].set_weights([w[:, None], np.array([0.3], "float32")])
    real, fake = (rng.normal(size=(16, 4)).astype("float32") for _ in range(2))
    norms = kw.penalties.gradient_norms(critic, real)
    gp = 10.0 * kw.gradient_penalty(critic, real, fake, seed=0)  # λ = 10
    assert norms.dtype == "float32" and gp.dtype == "float32"
    n = float(np.linalg.norm(w))
    delta = 1e-6 * n if exact else BF16_RTOL * n
    np.testing.assert_allclose(keras.ops.convert_to_numpy(norms), n, atol=delta, rtol=0)
    # |(n ± δ − 1)² − (n − 1)²| ≤ 2|n − 1|·δ + δ².
    bound = 10.0 * (2 * abs(n - 1) * delta + delta**2)
    assert abs(float(gp) - 10.0 * (n - 1) ** 2) <= bound + 1e-6
    if not exact:  # the tolerance is not vacuous: bfloat16 did round these weights
        assert not np.allclose(keras.ops.convert_to_numpy(norms), n, atol=1e-6, rtol=0)


@pytest.fixture(scope="module")
def bf16_digits():
    """WGAN-GP (the digits recipe, width 16, batch 32) on 8×8 digits under bfloat16: 200 steps."""
    keras.utils.set_random_seed(0)
    steps, batch = 200, 32
    recipe = dataclasses.replace(recipes.get("digits"), steps=steps, width=16, batch_size=batch)
    images = kw.data.digits_split(8)[0]
    with precision.use("bfloat16"):
        gan = recipes.build_gan(recipe, (8, 8, 1), total_steps=steps, seed=0)
    rows = np.random.default_rng(0).integers(0, len(images), steps * recipe.critic_steps * batch)
    history = gan.fit(images[rows], batch_size=batch, epochs=4, verbose=0, shuffle=False)
    return gan, history.history


@pytest.mark.slow
def test_bfloat16_digits_run_holds_the_gradient_norm_at_one(bf16_digits):
    gan, history = bf16_digits
    assert gan.critic.layers[1].compute_dtype == "bfloat16"
    assert gan.critic.get_layer("score").compute_dtype == "float32"
    assert gan.generator.get_layer("tanh").compute_dtype == "float32"
    for values in history.values():
        assert np.isfinite(values).all()
    # The penalty pulls ‖∇D(x̂)‖ to 1; float32 ends this run at 1.014 as well.
    assert abs(history["gradient_norm"][-1] - 1.0) <= 0.05
    assert gan.generate(4, seed=0).dtype == np.float32


@pytest.mark.slow
def test_keras_file_saved_under_bfloat16_loads_under_float32_and_back(bf16_digits, tmp_path):
    gan, _ = bf16_digits
    expected = gan.generate(8, seed=3)
    gan.save(tmp_path / "bf16.keras")
    loaded = kw.load_model(tmp_path / "bf16.keras")  # the global policy is float32 here
    assert loaded.critic.layers[1].compute_dtype == "bfloat16"  # each layer keeps its saved policy
    np.testing.assert_array_equal(loaded.generate(8, seed=3), expected)
    assert int(loaded.critic_optimizer.iterations) == int(gan.critic_optimizer.iterations)
    with precision.use("float32"):
        plain = kw.WGANGP(kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8))
    plain.compile()
    with precision.use("bfloat16"):
        loaded = kw.load_model(_saved(plain, tmp_path / "plain.keras"))
    assert loaded.critic.layers[1].compute_dtype == "float32"
    np.testing.assert_array_equal(loaded.generate(5, seed=1), plain.generate(5, seed=1))


def _saved(model, path):
    model.save(path)
    return path


def test_command_line_says_which_precision_ran_and_why(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--steps", "4", "--epochs", "1", "--width", "8", "--batch-size", "16"]
    assert main([*args, "--output", str(out), "--verbose", "0", "--precision", "bfloat16"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "Precision: bfloat16 (mixed_bfloat16; asked for)"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["precision"] == {"name": "bfloat16", "policy": "mixed_bfloat16", "reason": "asked for"}
    assert kw.load_model(out / "model.keras").generator.layers[1].compute_dtype == "bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"  # the run leaves the policy as it was
    assert main([*args, "--output", str(out), "--precision", "half"]) == 2
    assert "--precision: invalid choice: 'half'" in capsys.readouterr().err
