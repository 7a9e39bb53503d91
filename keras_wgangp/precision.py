"""The arithmetic a run computes in: float32, or bfloat16 where the processor has it.

`resolve("auto")` takes the environment variable `KERAS_WGANGP_PRECISION`
(`float32` or `bfloat16`) where it is set. Otherwise it picks `bfloat16`
(Keras's `mixed_bfloat16` policy: layers compute in bfloat16 and keep
float32 weights) when TensorFlow runs on a CPU whose flags show
`avx512_bf16` or `amx_bf16`, and `float32` everywhere else: on CPUs without
those units oneDNN emulates bfloat16 and a step runs about twice as slow,
and on GPUs `auto` keeps float32 (pass `"bfloat16"` on GPUs with bfloat16
units). `use` sets the policy while the networks are built; layers keep
the policy they were built under.

Whatever the policy, the package's losses, penalty norms and logged values
reduce in float32 (`keras_wgangp.losses`, `keras_wgangp.penalties`).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import keras

__all__ = ["BF16_FLAGS", "ENVIRONMENT", "NAMES", "Precision", "cpu_flags", "resolve", "use"]

NAMES = ("auto", "float32", "bfloat16")
POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}
BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo's names of bfloat16 matrix units
# A machine-wide choice for `auto` (the test suite sets float32, so its figures do not depend on the CPU).
ENVIRONMENT = "KERAS_WGANGP_PRECISION"


@dataclass(frozen=True)
class Precision:
    """A resolved precision: its name, the Keras policy it sets, and why it was chosen.

    Args:
        name: `"float32"` or `"bfloat16"`.
        reason: Why: asked for, or what `auto` saw.

    Examples:
        >>> p = Precision("bfloat16", "asked for")
        >>> p.policy, str(p)
        ('mixed_bfloat16', 'bfloat16 (mixed_bfloat16; asked for)')
    """

    name: str
    reason: str

    @property
    def policy(self) -> str:
        """The `keras.mixed_precision` policy name."""
        return POLICIES[self.name]

    def __str__(self) -> str:
        return f"{self.name} ({self.policy}; {self.reason})"

    def to_dict(self) -> dict:
        """`{"name", "policy", "reason"}`, as `summary.json` records it."""
        return {"name": self.name, "policy": self.policy, "reason": self.reason}


def cpu_flags(path: str = "/proc/cpuinfo") -> frozenset:
    """The CPU's feature flags as Linux lists them; empty where there is no such file.

    Args:
        path: The cpuinfo file.

    Returns:
        A frozenset of flag names.

    Examples:
        >>> isinstance(cpu_flags(), frozenset), cpu_flags("/no/such/file")
        (True, frozenset())
    """
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def _has_gpu() -> bool:
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def resolve(
    precision: str = "auto", *, flags=None, backend: str | None = None, gpu: bool | None = None
) -> Precision:
    """The precision `precision` names; `"auto"` looks at `ENVIRONMENT`, the backend, the devices and the CPU.

    Args:
        precision: `"auto"`, `"float32"` or `"bfloat16"`.
        flags: Judge a CPU with these flags instead of this machine (`ENVIRONMENT` is then not read).
        backend: The Keras backend (default: the active one).
        gpu: Whether a GPU is visible (default: TensorFlow's answer).

    Returns:
        A `Precision`.

    Raises:
        ValueError: `precision` is not one of `NAMES`.

    Examples:
        >>> resolve("auto", flags={"avx512f", "avx512_bf16"}, backend="tensorflow", gpu=False).name
        'bfloat16'
        >>> print(resolve("auto", flags={"avx512f"}, backend="tensorflow", gpu=False))
        float32 (float32; auto: the CPU has neither avx512_bf16 nor amx_bf16)
        >>> resolve("bfloat16").policy
        'mixed_bfloat16'
    """
    if precision not in NAMES:
        raise ValueError(f"precision must be one of {', '.join(NAMES)}, got {precision!r}")
    if precision != "auto":
        return Precision(precision, "asked for")
    chosen = os.environ.get(ENVIRONMENT) if flags is None else None  # given flags: a CPU judged alone
    if chosen:
        if chosen not in POLICIES:
            raise ValueError(f"{ENVIRONMENT} must be float32 or bfloat16, got {chosen!r}; unset it for auto")
        return Precision(chosen, f"auto: {ENVIRONMENT}={chosen}")
    backend = backend or keras.backend.backend()
    if backend != "tensorflow":
        return Precision("float32", f"auto: the {backend} backend (the bfloat16 gain is TensorFlow's)")
    if _has_gpu() if gpu is None else gpu:
        return Precision("float32", "auto: a GPU is visible; pass bfloat16 on GPUs with bfloat16 units")
    flags = cpu_flags() if flags is None else frozenset(flags)
    present = [flag for flag in BF16_FLAGS if flag in flags]
    if present:
        return Precision("bfloat16", f"auto: the CPU has {' and '.join(present)}")
    return Precision("float32", f"auto: the CPU has neither {' nor '.join(BF16_FLAGS)}")


@contextlib.contextmanager
def use(precision: Precision | str):
    """Sets the Keras global policy of `precision` inside the block and restores the old one after.

    Layers take the policy in force when they are made, so build the networks inside the block;
    training, saving and sampling outside it keep their precision.

    Args:
        precision: A `Precision`, or a name for `resolve`.

    Yields:
        The resolved `Precision`.

    Examples:
        >>> with use("bfloat16"):
        ...     layer = keras.layers.Dense(2)
        >>> layer.compute_dtype, keras.mixed_precision.global_policy().name
        ('bfloat16', 'float32')
    """
    precision = precision if isinstance(precision, Precision) else resolve(precision)
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision.policy)
    try:
        yield precision
    finally:
        keras.mixed_precision.set_global_policy(previous)
