"""Sample-quality measures, one small module each, and the protocol that uses them.

| module | measures |
|---|---|
| `frechet` | `frechet_distance` (FID) and `frechet_inception_distance` on images |
| `kid` | `kernel_inception_distance` (KID) and `kid` on images |
| `sliced_wasserstein` | `sliced_wasserstein_distance`, for the 2-D toys |
| `precision_recall` | `precision_recall` (Kynkäänniemi et al. 2019) |
| `density_coverage` | `density_coverage` (Naeem et al. 2020) |
| `inception_score` | `inception_score` and `InceptionV3Classifier` |
| `statistics` | `FeatureStatistics`: a real set's mean and covariance, saved once |
| `stacked` | `stacked_mode_coverage`, `mode_histogram` (modes, KL) and `stacked_features` |
| `reference` | the real side of the image measures (`real_reference`), computed once and cached |
| `neighbours` | the k-NN balls behind precision/recall and density/coverage |
| `memorization` | `memorization` (authenticity, copy share) and `nearest_training_images` |
| `toys` | `mode_coverage` and `mode_classifier` of the toy mixtures |
| `class_coverage` | `class_coverage`: the classes a classifier recognises |
| `conditional` | `conditional_accuracy` and `intra_class_fid` |
| `features` | `FeatureExtractor`, `InceptionV3Features`, `classifier_features` |
| `digits` | `digits_classifier`, the offline feature network for digits |
| `mnist` | `mnist_classifier`, the offline feature network for real 28×28 MNIST |
| `protocol` | `evaluate` and `evaluate_samples`: the measures per dataset |

Every name is also available here, as `keras_wgangp.evaluation.<name>`.

Examples:
    >>> import numpy as np
    >>> points = np.random.default_rng(0).normal(size=(200, 2))
    >>> round(sliced_wasserstein_distance(points, points), 6)
    0.0
"""

from keras_wgangp.data import digits_split
from keras_wgangp.evaluation.class_coverage import class_coverage, coverage_of_probabilities
from keras_wgangp.evaluation.conditional import conditional_accuracy, intra_class_fid
from keras_wgangp.evaluation.density_coverage import density_coverage
from keras_wgangp.evaluation.digits import digits_classifier
from keras_wgangp.evaluation.features import FeatureExtractor, InceptionV3Features, classifier_features
from keras_wgangp.evaluation.frechet import frechet_distance, frechet_inception_distance
from keras_wgangp.evaluation.inception_score import InceptionV3Classifier, inception_score
from keras_wgangp.evaluation.kid import kernel_inception_distance, kid
from keras_wgangp.evaluation.memorization import memorization, nearest_training_images
from keras_wgangp.evaluation.mnist import mnist_classifier
from keras_wgangp.evaluation.precision_recall import precision_recall
from keras_wgangp.evaluation.protocol import CLASS_CONFIDENCE, evaluate, evaluate_samples
from keras_wgangp.evaluation.reference import IMAGE_DATASETS, image_features, real_images, real_reference
from keras_wgangp.evaluation.sliced_wasserstein import sliced_wasserstein_distance
from keras_wgangp.evaluation.stacked import (
    STACKED_SAMPLES,
    mode_histogram,
    stacked_features,
    stacked_mode_coverage,
)
from keras_wgangp.evaluation.statistics import FeatureStatistics, feature_statistics, load_statistics
from keras_wgangp.evaluation.toys import mode_classifier, mode_coverage

__all__ = [
    "CLASS_CONFIDENCE",
    "IMAGE_DATASETS",
    "FeatureExtractor",
    "FeatureStatistics",
    "InceptionV3Classifier",
    "InceptionV3Features",
    "STACKED_SAMPLES",
    "class_coverage",
    "classifier_features",
    "coverage_of_probabilities",
    "conditional_accuracy",
    "density_coverage",
    "digits_classifier",
    "digits_split",
    "evaluate",
    "evaluate_samples",
    "feature_statistics",
    "frechet_distance",
    "frechet_inception_distance",
    "image_features",
    "inception_score",
    "intra_class_fid",
    "kernel_inception_distance",
    "kid",
    "load_statistics",
    "memorization",
    "mode_classifier",
    "mode_histogram",
    "mnist_classifier",
    "mode_coverage",
    "nearest_training_images",
    "precision_recall",
    "real_images",
    "real_reference",
    "sliced_wasserstein_distance",
    "stacked_features",
    "stacked_mode_coverage",
]
