"""keras-wgangp: WGAN-GP (Gulrajani et al. 2017) and the GAN family as Keras 3 models."""

import os as _os
import sys as _sys

if "tensorflow" not in _sys.modules:
    # TensorFlow turns its oneDNN CPU kernels on by default only on some Intel
    # CPUs; elsewhere (e.g. AMD EPYC) a WGAN-GP conv step ran about 4x slower
    # without them. Only a default: TF_ENABLE_ONEDNN_OPTS=0 opts out.
    _os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    if _os.path.basename(_sys.argv[0]) in ("keras-wgangp", "-m"):
        # The command line (`keras-wgangp`, `python -m keras_wgangp`) shows its own
        # messages, not TensorFlow's start-up log.
        _os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_wgangp import (
    architectures,
    augment,
    callbacks,
    checkpoints,
    checks,
    codes,
    conditioning,
    data,
    diagnostics,
    ema,
    evaluation,
    export,
    losses,
    objective,
    optimizers,
    penalties,
    plots,
    precision,
    recipes,
    sampling,
    saving,
    training,
)
from keras_wgangp.gan import GAN
from keras_wgangp.penalties import gradient_penalty
from keras_wgangp.saving import load_model
from keras_wgangp.wgangp import WGANGP

__version__ = "0.6.0"

__all__ = [
    "GAN",
    "WGANGP",
    "architectures",
    "augment",
    "callbacks",
    "checkpoints",
    "checks",
    "codes",
    "conditioning",
    "data",
    "diagnostics",
    "ema",
    "evaluation",
    "export",
    "gradient_penalty",
    "load_model",
    "losses",
    "objective",
    "optimizers",
    "penalties",
    "plots",
    "precision",
    "recipes",
    "sampling",
    "saving",
    "training",
]
