"""The paper's CIFAR-10 ResNet WGAN-GP (GPU-sized).

The generator and critic of Gulrajani et al. 2017's CIFAR-10 experiment
(residual blocks, DIM=128), trained with the paper's hyperparameters:
Adam(2e-4, beta_1=0, beta_2=0.9), lambda=10, 5 critic steps, batch 64.
The paper trains for 100,000 generator steps, which needs a GPU (about a
day on one); on a 2-core CPU one generator step takes several seconds.

Needs CIFAR-10 from tensorflow-datasets (downloaded on first use, or prepared
offline and passed with --data-dir). Set WGANGP_EXAMPLE_QUICK=1 for a tiny
smoke run and WGANGP_EXAMPLE_MOCK_TFDS=1 to use tfds's offline mock data.
Output: example-output/cifar10/.
"""

import contextlib
import os
import sys

import keras
import tensorflow_datasets as tfds

import keras_wgangp as kw

QUICK = os.environ.get("WGANGP_EXAMPLE_QUICK") == "1"
MOCK = os.environ.get("WGANGP_EXAMPLE_MOCK_TFDS") == "1"
OUTPUT = os.path.join(os.environ.get("WGANGP_EXAMPLE_OUTPUT", "example-output"), "cifar10")
data_dir = sys.argv[sys.argv.index("--data-dir") + 1] if "--data-dir" in sys.argv else None
DIM = 8 if QUICK else 128

keras.utils.set_random_seed(0)
with tfds.testing.mock_data(num_examples=128) if MOCK else contextlib.nullcontext():
    dataset = kw.data.load_tfds("cifar10", batch_size=64, data_dir=data_dir, download=not MOCK).repeat()

gan = kw.WGANGP(
    kw.architectures.resnet_generator(latent_dim=128, image_shape=(32, 32, 3), dim=DIM),
    kw.architectures.resnet_critic(image_shape=(32, 32, 3), dim=DIM),
    critic_steps=5,
    gp_weight=10.0,
)
lr = keras.optimizers.schedules.PolynomialDecay(2e-4, decay_steps=100_000, end_learning_rate=0.0)
gan.compile(
    generator_optimizer=keras.optimizers.Adam(lr, beta_1=0.0, beta_2=0.9),
    critic_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.0, beta_2=0.9),
)
gan.fit(
    dataset,
    epochs=1 if QUICK else 100,
    steps_per_epoch=1 if QUICK else 1000,
    callbacks=[
        kw.callbacks.SampleImages(OUTPUT, num_images=64),
        keras.callbacks.BackupAndRestore(os.path.join(OUTPUT, "backup")),
    ],
    verbose=2,
)
gan.save(os.path.join(OUTPUT, "cifar10_resnet.keras"))
