"""Smoke runs of the benchmark scripts and the performance properties of train_step."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers import tiny_gan

import keras_wgangp as kw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_benchmark(name):
    """A benchmark script as a module, to run its main() in this process (no start-up cost)."""
    spec = importlib.util.spec_from_file_location(
        f"benchmark_{name}", os.path.join(ROOT, "benchmarks", f"{name}.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_quality_quick_covers_8gaussians(tmp_path):
    quality = load_benchmark("quality")
    assert quality.main(["--quick", "--datasets", "8gaussians", "--output", str(tmp_path)]) == 0
    rows = {
        row["method"]: row["runs"][0] for row in json.loads((tmp_path / "quality.json").read_text())["rows"]
    }
    assert rows["wgan-gp"]["modes_ema"] >= 6, rows["wgan-gp"]
    assert rows["wgan-gp"]["modes_ema"] > rows["wgan-clip"]["modes_ema"]
    assert abs(rows["wgan-gp"]["grad_norm"] - 1.0) < 0.3
    assert (tmp_path / "quality.md").read_text().count("| wgan-") == 2
    assert (tmp_path / "quality.png").exists()


@pytest.mark.slow
def test_speed_quick_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "speed.py"), "--workloads", "toy", "--repeats", "1",
         "--steps", "1", "--contestants", "ours,kerasio,bare,ours_lazy4,ours_bf16,ours_torch",
         "--no-memory"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("| ours |", "| kerasio |", "| bare |", "| ours_lazy4 |", "| ours_bf16 |"):
        assert name in result.stdout
    assert "bf16 flags:" in result.stdout  # the CPU is named beside the figures
    # The other backends run in child processes, when installed (ours_jax takes the same path).
    if importlib.util.find_spec("torch") is not None:
        assert "| ours_torch |" in result.stdout


@pytest.mark.slow
def test_limited_data_writes_its_table_and_panels(tmp_path):
    limited_data = load_benchmark("limited_data")
    argv = ["--methods", "r3gan", "--augments", "ada", "--fractions", "0.1", "--seeds", "1",
            "--critic-updates", "4", "--output", str(tmp_path)]  # fmt: skip
    assert limited_data.main(argv) == 0
    (run,) = json.loads((tmp_path / "limited_data.json").read_text())["runs"]
    assert run["images"] == 143 and np.isfinite(run["fid"]) and 0.0 <= run["augment_p"] <= 1.0
    assert "| r3gan | ada |" in (tmp_path / "limited_data.md").read_text()
    assert (tmp_path / "limited_data.png").exists()


@pytest.mark.slow
def test_profile_step_summarises_a_trace(tmp_path):
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "profile_step.py"), "ours", "--workload", "toy",
         "--steps", "1", "--logdir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    # The critic's matmuls appear in all three passes, the penalty's double backward included.
    for depth in (0, 1, 2):
        assert f"| critic | {depth} | " in result.stdout, result.stdout
    assert list(tmp_path.glob("**/*.xplane.pb"))


def test_recipes_runs_the_command_line_and_reports_missed_bars(tmp_path, capsys):
    # The quality bars of the default recipes live in benchmarks/recipes.py (minutes of training);
    # here its code path runs at 3 steps, where every run must miss its bars and say so.
    recipes = load_benchmark("recipes")
    argv = ["--datasets", "8gaussians,digits", "--steps", "3", "--output", str(tmp_path)]
    assert recipes.main(argv) == 1
    out, err = capsys.readouterr()
    assert "| 8gaussians | float32 | 0 | 3 |" in out and "| mode_coverage.modes_covered |" in out
    assert "| digits | float32 | 0 | 3 |" in out and "| fid |" in out
    assert "missed: digits seed 0: fid" in err
    toy, digits = json.loads((tmp_path / "recipes.json").read_text())
    # The defaults the bars were measured with.
    assert toy["settings"]["critic_steps"] == 1 and toy["settings"]["lr_schedule"] == "linear"
    assert toy["settings"]["ema_decay"] == digits["settings"]["ema_decay"] == 0.999
    cases = [(8, ">=", 8), (3.5, "<", 3.5), (1.19, "within 1 by", 0.2), (0.7, "within 1 by", 0.2),
             (0.05, "<=", 0.05)]  # fmt: skip
    assert [recipes.passes(*case) for case in cases] == [True, False, True, False, True]
    summary = {"fid": 3.0, "fid_real_train_vs_test": 2.0, "class_coverage": {"counts": [7, 93]}}
    assert recipes.lookup(summary, "fid_over_floor") == 1.5
    assert recipes.lookup(summary, "rarest_class_share") == 0.07
    with pytest.raises(SystemExit):
        recipes.main(["--datasets", "swissroll"])


class CountingWGANGP(kw.WGANGP):
    traces = 0

    def _train_step(self, data):
        CountingWGANGP.traces += 1  # Python runs only while tf.function traces
        return super()._train_step(data)


def test_no_retracing_across_epochs_or_partial_batches():
    CountingWGANGP.traces = 0
    gan = CountingWGANGP(
        kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8), critic_steps=2
    )
    gan.compile()
    # 100 = 3 full groups of 32 + a partial group of 4, every epoch.
    gan.fit(np.random.rand(100, 2).astype("float32"), batch_size=16, epochs=4, verbose=0)
    assert CountingWGANGP.traces <= 2  # the full-group trace, then one relaxed-shape trace
    gan.fit(np.random.rand(100, 2).astype("float32"), batch_size=16, epochs=2, verbose=0)
    assert CountingWGANGP.traces <= 2  # a second fit reuses the traced function


@pytest.mark.parametrize("steps_per_execution", [2, 3])
def test_steps_per_execution(steps_per_execution):
    gan = tiny_gan(critic_steps=2)
    gan.compile(steps_per_execution=steps_per_execution)
    history = gan.fit(np.random.rand(320, 2).astype("float32"), batch_size=16, epochs=2, verbose=0)
    assert int(gan.generator_optimizer.iterations) == 20
    assert int(gan.critic_optimizer.iterations) == 40
    assert np.isfinite(history.history["critic_loss"]).all()


def test_joint_critic_call_matches_separate_calls():
    # One critic call on concat(real, fake) gives the same scores as two calls
    # for a critic without batch statistics (the fast path).
    gan = tiny_gan()
    real, fake = np.random.rand(8, 2).astype("float32"), np.random.rand(8, 2).astype("float32")
    assert gan._joint_critic_call
    joint_real, joint_fake = gan.conditioning.score_pair(gan.critic, real, fake)
    np.testing.assert_allclose(joint_real.score.numpy(), gan.critic(real).numpy().ravel(), rtol=1e-6)
    np.testing.assert_allclose(joint_fake.score.numpy(), gan.critic(fake).numpy().ravel(), rtol=1e-6)


@pytest.mark.slow
def test_quality_catalogue_paths_run(tmp_path):
    # A few steps through the toy and digits paths, the conditional ones included.
    quality = load_benchmark("quality")
    assert quality.main(["--steps", "3", "--digits-steps", "2", "--seeds", "1",
                         "--methods", "wgan-lp,best,acgan", "--datasets", "8gaussians,digits",
                         "--name", "smoke", "--output", str(tmp_path)]) == 0  # fmt: skip
    rows = json.loads((tmp_path / "smoke.json").read_text())["rows"]
    cells = [(row["method"], row["dataset"]) for row in rows]
    # acgan is conditional: measured on digits only.
    assert cells == [("wgan-lp", "8gaussians"), ("wgan-lp", "digits"), ("best", "8gaussians"),
                     ("best", "digits"), ("acgan", "digits")]  # fmt: skip
    assert [row["steps"] for row in rows] == [3, 2, 3, 2, 2]
    for row in rows:
        run = row["runs"][0]
        assert np.isfinite(run["grad_norm"]) and run["grad_norm"] > 0
        if row["dataset"] == "digits":
            assert np.isfinite(run["fid_ema"]) and run["num_modes"] == 10
    assert "FID" in (tmp_path / "smoke.md").read_text()
    assert (tmp_path / "smoke.png").exists()

    # A second part with another seed of one cell.
    argv = ["--steps", "3", "--seeds", "1", "--first-seed", "1", "--methods", "wgan-lp",
            "--datasets", "8gaussians", "--name", "smoke2", "--output", str(tmp_path)]  # fmt: skip
    assert quality.main(argv) == 0
    assert json.loads((tmp_path / "smoke2.json").read_text())["rows"][0]["runs"][0]["seed"] == 1

    # --combine folds saved tables into one row per method, a column per dataset,
    # and their PNGs into one grid.
    assert quality.main(["--combine", "smoke,smoke2", "--output", str(tmp_path), "--name", "wide"]) == 0
    table = (tmp_path / "wide.md").read_text().splitlines()
    assert table[2] == "| method | 8gaussians | digits |"
    assert "smoke: 2 or 3 generator steps, 1 seed(s)" in table[-1]
    assert "smoke2: 3 generator steps, 1 seed(s) from 1" in table[-1]
    acgan = next(line for line in table if line.startswith("| acgan |"))
    assert acgan.split(" | ")[1] == "–" and "FID" in acgan  # no toy cell, a digits cell
    wgan_lp_toy = next(line for line in table if line.startswith("| wgan-lp |")).split(" | ")[1]
    assert wgan_lp_toy.count(" / ") == 1  # seeds 0 and 1, one from each part
    from PIL import Image

    with Image.open(tmp_path / "wide.png") as grid, Image.open(tmp_path / "smoke.png") as part:
        # 3 methods x 2 datasets, panels shrunk to 2/3.
        assert abs(grid.size[0] - 0.67 * part.size[0]) < 4 and abs(grid.size[1] - 0.67 * part.size[1]) < 4


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="needs jax")
def test_zero_pass_counts_show_jax_skips_the_zero_path():
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "zero_pass.py")],
        capture_output=True, text=True, timeout=600, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split("|")[1].strip(): line for line in result.stdout.splitlines() if line.startswith("| ")}
    counts = {name: int(rows[name].split("|")[2]) for name in ("leaky_relu", "relu", "elu")}
    # ReLU-like critics need no second-derivative path; ELU's curvature does.
    assert counts["leaky_relu"] == counts["relu"] < counts["elu"], counts


@pytest.mark.slow
def test_evaluation_cache_times_first_and_second_evaluations(capsys):
    evaluation_cache = load_benchmark("evaluation_cache")
    assert evaluation_cache.main(["--datasets", "digits"]) == 0
    row = capsys.readouterr().out.splitlines()[-1]
    assert row.startswith("| digits | ") and row.count(" s |") == 4


def test_torch_port_has_the_keras_dcgan_shapes_and_parameter_counts():
    pytest.importorskip("torch")
    import torch

    speed = load_benchmark("speed")
    for side in (16, 28):  # 28 has the odd 7×7 map that Keras's "same" pads 1 before and 2 after
        critic, generator = speed.torch_dcgan({"shape": (side, side, 1), "filters": 8, "latent": 4})
        keras_critic = kw.architectures.dcgan_critic((side, side, 1), filters=8)
        keras_generator = kw.architectures.dcgan_generator(4, (side, side, 1), filters=8)
        images = generator(torch.zeros(2, 4))
        assert tuple(images.shape) == (2, 1, side, side) and tuple(critic(images).shape) == (2, 1)
        assert sum(p.numel() for p in critic.parameters()) == keras_critic.count_params()
        trainable = sum(int(np.prod(v.shape)) for v in keras_generator.trainable_variables)
        assert sum(p.numel() for p in generator.parameters()) == trainable


def test_time_to_quality_charges_no_snapshot_time_and_reads_its_curves():
    import time

    ttq = load_benchmark("time_to_quality")
    clock = ttq.Clock(0.2, [0.5, 1.0], snapshot=lambda: time.sleep(0.3) or "drawn")
    while not clock.tick():
        time.sleep(0.01)
    assert [r["samples"] for r in clock.records] == ["drawn", "drawn"]
    assert 0.2 <= clock.trained < 0.5  # the two 0.3 s snapshots are not in it
    curve = [{"seconds": s, "steps": 10 * s, "fid": f, "floor": 10.0, "classes": 10, "rarest": 0.08}
             for s, f in [(10, 90.0), (20, 40.0), (30, 25.0)]]  # fmt: skip
    torch_curve = [dict(r, fid=r["fid"] + 20) for r in curve]
    assert ttq.reached(curve, torch_curve[-1]["fid"], 30) == pytest.approx(2 / 3)
    assert ttq.reached(torch_curve, 10.0, 30) is None
    result = {"objective": "recipe", "budget": 30, "seed": 0, "cpu": "cpu", "auto": "float32",
              "curves": {"ours": curve, "torch": torch_curve}}  # fmt: skip
    table = ttq.report(result)
    assert "| ours | 300 | 10.00 | 25.0 | 10.0 | 10 | 8.0 % | 0.67× | – |" in table
    assert "| torch | 300 | 10.00 | 45.0 | 10.0 | 10 | 8.0 % | 1.00× | – |" in table
