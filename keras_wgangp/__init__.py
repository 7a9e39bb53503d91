"""keras-wgangp: WGAN-GP (Gulrajani et al. 2017) as a Keras 3 model."""

from keras_wgangp import architectures, callbacks, data, evaluation, losses, penalties
from keras_wgangp.model import WGANGP
from keras_wgangp.penalties import gradient_penalty
from keras_wgangp.saving import load_model

__version__ = "0.1.0"

__all__ = [
    "WGANGP",
    "architectures",
    "callbacks",
    "data",
    "evaluation",
    "gradient_penalty",
    "load_model",
    "losses",
    "penalties",
]
