"""Sample-quality measures, one small module each, and the protocol that uses them.

| module | measures |
|---|---|
| `frechet` | `frechet_distance` (FID) and `frechet_inception_distance` on images |
| `kid` | `kernel_inception_distance` (KID) and `kid` on images |
| `sliced_wasserstein` | `sliced_wasserstein_distance`, for the 2-D toys |
| `toys` | `mode_coverage` and `mode_classifier` of the toy mixtures |
| `class_coverage` | `class_coverage`: the classes a classifier recognises |
| `conditional` | `conditional_accuracy` and `intra_class_fid` |
| `features` | `FeatureExtractor`, `InceptionV3Features`, `classifier_features` |
| `digits` | `digits_classifier`, the offline feature network for digits |
| `protocol` | `evaluate` and `evaluate_samples`: the measures per dataset |

Every name is also available here, as `keras_wgangp.evaluation.<name>`.

Examples:
    >>> import numpy as np
    >>> points = np.random.default_rng(0).normal(size=(200, 2))
    >>> round(sliced_wasserstein_distance(points, points), 6)
    0.0
"""

from keras_wgangp.data import digits_split
from keras_wgangp.evaluation.class_coverage import class_coverage
from keras_wgangp.evaluation.conditional import conditional_accuracy, intra_class_fid
from keras_wgangp.evaluation.digits import digits_classifier
from keras_wgangp.evaluation.features import FeatureExtractor, InceptionV3Features, classifier_features
from keras_wgangp.evaluation.frechet import frechet_distance, frechet_inception_distance
from keras_wgangp.evaluation.kid import kernel_inception_distance, kid
from keras_wgangp.evaluation.protocol import CLASS_CONFIDENCE, evaluate, evaluate_samples
from keras_wgangp.evaluation.sliced_wasserstein import sliced_wasserstein_distance
from keras_wgangp.evaluation.toys import mode_classifier, mode_coverage

__all__ = [
    "CLASS_CONFIDENCE",
    "FeatureExtractor",
    "InceptionV3Features",
    "class_coverage",
    "classifier_features",
    "conditional_accuracy",
    "digits_classifier",
    "digits_split",
    "evaluate",
    "evaluate_samples",
    "frechet_distance",
    "frechet_inception_distance",
    "intra_class_fid",
    "kernel_inception_distance",
    "kid",
    "mode_classifier",
    "mode_coverage",
    "sliced_wasserstein_distance",
]
