"""Real folders and long runs: the streaming folder pipeline, command-line runs that resume
after a crash, divergence as an error, and one clear line for every bad flag."""

import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
from matplotlib.image import imsave

import keras_wgangp as kw
from keras_wgangp.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_folder(root, classes=("a", "b"), per_class=3, rgb=True, size=12):
    rng = np.random.default_rng(0)
    for name in classes:
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(per_class):
            pixels = rng.random((size, size, 3) if rgb else (size, size))
            imsave(os.path.join(root, name, f"{i}.png"), pixels, cmap=None if rgb else "gray")
    return str(root)


# ------------------------------------------------------------------ the folder stream
def test_stream_gives_the_pixels_and_labels_of_the_in_memory_loader(tmp_path):
    folder = write_folder(tmp_path / "data")
    images, labels, names = kw.data.load_image_folder(folder, 8)
    stream = kw.data.image_folder_dataset(folder, 8, batch_size=4, labels=True, shuffle_seed=None)
    streamed = list(stream.as_numpy_iterator())
    np.testing.assert_array_equal(np.concatenate([x for x, _ in streamed]), images)
    np.testing.assert_array_equal(np.concatenate([y for _, y in streamed]), labels)
    assert stream.class_names == names and stream.channels == 3 and len(stream.file_paths) == 6


def test_stream_order_is_fixed_by_the_seed_so_a_skip_resumes_it(tmp_path):
    folder = write_folder(tmp_path / "data", per_class=5)
    first = kw.data.image_folder_dataset(folder, 8, batch_size=2, shuffle_seed=3, repeat=True)
    whole = [batch for batch in first.take(12).as_numpy_iterator()]
    again = kw.data.image_folder_dataset(folder, 8, batch_size=2, shuffle_seed=3, repeat=True)
    resumed = [batch for batch in again.skip(7).take(5).as_numpy_iterator()]
    for a, b in zip(whole[7:], resumed, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(np.concatenate(whole[:5]), np.concatenate(whole[5:10]))  # reshuffled per pass


def test_stream_names_or_skips_an_unreadable_file(tmp_path):
    folder = write_folder(tmp_path / "data")
    (tmp_path / "data" / "a" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"Could not read the image .*broken\.png"):
        kw.data.image_folder_dataset(folder, 8)
    with pytest.warns(UserWarning, match=r"Skipping 1 unreadable image\(s\), e.g. .*broken\.png"):
        stream = kw.data.image_folder_dataset(folder, 8, on_error="skip")
    assert len(stream.file_paths) == 6 and stream.unreadable[0].endswith("broken.png")


def test_stream_reconciles_mixed_channels_and_caches(tmp_path):
    folder = write_folder(tmp_path / "data", classes=("x",))
    write_folder(tmp_path / "data", classes=("x_grey",), rgb=False)
    stream = kw.data.image_folder_dataset(folder, 8, cache=str(tmp_path / "cache"), shuffle_seed=None)
    assert stream.channels == 3 and stream.num_grayscale == 3
    passes = [np.concatenate(list(stream.as_numpy_iterator())) for _ in range(2)]
    np.testing.assert_array_equal(passes[0], passes[1])  # the second pass reads the cache
    assert passes[0].shape == (6, 8, 8, 3)


# ------------------------------------------------------------------ bad flags
def unwritable(tmp_path):
    (tmp_path / "file").write_text("")
    return str(tmp_path / "file" / "run")  # a folder under a file cannot be made


def no_images(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("")
    return str(tmp_path / "empty")


def one_bad_image(tmp_path):
    folder = write_folder(tmp_path / "bad", classes=("a",))
    (tmp_path / "bad" / "a" / "broken.png").write_bytes(b"not a png")
    return folder


def one_class(tmp_path):
    return write_folder(tmp_path / "one", classes=("only",))


def not_a_model(tmp_path):
    (tmp_path / "model.keras").write_text("hello")
    return str(tmp_path / "model.keras")


HELP = " (see keras-wgangp train --help)"
BUILT_IN = "8gaussians, 25gaussians, swissroll, digits, mnist, stacked_digits, stacked_mnist"
NOT_KERAS = (
    " is not a .keras archive; it may be truncated or corrupt. Save models with gan.save('name.keras')."
)
# (argv, exit code, the exact line on stderr with TMP for the test's folder); the docs' command-line
# page shows every line verbatim (test_every_bad_flag_message_is_in_the_docs)
BAD = [
    (["train", "--gp-weight", "nan"], 2, "argument --gp-weight: must be a finite number >= 0, got nan"),
    (
        ["train", "--learning-rate", "inf"],
        2,
        "argument --learning-rate: must be a finite number > 0, got inf",
    ),
    (
        ["train", "--augment", "diffaugment"],
        2,
        "error: --augment diffaugment transforms images; the toy datasets are 2-D points",
    ),
    (["train", "--gp-weight", "-1"], 2, "argument --gp-weight: must be a finite number >= 0, got -1"),
    (["train", "--batch-size", "0"], 2, "argument --batch-size: must be a finite integer >= 1, got 0"),
    (
        ["train", "--ema-decay", "1.5"],
        2,
        "argument --ema-decay: must be a finite number >= 0 and < 1, got 1.5",
    ),
    (
        ["train", "--critic-learning-rate", "0"],
        2,
        "argument --critic-learning-rate: must be a finite number > 0, got 0",
    ),
    (
        ["train", "--validation-split", "1"],
        2,
        "argument --validation-split: must be a finite number >= 0 and < 1, got 1",
    ),
    (
        ["train", "--validation-split", "0.1"],
        2,
        "error: --validation-split holds images out of a folder, digits or mnist; 8gaussians has no "
        "fixed training set to hold out from",
    ),
    (["train", "--beta-1", "1"], 2, "argument --beta-1: must be a finite number >= 0 and < 1, got 1"),
    (["train", "--steps", "ten"], 2, "argument --steps: must be a finite integer >= 1, got 'ten'"),
    (
        ["train", "--steps", "7", "--epochs", "2"],
        2,
        "error: --steps 7 is not a multiple of --epochs 2: every "
        "epoch runs the same number of steps, so pick a multiple or leave --epochs out",
    ),
    (
        ["train", "--dataset", "digits", "--image-size", "13"],
        2,
        "error: --image-size must be one of (8, 16, 28, 32, 64, 128) for the reference architectures",
    ),
    (
        ["train", "--steps", "20", "--checkpoint-every", "7"],
        2,
        "error: --checkpoint-every 7 must divide the run's 20 generator steps; pick a divisor",
    ),
    (
        ["train", "--output", unwritable],
        2,
        "error: --output 'TMP/file/run' cannot be written (Not a directory); "
        "choose a folder you can write to",
    ),
    (
        ["train", "--dataset", "/no/such/folder"],
        2,
        f"error: --dataset '/no/such/folder' is neither a built-in dataset ({BUILT_IN}), "
        "tfds:NAME, nor a folder",
    ),
    (
        ["train", "--dataset", "tfds:"],
        2,
        "error: --dataset tfds: needs a tensorflow-datasets name, e.g. tfds:mnist",
    ),
    (
        ["train", "--dataset", "mnist", "--image-size", "16"],
        2,
        "error: --image-size must be 28 or 32 for mnist, the sides it is evaluated at",
    ),
    (
        ["train", "--dataset", no_images],
        1,
        "error: No images in 'TMP/empty' or its subfolders (accepted: .bmp, "
        ".gif, .jpeg, .jpg, .png, any case). It holds only .txt files. "
        "Put the images in one subfolder per class, or all directly in the folder.",
    ),
    (
        ["train", "--dataset", one_bad_image],
        1,
        "error: Could not read the image 'TMP/bad/a/broken.png': Unknown "
        "image file format. One of JPEG, JPEG XL, PNG, GIF, BMP, WebP required. "
        "Replace or remove the file, or skip unreadable files "
        "(on_error='skip'; command line: --skip-bad-images).",
    ),
    (
        ["train", "--dataset", one_class, "--conditional"],
        1,
        "error: --conditional needs at least 2 classes, "
        "TMP/one has 1: put each class in its own subfolder, or leave --conditional out",
    ),
    (["sample", "--model", not_a_model], 1, "error: 'TMP/model.keras'" + NOT_KERAS),
    (["sample", "--model", "/no/such.keras"], 1, "error: No model file at '/no/such.keras'."),
    (
        ["evaluate", "--model", no_images, "--dataset", "digits"],
        1,
        "error: 'TMP/empty' is a folder but neither "
        "a .keras file nor a SavedModel export (it has no saved_model.pb). Pass the model.keras or the "
        "saved_model/ folder that a run wrote.",
    ),
    (
        ["sample", "--model", "/no/such.keras", "--num", "0"],
        2,
        "keras-wgangp sample: error: argument --num: must be a finite integer >= 1, got 0 "
        "(see keras-wgangp sample --help)",
    ),
]


def expected_line(message: str) -> str:
    """Flag-type errors come from the parser, with its prefix and pointer to --help."""
    return f"keras-wgangp train: error: {message}{HELP}" if message.startswith("argument ") else message


def _flag_id(argv) -> str:
    # Stable across processes (xdist compares the collected ids): a folder maker by its name.
    return " ".join(getattr(item, "__name__", str(item)) for item in argv[:3])


@pytest.mark.parametrize("argv, code, message", BAD, ids=[_flag_id(a) for a, _, _ in BAD])
def test_every_bad_flag_fails_in_one_line_before_training(tmp_path, capsys, argv, code, message):
    argv = [item(tmp_path) if callable(item) else item for item in argv]
    if argv[0] == "train" and "--output" not in argv:
        argv += ["--output", str(tmp_path / "run")]
    assert main(argv + (["--verbose", "0"] if argv[0] == "train" else [])) == code
    out, err = capsys.readouterr()
    assert err.count("\n") == 1, err  # one line, no traceback
    assert err.strip().replace(str(tmp_path), "TMP") == expected_line(message)
    assert "Training" not in out
    assert not os.path.exists(tmp_path / "run" / "model.keras")


def test_every_bad_flag_message_is_in_the_docs():
    with open(os.path.join(ROOT, "docs", "guides", "command_line.md")) as handle:
        page = handle.read()
    missing = [message for _, _, message in BAD if f"`{expected_line(message)}`" not in page]
    assert not missing, missing


def test_mixed_channels_are_reconciled_and_said(tmp_path, capsys):
    folder = write_folder(tmp_path / "data", classes=("colour",))
    write_folder(tmp_path / "data", classes=("grey",), rgb=False)
    argv = [
        "train",
        "--dataset",
        folder,
        "--image-size",
        "8",
        "--steps",
        "2",
        "--epochs",
        "1",
        "--width",
        "4",
    ]
    assert main(argv + ["--batch-size", "2", "--critic-steps", "1", "--output", str(tmp_path / "run"),
                        "--verbose", "0"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "note: 3 of 6 images are grayscale and were repeated to RGB" in out
    # A small folder trained without held-out images or augmentation hears what the study found.
    assert "note: 6 training images: a critic can memorise a set this small; --validation-split 0.1" in out


def test_divergence_is_an_error_that_keeps_the_last_good_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--steps", "40", "--epochs", "4", "--width", "8", "--batch-size", "16"]
    argv += ["--learning-rate", "1e12", "--output", str(out), "--verbose", "0"]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "training diverged:" in err and "at generator step" in err
    assert "--learning-rate" in err and "--gp-weight" in err
    assert not (out / "model.keras").exists() and not (out / "summary.json").exists()


# ------------------------------------------------------------------ a crash, then the same command
def cli(argv, **kwargs):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ROOT}
    return subprocess.Popen([sys.executable, "-m", "keras_wgangp", *argv], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)  # fmt: skip


def test_a_killed_run_resumes_to_the_same_weights(tmp_path):
    argv = [
        "train",
        "--steps",
        "900",
        "--epochs",
        "9",
        "--width",
        "16",
        "--batch-size",
        "32",
        "--verbose",
        "0",
    ]
    whole = cli(argv + ["--output", str(tmp_path / "whole")])
    assert whole.wait(timeout=600) == 0, whole.stderr.read()[-3000:]
    crashed = cli(argv + ["--output", str(tmp_path / "crashed")])
    metadata = tmp_path / "crashed" / "checkpoint" / "training_metadata.json"
    deadline = time.time() + 300
    while time.time() < deadline and crashed.poll() is None:
        try:
            if json.loads(metadata.read_text())["epoch"] >= 3:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    assert crashed.poll() is None, "the run ended before it could be killed"
    crashed.send_signal(signal.SIGKILL)
    crashed.wait()
    assert not (tmp_path / "crashed" / "summary.json").exists()
    # Other flags are refused by name; the same command resumes and says so first.
    changed = cli(argv + ["--output", str(tmp_path / "crashed"), "--learning-rate", "0.002"])
    assert changed.wait(timeout=600) == 2
    message = changed.stderr.read()
    assert "--learning-rate is 0.002 here but 0.001" in message and "in the checkpoint" in message
    resumed = cli(argv + ["--output", str(tmp_path / "crashed")])
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read()[-3000:]
    first_line = resumed.stdout.readline()  # the precision, then where the run resumes
    assert first_line.startswith("Precision: float32"), first_line
    second_line = resumed.stdout.readline()
    assert second_line.startswith("Resuming from the checkpoint in"), second_line
    summaries = [json.loads((tmp_path / run / "summary.json").read_text()) for run in ("whole", "crashed")]
    assert summaries[0]["generator_steps"] == summaries[1]["generator_steps"] == 900
    assert summaries[1]["resumed_at_epoch"] >= 3
    models = [kw.load_model(str(tmp_path / run / "model.keras")) for run in ("whole", "crashed")]
    for a, b in zip(models[0].weights, models[1].weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    assert not (tmp_path / "crashed" / "checkpoint").exists()  # a finished run removes it


def test_restart_discards_a_checkpoint(tmp_path):
    folder = str(tmp_path / "checkpoint")
    assert kw.checkpoints.prepare(folder, {"steps": 10}) == 0
    (tmp_path / "checkpoint" / "training_metadata.json").write_text('{"epoch": 2, "batch": 0}')
    assert kw.checkpoints.prepare(folder, {"steps": 10}) == 2
    assert kw.checkpoints.prepare(folder, {"steps": 20}, restart=True) == 0
    assert json.loads((tmp_path / "checkpoint" / "run.json").read_text()) == {"steps": 20}
