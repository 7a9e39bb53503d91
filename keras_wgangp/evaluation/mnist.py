"""The MNIST classifier: the offline feature network for real 28×28 (or padded 32×32) digits."""

from __future__ import annotations

import functools
import os

from keras_wgangp.data import mnist
from keras_wgangp.evaluation._common import cached_model

__all__ = ["SHIPPED_WEIGHTS", "mnist_classifier", "network"]

# The default classifier's weights (28×28, 30 epochs, seed 0) ship with the package: every
# machine measures with the same features, and no evaluation waits two minutes for a training.
# `python benchmarks/mnist_classifier.py --write` retrains them.
SHIPPED_WEIGHTS = os.path.join(os.path.dirname(__file__), "weights", "mnist_classifier_28.weights.h5")


def network(image_size: int = 28, seed: int = 0):
    """The untrained classifier: two blocks of two 3×3 convolutions, `features` (128) and `probabilities`.

    Args:
        image_size: 28, or 32 for zero-padded digits.
        seed: Seed of the random shifts and the dropout.

    Returns:
        A `keras.Sequential` mapping `(n, size, size, 1)` images to `(n, 10)` probabilities.

    Examples:
        >>> network().count_params()
        467818
    """
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    shift = 2 / image_size
    return keras.Sequential(
        [
            keras.Input((image_size, image_size, 1)),
            layers.RandomTranslation(shift, shift, fill_mode="constant", fill_value=-1.0, seed=seed),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.3, seed=seed),
            layers.Dense(128, activation="relu", name="features"),
            layers.Dropout(0.3, seed=seed),
            layers.Dense(10, activation="softmax", name="probabilities"),
        ],
        name=f"mnist_classifier_{image_size}",
    )


@functools.cache
def _shipped():
    model = network(28, 0)
    model.load_weights(SHIPPED_WEIGHTS)
    return model


def mnist_classifier(image_size: int = 28, cache: bool = True, epochs: int = 30, seed: int = 0):
    """A small CNN trained on the 4,000 training digits of `kw.data.mnist`.

    Two blocks of two 3×3 convolutions (32 and 64 filters) with max pooling,
    then a 128-unit layer named `features` (the FID/KID features) and the
    class probabilities. It trains with random shifts of up to 2 pixels
    (the digits are centred by their mass; generated ones are not always).
    The default (28×28, 30 epochs, seed 0) is read from the weights that ship
    with the package (`SHIPPED_WEIGHTS`). Any other is trained once and cached
    as `<cache>/mnist_classifier_<size>.keras`, like `digits_classifier`.

    Args:
        image_size: 28, or 32 for zero-padded digits.
        cache: Read the shipped weights or the cached model (`False`: train now).
        epochs: Training epochs when trained.
        seed: Training seed.

    Returns:
        A `keras.Model` mapping `(n, size, size, 1)` images in [-1, 1] to
        class probabilities `(n, 10)`.

    Examples:
        >>> clf = mnist_classifier(cache=False, epochs=1)  # the shipped one trained for 30 epochs
        >>> clf.output_shape, clf.get_layer("features").output.shape[-1]
        ((None, 10), 128)
    """
    if cache and (image_size, epochs, seed) == (28, 30, 0):
        return _shipped()

    def train():
        import keras

        x_train, y_train = mnist("train", image_size)
        model = network(image_size, seed)
        schedule = keras.optimizers.schedules.CosineDecay(2e-3, epochs * -(-len(x_train) // 64))
        model.compile(
            keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=0)
        return model

    return cached_model(f"mnist_classifier_{image_size}" if cache else None, train)
