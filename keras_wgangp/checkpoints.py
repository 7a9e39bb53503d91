"""Runs that survive a crash: a checkpoint per epoch, exact resumption, outputs written atomically.

`keras-wgangp train --output DIR` keeps `DIR/checkpoint/`: Keras's
`BackupAndRestore` files (the model with its optimizers and seed state, and
the epoch reached) and `run.json`, the settings of the run. Running the same
command again resumes from it; settings that differ are refused by name.
Every output is written to a temporary name and renamed into place, so a
crash never leaves a half-written file that looks complete; a checkpoint
that cannot be read (a bad disk, a copy cut short) falls back to the one
before it, or is refused with the way to start again. A write that fails (a
full disk) keeps the last complete checkpoint and says so (`WriteFailed`).
`RunLock` keeps a second run out of a folder that a live run is using.
`StopAtStepBoundary` turns SIGTERM and Ctrl-C into a checkpoint at the end
of the step in progress, from which the same command resumes exactly.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import sys
import threading

import keras
import numpy as np

__all__ = [
    "Checkpoint",
    "CheckpointMismatch",
    "RunLock",
    "StopAtStepBoundary",
    "WriteFailed",
    "check_writable",
    "export_atomic",
    "prepare",
    "describe",
    "resume_epoch",
    "resume_step",
    "save_model_atomic",
    "write_failed",
    "write_json_atomic",
]

RUN_FILE = "run.json"


class CheckpointMismatch(ValueError):
    """A checkpoint was written by a run with other settings, cannot be read, or its folder is in use."""


class WriteFailed(RuntimeError):
    """Writing a checkpoint or an output failed (a full disk, a lost mount); what was complete is kept."""


def write_failed(what: str, path: str, error: OSError, kept: str) -> WriteFailed:
    """The `WriteFailed` for an `OSError` while writing `what` at `path`.

    Args:
        what: What was being written, e.g. `"the checkpoint"`.
        path: The file being written; its folder is named.
        error: The `OSError`.
        kept: What survives, e.g. `"the checkpoint of epoch 3 is kept"`.

    Returns:
        The exception, to raise.

    Examples:
        >>> full = OSError(errno.ENOSPC, "No space left on device")
        >>> message = str(write_failed("the model", "/run/model.keras", full, "the checkpoint is kept"))
        >>> print(message)  # doctest: +NORMALIZE_WHITESPACE
        could not write the model in /run (No space left on device); the checkpoint is kept:
        free some space and rerun the same command to resume
    """
    reason = error.strerror or str(error) or type(error).__name__
    fix = "free some space and " if error.errno == errno.ENOSPC else "fix the folder and "
    return WriteFailed(
        f"could not write {what} in {os.path.dirname(os.path.abspath(path))} ({reason}); {kept}: "
        f"{fix}rerun the same command to resume"
    )


def _discard(path: str) -> None:
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.remove(path)


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
    try:
        with open(tmp, "w") as handle:
            json.dump(obj, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError:
        _discard(tmp)  # never leave half a file behind
        raise
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
    try:
        model.save(tmp)
        os.replace(tmp, path)
    except OSError:
        _discard(tmp)  # never leave half a file behind
        raise
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
    try:
        model.export(tmp, verbose=False)
    except OSError:
        _discard(tmp)  # never leave half a folder behind
        raise
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
    try:
        return int(_metadata(folder)["epoch"])
    except (KeyError, TypeError, ValueError):
        return None


def _metadata(folder: str) -> dict:
    """The checkpoint's `training_metadata.json`, or {} when missing or unreadable."""
    try:
        with open(os.path.join(folder, METADATA)) as handle:
            return dict(json.load(handle))
    except (OSError, ValueError, TypeError):
        return {}


def resume_step(folder: str) -> int:
    """The generator steps a checkpoint in `folder` has done within its unfinished epoch.

    0 for a checkpoint written at an epoch's end (or none); more when a run
    stopped at a step boundary (`StopAtStepBoundary`).

    Args:
        folder: The checkpoint folder.

    Returns:
        The steps into epoch `resume_epoch(folder)`.

    Examples:
        >>> import tempfile
        >>> resume_step(tempfile.mkdtemp())
        0
    """
    try:
        return int(_metadata(folder).get("batch") or 0)
    except (TypeError, ValueError):
        return 0


def describe(folder: str) -> str | None:
    """What a checkpoint in `folder` holds, for messages: `"the checkpoint of epoch 2"`, or
    `"the checkpoint of generator step 5"` for one written between epochs; None without one.

    Args:
        folder: The checkpoint folder.

    Returns:
        The phrase, or None.

    Examples:
        >>> import tempfile
        >>> describe(tempfile.mkdtemp()) is None
        True
    """
    metadata = _metadata(folder)
    if resume_step(folder) and metadata.get("generator_step") is not None:
        return f"the checkpoint of generator step {metadata['generator_step']}"
    done = resume_epoch(folder)
    return f"the checkpoint of epoch {done}" if done else None


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
        _check_readable(folder)
        return resume_epoch(folder) or 0
    os.makedirs(folder, exist_ok=True)
    write_json_atomic(run_file, settings)
    return 0


WEIGHTS, METADATA = "latest.weights.h5", "training_metadata.json"  # BackupAndRestore's names
PREVIOUS = ".bkp"  # its double checkpoint: the files of the epoch before


def _readable(path: str) -> bool:
    """Whether an HDF5 weights file reads back whole: every array in it."""
    import h5py

    arrays = []
    try:
        with h5py.File(path, "r") as handle:
            handle.visititems(
                lambda name, item: arrays.append(item[()]) if isinstance(item, h5py.Dataset) else None
            )
    except Exception:  # h5py raises OSError, KeyError or RuntimeError for cut or scrambled files
        return False
    return True


def _check_readable(folder: str) -> None:
    """Keeps a checkpoint whose weights read back; else falls back to the epoch before, or refuses."""
    weights = os.path.join(folder, WEIGHTS)
    if not os.path.exists(weights) or _readable(weights):
        return
    previous = weights + PREVIOUS
    if os.path.exists(previous) and _readable(previous):
        metadata = os.path.join(folder, METADATA)
        shutil.copyfile(previous, weights)
        if os.path.exists(metadata + PREVIOUS):
            shutil.copyfile(metadata + PREVIOUS, metadata)
        print(
            f"note: the newest checkpoint in {folder} cannot be read (cut short or damaged); resuming "
            f"from the one before it, epoch {resume_epoch(folder) or 0}.",
            flush=True,
        )
        return
    raise CheckpointMismatch(
        f"the checkpoint in {folder} cannot be read (cut short or damaged, and no readable one before "
        "it): add --restart to discard it and train from the start"
    )


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

    def __init__(self, folder: str, guard=None, steps_done: int = 0, resumable_mid_epoch: bool = False):
        super().__init__(folder, save_freq="epoch", delete_checkpoint=False, double_checkpoint=True)
        self.guard = guard or (lambda: False)
        self.history: list[dict] = []
        self._history_path = os.path.join(folder, "history.json")
        self.steps_done = steps_done  # steps of the first epoch done before this fit began
        self.resumable_mid_epoch = resumable_mid_epoch
        self._epoch, self._step_in_epoch = 0, 0

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        done = resume_epoch(self.backup_dir) or 0
        if done and os.path.exists(self._history_path):
            with open(self._history_path) as handle:
                self.history = json.load(handle)[:done]  # the epochs the restored weights have seen
        StopAtStepBoundary.stepping.set()

    def on_train_end(self, logs=None):
        StopAtStepBoundary.stepping.clear()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if StopAtStepBoundary.requested.is_set():
            StopAtStepBoundary.stepping.clear()
            if self.resumable_mid_epoch:  # else the last epoch's checkpoint stays the one to resume
                steps = (self.params or {}).get("steps") or float("inf")  # of this fit's epochs
                if batch + 1 >= steps:
                    self._current_epoch = self._epoch + 1  # its last step: the epoch's end (no logs)
                    self._save_model()
                else:
                    self._save_model(step_in_epoch=self.steps_done + batch + 1)
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch, logs=None):
        if not self.guard():
            values = {name: float(np.asarray(value)) for name, value in (logs or {}).items()}
            self.history.append({"epoch": epoch + 1, **values})
        self.steps_done = 0  # only the first epoch of a resumed fit starts part-way
        super().on_epoch_end(epoch, logs)

    def _save_model(self, step_in_epoch: int = 0):
        # BackupAndRestore's files, each written under a temporary name and renamed into place:
        # a crash or a full disk mid-write leaves the last complete checkpoint as it was.
        if self.guard():
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        weights, metadata = self._weights_path, self._training_metadata_path
        tmp = os.path.join(self.backup_dir, "saving.weights.h5")
        try:
            self.model.save_weights(tmp, overwrite=True)
            for path in (weights, metadata):  # the epoch before, for a file damaged later
                if os.path.exists(path):
                    shutil.copyfile(path, path + ".bkp.tmp")
                    os.replace(path + ".bkp.tmp", path + PREVIOUS)
            os.replace(tmp, weights)
            epoch = self._epoch if step_in_epoch else self._current_epoch
            optimizer = getattr(self.model, "generator_optimizer", None)
            step = int(np.asarray(optimizer.iterations)) if optimizer is not None else None
            write_json_atomic(metadata, {"epoch": epoch, "batch": step_in_epoch, "generator_step": step})
            write_json_atomic(self._history_path, self.history)
        except OSError as error:
            for path in (tmp, weights + ".bkp.tmp", metadata + ".bkp.tmp"):
                _discard(path)
            done = resume_epoch(self.backup_dir)
            kept = f"the checkpoint of epoch {done} is kept" if done else "no epoch had been checkpointed"
            raise write_failed("the checkpoint", weights, error, kept) from None


class RunLock:
    """Keeps one run at a time in an output folder: `with RunLock(folder): ...`.

    Entering writes `<folder>/.keras-wgangp.lock` with the process id and host; a second run
    that finds the file of a live process refuses at once (`CheckpointMismatch`, naming the
    folder and that process), before touching anything. A lock left by a process that has
    ended (killed, crashed) is taken over. Leaving removes the file.

    Args:
        folder: The output folder (created if needed).

    Examples:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> with RunLock(folder):
        ...     os.path.exists(os.path.join(folder, ".keras-wgangp.lock"))
        True
        >>> os.path.exists(os.path.join(folder, ".keras-wgangp.lock"))
        False
    """

    NAME = ".keras-wgangp.lock"

    def __init__(self, folder: str):
        self.folder = folder
        self.path = os.path.join(folder, self.NAME)

    def _holder(self) -> int | None:
        """The live process holding the lock, or None (no lock, or a stale one)."""
        try:
            with open(self.path) as handle:
                held = json.load(handle)
            pid, host = int(held["pid"]), held.get("host")
        except (OSError, ValueError, KeyError, TypeError):
            return None  # unreadable: a lock cut short by a crash
        if host != socket.gethostname():
            return pid  # another machine's process cannot be checked from here: assume it lives
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid  # alive, another user's
        return pid

    def __enter__(self):
        os.makedirs(self.folder, exist_ok=True)
        content = json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
        for _ in range(2):  # a stale lock is removed once, then taken
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                pid = self._holder()
                if pid is not None and pid != os.getpid():
                    raise CheckpointMismatch(
                        f"--output {self.folder!r} is in use by another run (process {pid}); wait for it "
                        "to finish, stop it, or choose another --output"
                    ) from None
                _discard(self.path)
                continue
            with os.fdopen(descriptor, "w") as handle:
                handle.write(content)
            return self
        raise CheckpointMismatch(f"--output {self.folder!r}: could not take its lock file {self.path}")

    def __exit__(self, *exc):
        if self._holder() == os.getpid():
            _discard(self.path)
        return False


class StopAtStepBoundary:
    """`with StopAtStepBoundary(): ...`: SIGTERM and Ctrl-C stop a run at the end of its step.

    While a `Checkpoint` callback's `fit` runs steps, the first SIGTERM (what
    job schedulers send before they kill) or Ctrl-C only sets `requested`;
    the callback then writes a checkpoint at the end of the step in
    progress (where the run can resume mid-epoch) and raises
    `KeyboardInterrupt`. A second signal, or one outside the steps (loading
    data, evaluating, saving), raises `KeyboardInterrupt` at once. The
    previous handlers come back on exit. Handlers are installed from the
    main thread only.

    Examples:
        >>> with StopAtStepBoundary():
        ...     StopAtStepBoundary.requested.is_set()
        False
    """

    requested = threading.Event()  # signals are process-wide, so is this state
    stepping = threading.Event()

    def _handle(self, signum, frame):
        if StopAtStepBoundary.requested.is_set() or not StopAtStepBoundary.stepping.is_set():
            raise KeyboardInterrupt
        StopAtStepBoundary.requested.set()
        print("Stopping at the end of this step (again to stop at once).", file=sys.stderr, flush=True)

    def __enter__(self):
        StopAtStepBoundary.requested.clear()
        StopAtStepBoundary.stepping.clear()
        self.previous = {}
        if threading.current_thread() is threading.main_thread():  # handlers live in the main thread
            for number in (signal.SIGTERM, signal.SIGINT):
                self.previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc):
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        StopAtStepBoundary.requested.clear()
        StopAtStepBoundary.stepping.clear()
        return False
