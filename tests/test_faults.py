"""Faults a long run meets: a second run on its folder, a full disk, a damaged checkpoint,
and model or statistics files from someone else."""

import errno
import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_wgangp as kw
from keras_wgangp import checkpoints
from keras_wgangp.cli import main

TOY = ["train", "--steps", "6", "--epochs", "3", "--width", "8", "--batch-size", "16", "--verbose", "0"]


def test_a_second_run_on_a_folder_in_use_refuses_and_a_stale_lock_is_taken_over(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    lock = out / checkpoints.RunLock.NAME
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(json.dumps({"pid": sleeper.pid, "host": socket.gethostname()}))
        assert main([*TOY, "--output", str(out)]) == 2
        message = capsys.readouterr().err.strip()
        assert message == (
            f"error: --output '{out}' is in use by another run (process {sleeper.pid}); wait for it to "
            "finish, stop it, or choose another --output"
        )
        assert sorted(p.name for p in out.iterdir()) == [lock.name]  # nothing of the first run touched
    finally:
        sleeper.kill()
        sleeper.wait()
    # The holder is gone (killed, crashed): its lock is stale and the run takes it over.
    assert main([*TOY, "--output", str(out)]) == 0
    assert (out / "summary.json").is_file() and not lock.exists()


def test_a_full_disk_keeps_the_last_checkpoint_and_a_damaged_one_falls_back_or_is_refused(
    tmp_path, capsys, monkeypatch
):
    out = tmp_path / "run"
    folder = out / "checkpoint"
    save_weights, calls = kw.GAN.save_weights, []

    def disk_fills_at_the_third_checkpoint(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return save_weights(self, *args, **kwargs)

    monkeypatch.setattr(kw.GAN, "save_weights", disk_fills_at_the_third_checkpoint)
    assert main([*TOY, "--output", str(out)]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: could not write the checkpoint in {folder} (No space left on device); the checkpoint of "
        "epoch 2 is kept: free some space and rerun the same command to resume"
    )
    monkeypatch.setattr(kw.GAN, "save_weights", save_weights)
    assert checkpoints.resume_epoch(str(folder)) == 2 and not (out / "summary.json").exists()
    assert sorted(p.name for p in folder.iterdir() if "tmp" in p.name or "saving" in p.name) == []
    # The newest checkpoint damaged, none readable before it: refused, with the way out.
    weights = folder / checkpoints.WEIGHTS
    previous = folder / (checkpoints.WEIGHTS + checkpoints.PREVIOUS)
    good = previous.read_bytes()
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    previous.write_bytes(b"\0" * 100)
    assert main([*TOY, "--output", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: the checkpoint in {folder} cannot be read (cut short or damaged, and no readable one "
        "before it): add --restart to discard it and train from the start"
    )
    # With the one before it readable, the run falls back to it and finishes.
    previous.write_bytes(good)
    assert main([*TOY, "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"note: the newest checkpoint in {folder} cannot be read" in printed and "epoch 1." in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generator_steps"] == 6 and summary["resumed_at_epoch"] == 1


def test_a_failed_final_write_leaves_no_partial_file(tmp_path, monkeypatch):
    net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    path = str(tmp_path / "m.keras")
    checkpoints.save_model_atomic(net, path)
    before = (tmp_path / "m.keras").read_bytes()

    def full(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as handle:
            handle.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", full)
    with pytest.raises(OSError):
        checkpoints.save_model_atomic(net, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]
    assert (tmp_path / "m.keras").read_bytes() == before


def test_files_from_someone_else_never_run_their_code(tmp_path, capsys):
    # A .keras file whose generator holds a Python lambda: loading it would run that code.
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda z: z * 2.0)])
    gan = kw.WGANGP(generator, kw.architectures.mlp_critic(units=8))
    path = str(tmp_path / "lambda.keras")
    gan.save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        kw.load_model(path)
    assert main(["sample", "--model", path, "--output", str(tmp_path / "s.png")]) == 1
    assert "safe_mode" in capsys.readouterr().err and not (tmp_path / "s.png").exists()
    # Statistics files are read without pickle: an object array is refused, not unpickled.
    statistics = str(tmp_path / "stats.npz")
    np.savez(statistics, mean=np.array([{"payload": 1}], dtype=object), covariance=np.eye(1), count=3)
    with pytest.raises(ValueError, match="allow_pickle"):
        kw.evaluation.load_statistics(statistics)
    assert os.path.exists(statistics)


def _bomb_png(path, side=20_000):
    """A PNG of side × side black pixels, a few hundred KB on disk, written without ever holding it."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor, row = zlib.compressobj(9), b"\0" * (side + 1)  # a filter byte, then the row
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit grayscale
    with open(path, "wb") as handle:
        handle.write(
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
        )


def test_a_decompression_bomb_is_refused_by_name_from_its_header(tmp_path, capsys):
    from matplotlib.image import imsave

    for i in range(3):
        imsave(str(tmp_path / f"{i}.png"), np.full((12, 12), i / 2), cmap="gray", vmin=0, vmax=1)
    bomb = str(tmp_path / "bomb.png")
    _bomb_png(bomb)
    assert os.path.getsize(bomb) < 1_000_000
    reason = r"it declares 400,000,000 pixels, over the bound of 89,478,485 \(max_pixels"
    with pytest.raises(ValueError, match=f"Could not read the image '{bomb}': {reason}"):
        kw.data.image_folder_dataset(tmp_path, 8)
    with pytest.warns(UserWarning, match="Skipping 1 unreadable image"):
        stream = kw.data.image_folder_dataset(tmp_path, 8, on_error="skip")
    assert len(stream.file_paths) == 3 and stream.unreadable == [bomb]
    with pytest.raises(ValueError, match=reason):
        kw.data.load_image_folder(tmp_path, 8)
    assert main(["train", "--dataset", str(tmp_path), "--output", str(tmp_path / "run")]) == 1
    assert "it declares 400,000,000 pixels" in capsys.readouterr().err
    # Refused before anything decodes it: the peak memory of a fresh process stays where it was.
    # VmHWM is the process's own peak (ru_maxrss would include the parent's, inherited at fork).
    probe = (
        "import re, keras_wgangp as kw\n"
        "peak = lambda: int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
        "before = peak()\n"
        f"try:\n    kw.data.image_folder_dataset({str(tmp_path)!r}, 8)\nexcept ValueError:\n    pass\n"
        "print((peak() - before) // 1024)"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    grown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300
    )
    assert grown.returncode == 0, grown.stderr[-2000:]
    assert int(grown.stdout.split()[-1]) < 200, grown.stdout  # MB; decoding it would take 400 MB or more


@pytest.fixture(scope="module")
def uninterrupted_toy(tmp_path_factory):
    whole = tmp_path_factory.mktemp("whole")
    assert main([*TOY, "--output", str(whole)]) == 0
    return kw.load_model(str(whole / "model.keras"))


# Signalled in epoch 2's first step (3 of 6), then in its last one (4): the epoch's end.
@pytest.mark.parametrize(
    "batch, kept, resumed",
    [(0, "the checkpoint of generator step 3", 3), (1, "the checkpoint of epoch 2", 4)],
)
def test_sigterm_checkpoints_at_the_step_boundary_and_the_rerun_resumes_exactly(
    tmp_path, capsys, monkeypatch, uninterrupted_toy, batch, kept, resumed
):
    import signal

    out = tmp_path / "run"
    on_batch_end = checkpoints.Checkpoint.on_train_batch_end

    def terminated_in_step_3(self, step, logs=None):
        if self._epoch == 1 and step == batch:
            os.kill(os.getpid(), signal.SIGTERM)  # what a job scheduler sends, here mid-run
        on_batch_end(self, step, logs)

    monkeypatch.setattr(checkpoints.Checkpoint, "on_train_batch_end", terminated_in_step_3)
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    assert main([*TOY, "--output", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-2] == "Stopping at the end of this step (again to stop at once)."
    assert err[-1] == (
        f"error: interrupted; {kept} in {out / 'checkpoint'} is kept: rerun the same command to resume"
    )
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == handlers
    assert not (out / checkpoints.RunLock.NAME).exists()
    monkeypatch.setattr(checkpoints.Checkpoint, "on_train_batch_end", on_batch_end)
    assert main([*TOY, "--output", str(out)]) == 0
    assert f"generator step {resumed} of 6 ({resumed // 2} of 3 epochs)" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generator_steps"] == 6 and summary["resumed_at_step"] == resumed
    resumed_model = kw.load_model(str(out / "model.keras"))
    for a, b in zip(uninterrupted_toy.weights, resumed_model.weights, strict=True):  # as if never stopped
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_a_second_signal_or_one_outside_the_steps_interrupts_at_once():
    import signal

    stop = checkpoints.StopAtStepBoundary
    with stop():
        with pytest.raises(KeyboardInterrupt):  # loading data, evaluating: nothing to finish
            os.kill(os.getpid(), signal.SIGINT)
        stop.stepping.set()
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C during the steps: asked, not forced
        assert stop.requested.is_set()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
    assert not stop.requested.is_set() and not stop.stepping.is_set()
