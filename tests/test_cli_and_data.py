"""The offline main job, the toy data, mode coverage and the plots."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import tiny_gan

import keras_wgangp as kw
from keras_wgangp.callbacks import CriticContour
from keras_wgangp.cli import main
from keras_wgangp.evaluation import mode_coverage
from keras_wgangp.plots import plot_history


@pytest.mark.parametrize("name", kw.data.TOY_DATASETS)
def test_toy_samples_shape_dtype_and_seed(name):
    a = kw.data.toy_samples(name, 500, seed=3)
    assert a.shape == (500, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a, kw.data.toy_samples(name, 500, seed=3))
    assert not np.array_equal(a, kw.data.toy_samples(name, 500, seed=4))


def test_toy_gaussian_geometry():
    centres, std = kw.data.toy_modes("8gaussians")
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 2 / 1.414, rtol=1e-6)
    assert std == pytest.approx(0.02 / 1.414)
    centres, std = kw.data.toy_modes("25gaussians")
    assert sorted(set(np.round(centres[:, 0] * 2.828, 5))) == [-4, -2, 0, 2, 4]
    assert std == pytest.approx(0.05 / 2.828)
    x = kw.data.toy_samples("8gaussians", 20000, seed=0)
    # Each point is within a few σ of a centre; σ per axis as specified.
    offsets = x - centres_nearest(x, kw.data.toy_modes("8gaussians")[0])
    assert offsets.std() == pytest.approx(0.02 / 1.414, rel=0.05)


def centres_nearest(x, centres):
    return centres[np.linalg.norm(x[:, None] - centres[None], axis=-1).argmin(axis=1)]


def test_swissroll_scale():
    x = kw.data.toy_samples("swissroll", 5000, seed=0)
    radius = np.linalg.norm(x, axis=1) * 7.5
    # t ranges over [1.5π, 4.5π]; noise 0.25 blurs the ends slightly.
    assert 1.5 * np.pi - 1.5 < radius.min() and radius.max() < 4.5 * np.pi + 1.5


def test_unknown_toy_name():
    with pytest.raises(ValueError, match="8gaussians"):
        kw.data.toy_samples("9gaussians", 10)


@pytest.mark.parametrize("name,modes", [("8gaussians", 8), ("25gaussians", 25)])
def test_mode_coverage_real_and_collapsed(name, modes):
    real = kw.data.toy_samples(name, 5000, seed=0)
    result = mode_coverage(real, name)
    assert result["modes_covered"] == modes == result["num_modes"]
    assert result["high_quality_fraction"] > 0.98  # 3σ in 2-D keeps ≈ 98.9 %
    collapsed = np.repeat(real[:1], 1000, axis=0)
    assert mode_coverage(collapsed, name)["modes_covered"] == 1
    far = real + 10.0
    assert mode_coverage(far, name)["high_quality_fraction"] == 0.0


def test_plots_are_written(tmp_path):
    gan = tiny_gan(critic_steps=1)
    gan.compile()
    real = kw.data.toy_samples("8gaussians", 256, seed=0)
    contour = CriticContour(str(tmp_path / "c"), real, every_n_epochs=2, num_generated=100, grid_size=20)
    history = gan.fit(real, batch_size=64, epochs=4, callbacks=[contour], verbose=0)
    assert [os.path.basename(p) for p in contour.paths] == ["critic_epoch_0002.png", "critic_epoch_0004.png"]
    path = plot_history(history, str(tmp_path / "h.png"))
    for p in contour.paths + [path]:
        with open(p, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_train_command_writes_everything(tmp_path):
    out = tmp_path / "run"
    code = main(
        [
            "train",
            "--steps",
            "30",
            "--epochs",
            "2",
            "--width",
            "16",
            "--batch-size",
            "32",
            "--output",
            str(out),
            "--verbose",
            "0",
        ]
    )
    assert code == 0
    for name in (
        "critic_contour.png",
        "losses.png",
        "model.keras",
        "summary.json",
        "contours/critic_epoch_0001.png",
        "contours/critic_epoch_0002.png",
    ):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generator_steps"] == 30 and summary["critic_steps"] == 30  # 1 critic step by default
    assert summary["mode_coverage"]["num_modes"] == 8
    assert set(summary["final_metrics"]) >= {"critic_loss", "generator_loss", "gradient_penalty"}


def test_train_rejects_bad_flags(capsys):
    assert main(["train", "--steps", "0"]) == 2
    assert "--steps" in capsys.readouterr().err
    assert main(["train", "--steps", "7", "--epochs", "2"]) == 2
    assert "not a multiple of --epochs 2" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, epochs",
    [
        (["--steps", "2000"], 10),  # the toy default of 10 epochs divides 2000
        (["--steps", "7"], 7),  # fewer steps than default epochs: one step per epoch
        (["--steps", "45"], 9),  # the most epochs up to 10 that divide 45
        (["--steps", "50", "--dataset", "digits"], 10),  # digits default to 20 epochs
        (["--steps", "30", "--epochs", "3"], 3),  # given epochs are kept
    ],
)
def test_steps_without_epochs_pick_a_divisor(argv, epochs):
    from keras_wgangp.cli import _build_parser, _resolve

    args = _build_parser().parse_args(["train", *argv])
    assert _resolve(args) is None
    assert args.epochs == epochs and args.steps % args.epochs == 0


@pytest.mark.parametrize(
    "argv, objective",
    [
        ([], ("wasserstein", "gradient_penalty", 1.0)),
        (["--dataset", "swissroll"], ("non_saturating", "r1", 1.0)),
        (["--dataset", "25gaussians"], ("non_saturating", "r1", 1.0)),
        (["--dataset", "swissroll", "--loss", "wasserstein", "--penalty", "gradient_penalty"],
         ("wasserstein", "gradient_penalty", 1.0)),
        (["--dataset", "digits"], ("wasserstein", "gradient_penalty", 10.0)),
    ],
)  # fmt: skip
def test_objective_defaults_per_dataset(argv, objective):
    # WGAN-GP everywhere but swissroll and 25gaussians, where non-saturating
    # + R1 was the measured better recipe; explicit flags win.
    from keras_wgangp.cli import _build_parser, _resolve

    args = _build_parser().parse_args(["train", *argv])
    assert _resolve(args) is None
    assert (args.loss, args.penalty, args.gp_weight) == objective


def test_help_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "keras_wgangp", "train", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0
    for flag in (
        "--dataset",
        "--steps",
        "--batch-size",
        "--critic-steps",
        "--gp-weight",
        "--seed",
        "--output",
    ):
        assert flag in result.stdout


@pytest.mark.parametrize(
    ("loss", "penalty", "metric", "penalty_type"),
    [
        ("hinge", "r1", "r1", "R1"),
        ("began", "none", "k", None),
        ("wasserstein", "dragan", "dragan", "DRAGAN"),
    ],
)
def test_train_command_takes_a_loss_and_a_penalty(tmp_path, loss, penalty, metric, penalty_type):
    out = tmp_path / "run"
    args = ["train", "--steps", "4", "--epochs", "1", "--width", "16", "--batch-size", "32"]
    args += ["--loss", loss, "--penalty", penalty, "--gp-weight", "2.5", "--ema-decay", "0.9"]
    assert main(args + ["--output", str(out), "--verbose", "0"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert metric in summary["final_metrics"]
    gan = kw.load_model(str(out / "model.keras"))
    assert type(gan) is kw.GAN and gan.adversarial_loss.name == loss
    assert gan.ema_decay == 0.9  # --ema-decay reaches the model
    if penalty_type is None:
        assert gan.penalties == []
    else:
        assert type(gan.penalties[0]).__name__ == penalty_type
        assert 2.5 in gan.penalties[0].get_config().values()


def test_default_train_command_builds_the_toy_recipe(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--steps", "2", "--epochs", "1", "--width", "8", "--batch-size", "16"]
    assert main(args + ["--output", str(out), "--verbose", "0"]) == 0
    gan = kw.load_model(str(out / "model.keras"))
    assert type(gan) is kw.WGANGP and gan.gp_weight == 1.0 and gan.ema_decay == 0.999
    assert gan.critic_steps == 1
    # TTUR with linear decay, reloaded with the model: 2x the generator's rate, over 2 updates.
    for optimizer, rate in ((gan.generator_optimizer, 1e-3), (gan.critic_optimizer, 2e-3)):
        schedule = optimizer._learning_rate
        assert isinstance(schedule, keras.optimizers.schedules.PolynomialDecay)
        assert schedule.initial_learning_rate == pytest.approx(rate) and schedule.decay_steps == 2
    assert json.loads((out / "summary.json").read_text())["objective"] == "WGAN-GP"


def test_train_command_packs_the_critic(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--steps", "2", "--epochs", "1", "--width", "8", "--batch-size", "16", "--pack", "4"]
    assert main(args + ["--output", str(out), "--verbose", "0"]) == 0
    gan = kw.load_model(str(out / "model.keras"))
    assert gan.pack == 4 and gan.critic.input_shape == (None, 8)  # 4 examples of 2-D
    assert json.loads((out / "summary.json").read_text())["settings"]["pack"] == 4
    assert main(["train", "--batch-size", "30", "--pack", "4"]) == 2
    assert "multiple of --pack 4" in capsys.readouterr().err
