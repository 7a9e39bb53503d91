"""WGAN-GP on MNIST from tensorflow-datasets.

Needs the MNIST data: with internet, tfds downloads it on first use
(`download=True` below); offline, prepare it elsewhere and pass
`--data-dir`. The pipeline comes from `kw.data.load_tfds`.

Time on a 2-core CPU: about 25 minutes for 5 epochs of 60,000 images; a GPU
takes about a minute. Set WGANGP_EXAMPLE_QUICK=1 for a few steps, and
WGANGP_EXAMPLE_MOCK_TFDS=1 to replace the data with tfds's offline mock data
(used by the test suite). Output: example-output/mnist/.
"""

import contextlib
import os
import sys

import keras
import tensorflow_datasets as tfds

import keras_wgangp as kw

QUICK = os.environ.get("WGANGP_EXAMPLE_QUICK") == "1"
MOCK = os.environ.get("WGANGP_EXAMPLE_MOCK_TFDS") == "1"
OUTPUT = os.path.join(os.environ.get("WGANGP_EXAMPLE_OUTPUT", "example-output"), "mnist")
data_dir = sys.argv[sys.argv.index("--data-dir") + 1] if "--data-dir" in sys.argv else None

keras.utils.set_random_seed(0)
with tfds.testing.mock_data(num_examples=256) if MOCK else contextlib.nullcontext():
    dataset = kw.data.load_tfds("mnist", batch_size=64, data_dir=data_dir, download=not MOCK)

gan = kw.WGANGP(
    kw.architectures.dcgan_generator(latent_dim=128, image_shape=(28, 28, 1), filters=8 if QUICK else 64),
    kw.architectures.dcgan_critic(image_shape=(28, 28, 1), filters=8 if QUICK else 64),
    critic_steps=5,
    gp_weight=10.0,
)
gan.compile()  # the paper's Adam(1e-4, beta_1=0, beta_2=0.9)
gan.fit(
    dataset,
    epochs=1 if QUICK else 5,
    steps_per_epoch=2 if QUICK else None,
    callbacks=[kw.callbacks.SampleImages(OUTPUT, num_images=64)],
    verbose=2,
)
gan.save(os.path.join(OUTPUT, "mnist_wgangp.keras"))
print("samples and model in", OUTPUT)
