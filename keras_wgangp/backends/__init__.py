"""The per-backend part of `GAN`'s training step.

`GAN` writes its step once, in `keras.ops`; what differs between Keras
backends lives here, one module per backend, in the manner of Keras's own
`keras/src/backend/{tensorflow,jax,torch}/trainer.py`:

- `Trainer`: a mixin giving `train_step` the signature the backend's Keras
  trainer calls (JAX: the pure `train_step(state, data)`).
- `gradients(loss_fn, variables, model)`: runs `loss_fn() -> (loss, aux)`
  and returns `(aux, d loss / d variables)` with the backend's autodiff.
- `apply(optimizer, grads, variables, computed)`: the optimizer update,
  ordered after the tensors in `computed`.
- `lazy(run, compute, skip)`: `compute()` where the boolean `run` holds,
  else `skip()`.
- `ordered(tensors)`: a context whose ops run after `tensors`.
- `replicas(model)`: the replica count a replica's loss is divided by.
- `finish_logs(model, logs)`: the step's logs as the backend's trainer
  reduces them.
"""

from __future__ import annotations

import importlib

import keras

BACKENDS = ("tensorflow", "jax", "torch")


def current():
    """The step module of the active Keras backend.

    Returns:
        `keras_wgangp.backends.tensorflow_step`, `jax_step` or `torch_step`.

    Examples:
        >>> current().__name__
        'keras_wgangp.backends.tensorflow_step'
    """
    name = keras.backend.backend()
    if name not in BACKENDS:
        raise ValueError(
            f"keras_wgangp trains on the {', '.join(BACKENDS)} backends, not {name!r}: "
            "set KERAS_BACKEND to one of them."
        )
    return importlib.import_module(f"keras_wgangp.backends.{name}_step")
