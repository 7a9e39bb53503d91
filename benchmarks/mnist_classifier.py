"""Retrains the MNIST classifier that ships with the package, and reports its test accuracy.

`python benchmarks/mnist_classifier.py` trains `mnist_classifier(cache=False)` (28×28, 30
epochs, seed 0) and prints its accuracy on the 1,000 test digits beside the shipped weights';
`--write` replaces `keras_wgangp/evaluation/weights/mnist_classifier_28.weights.h5` with it.
FIDs measured with new weights are not comparable with those on the results pages.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras_wgangp as kw  # noqa: E402  (before keras: it turns oneDNN on)
from keras_wgangp.evaluation import mnist as mnist_lib  # noqa: E402


def accuracy(model) -> float:
    images, labels = kw.data.mnist("test")
    return float((model.predict(images, verbose=0).argmax(axis=1) == labels).mean())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="replace the shipped weights")
    args = parser.parse_args(argv)
    trained = kw.evaluation.mnist_classifier(cache=False)
    shipped = kw.evaluation.mnist_classifier()
    print(f"test accuracy: trained now {accuracy(trained):.4f}, shipped {accuracy(shipped):.4f}")
    if args.write:
        network = mnist_lib.network(28, 0)  # without the optimizer's variables: a third of the size
        network.set_weights(trained.get_weights())
        network.save_weights(mnist_lib.SHIPPED_WEIGHTS)
        print(f"wrote {mnist_lib.SHIPPED_WEIGHTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
