"""Runs that survive a crash: a checkpoint per epoch, exact resumption, outputs written atomically.

`keras-wgangp train --output DIR` keeps `DIR/checkpoint/`: Keras's
`BackupAndRestore` files (the model with its optimizers and seed state, and
the epoch reached) and `run.json`, the settings of the run. Running the same
command again resumes from it; settings that differ are refused by name.
Every output is written to a temporary name and renamed into place, so a
crash never leaves a half-written file that looks complete.
"""

from __future__ import annotations

import json
import os
import shutil

import keras
import numpy as np

__all__ = [
    "Checkpoint",
    "CheckpointMismatch",
    "check_writable",
    "export_atomic",
    "prepare",
    "resume_epoch",
    "save_model_atomic",
    "write_json_atomic",
]

RUN_FILE = "run.json"


class CheckpointMismatch(ValueError):
    """A checkpoint was written by a run with other settings."""


def check_writable(folder: str, flag: str = "--output") -> None:
    """Creates `folder` if needed and checks that a file can be written in it.

    Args:
        folder: The folder.
        flag: The option that named it, for the message.

    Returns:
        None.

    Examples:
        >>> import tempfile
        >>> check_writable(os.path.join(tempfile.mkdtemp(), "run"))
    """
    probe = os.path.join(folder, ".write-test")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(probe, "w") as handle:
            handle.write("")
        os.remove(probe)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(
            f"{flag} {folder!r} cannot be written ({reason}); choose a folder you can write to"
        ) from None


def write_json_atomic(path: str, obj) -> str:
    """Writes `obj` as JSON to `path` through a temporary file and a rename.

    Args:
        path: The file.
        obj: A JSON-serialisable object.

    Returns:
        The path.

    Examples:
        >>> import tempfile
        >>> path = write_json_atomic(os.path.join(tempfile.mkdtemp(), "a.json"), {"x": 1})
        >>> json.load(open(path))
        {'x': 1}
    """
    tmp = f"{path}.tmp"
    with open(tmp, "w") as handle:
        json.dump(obj, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return path


def save_model_atomic(model, path: str) -> str:
    """`model.save(path)` through a temporary `.keras` file and a rename.

    Args:
        model: A Keras model.
        path: The `.keras` file.

    Returns:
        The path.

    Examples:
        >>> import tempfile
        >>> net = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> os.path.exists(save_model_atomic(net, os.path.join(tempfile.mkdtemp(), "m.keras")))
        True
    """
    tmp = path[: -len(".keras")] + ".tmp.keras"
    model.save(tmp)
    os.replace(tmp, path)
    return path


def export_atomic(model, path: str) -> str:
    """`model.export(path)` into a temporary folder that then replaces `path`.

    Args:
        model: A `GAN`.
        path: The SavedModel folder.

    Returns:
        The path.

    Examples:
        >>> import keras_wgangp as kw, tempfile
        >>> gan = kw.WGANGP(kw.architectures.mlp_generator(units=8), kw.architectures.mlp_critic(units=8))
        >>> path = export_atomic(gan, os.path.join(tempfile.mkdtemp(), "saved_model"))
        >>> os.path.exists(os.path.join(path, "saved_model.pb"))
        True
    """
    tmp = f"{path}.tmp"
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    model.export(tmp, verbose=False)
    old = f"{path}.old"
    if os.path.exists(path):
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)
    return path


def resume_epoch(folder: str) -> int | None:
    """The epoch a checkpoint in `folder` resumes at, or None without one.

    Args:
        folder: The checkpoint folder.

    Returns:
        The number of epochs already done, or None.

    Examples:
        >>> import tempfile
        >>> resume_epoch(tempfile.mkdtemp()) is None
        True
    """
    path = os.path.join(folder, "training_metadata.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path) as handle:
            return int(json.load(handle)["epoch"])
    except (OSError, ValueError, KeyError):
        return None


def prepare(folder: str, settings: dict, restart: bool = False) -> int:
    """Readies the checkpoint folder of a run; returns the epoch to resume at (0 for a new run).

    A checkpoint written with other settings is refused, naming the first
    differing setting as its command-line flag; `restart` discards it.

    Args:
        folder: The checkpoint folder.
        settings: The run's settings (JSON-serialisable, keyed by flag name
            with underscores).
        restart: Discard any checkpoint and start from zero.

    Returns:
        The epoch to resume at.

    Examples:
        >>> import tempfile
        >>> folder = os.path.join(tempfile.mkdtemp(), "checkpoint")
        >>> prepare(folder, {"steps": 10})
        0
        >>> prepare(folder, {"steps": 20})
        Traceback (most recent call last):
        ...
        keras_wgangp.checkpoints.CheckpointMismatch: --steps is 20 here but 10 in the checkpoint ...
    """
    run_file = os.path.join(folder, RUN_FILE)
    if restart and os.path.exists(folder):
        shutil.rmtree(folder)
    if os.path.exists(run_file):
        with open(run_file) as handle:
            saved = json.load(handle)
        settings = json.loads(json.dumps(settings))  # the types JSON gives back
        differences = [
            f"--{key.replace('_', '-')} is {settings.get(key)} here but {saved.get(key)}"
            for key in sorted(set(saved) | set(settings))
            if saved.get(key) != settings.get(key)
        ]
        if differences:
            raise CheckpointMismatch(
                f"{'; '.join(differences)} in the checkpoint in {folder}: rerun with the checkpoint's "
                "flags to resume it, or add --restart to discard it"
            )
        return resume_epoch(folder) or 0
    os.makedirs(folder, exist_ok=True)
    write_json_atomic(run_file, settings)
    return 0


class Checkpoint(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` at every epoch end that keeps its files after training,
    never saves weights that have diverged, and keeps the epochs' logs.

    The files stay until the run's outputs are written (a crash between the
    end of training and the summary loses nothing); `guard()` returning True
    (a divergence was seen) skips the save, so the last good state remains.
    `history` holds one dict of logs per epoch of the whole run, the epochs
    before a resumption included (`history.json` in the folder).

    Args:
        folder: The checkpoint folder.
        guard: A function; while it returns True nothing is saved.

    Examples:
        >>> import tempfile
        >>> checkpoint = Checkpoint(tempfile.mkdtemp())
    """

    def __init__(self, folder: str, guard=None):
        super().__init__(folder, save_freq="epoch", delete_checkpoint=False, double_checkpoint=True)
        self.guard = guard or (lambda: False)
        self.history: list[dict] = []
        self._history_path = os.path.join(folder, "history.json")

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        done = resume_epoch(self.backup_dir) or 0
        if done and os.path.exists(self._history_path):
            with open(self._history_path) as handle:
                self.history = json.load(handle)[:done]  # the epochs the restored weights have seen

    def on_epoch_end(self, epoch, logs=None):
        if not self.guard():
            values = {name: float(np.asarray(value)) for name, value in (logs or {}).items()}
            self.history.append({"epoch": epoch + 1, **values})
        super().on_epoch_end(epoch, logs)

    def _save_model(self):
        if self.guard():
            return
        super()._save_model()
        write_json_atomic(self._history_path, self.history)
