"""TensorFlow-only: patches TF's gradient registry so that second-derivative
functions which return exact zeros report "no gradient" instead.

Private TensorFlow API. When its layout changes, `patched_registry` yields
False and patches nothing: gradients stay exact, only slower. The public
entry point is `keras_wgangp.penalties.skip_zero_second_derivatives`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

# Second-derivative gradient functions that return an exact zero tensor for
# some inputs: the op type and the indices of those inputs. ReLU-like
# activations are piecewise linear, so d(ReluGrad)/d(features) == 0; max
# pooling's gradient is linear in the upstream gradient alone.
ZERO_SECOND_DERIVATIVES = {
    "ReluGrad": (1,),
    "Relu6Grad": (1,),
    "LeakyReluGrad": (1,),
    "MaxPoolGrad": (0, 1),
    "MaxPoolGradV2": (0, 1),
}
_registry_lock = threading.RLock()


def _gradient_registry() -> dict | None:
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
        entries = [registry.get(name) for name in ZERO_SECOND_DERIVATIVES]
        if all(isinstance(entry, dict) and "type" in entry for entry in entries):
            return registry
    except (ImportError, AttributeError):
        pass
    return None


def _drop_zero_inputs(gradient_function, zero_inputs):
    def gradient(op, *grads):
        result = list(gradient_function(op, *grads))
        for index in zero_inputs:
            result[index] = None  # "no gradient": the tape skips this path
        return result

    return gradient


@contextlib.contextmanager
def patched_registry() -> Iterator[bool]:
    """Patches the registry while active (serialised by a lock); yields
    whether the patch is in place."""
    with _registry_lock:
        registry = _gradient_registry()
        if registry is None:
            yield False
            return
        originals = {name: registry[name]["type"] for name in ZERO_SECOND_DERIVATIVES}
        try:
            for name, zero_inputs in ZERO_SECOND_DERIVATIVES.items():
                registry[name]["type"] = _drop_zero_inputs(originals[name], zero_inputs)
            yield True
        finally:
            for name, function in originals.items():
                registry[name]["type"] = function
