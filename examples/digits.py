"""DCGAN-style WGAN-GP on scikit-learn's handwritten digits (offline, real images).

Loads the 1,797 digits at 16x16, trains the reference DCGAN pair with a
sample grid per 10 epochs, then reports which digit classes a classifier
trained on the real digits recognises among the generated images.

Time on a 2-core CPU: about 2 minutes (100 epochs). Set WGANGP_EXAMPLE_QUICK=1
for a smoke run. Output: example-output/digits/ (or $WGANGP_EXAMPLE_OUTPUT/digits/).
"""

import os

import keras

import keras_wgangp as kw

QUICK = os.environ.get("WGANGP_EXAMPLE_QUICK") == "1"
OUTPUT = os.path.join(os.environ.get("WGANGP_EXAMPLE_OUTPUT", "example-output"), "digits")
EPOCHS = 2 if QUICK else 100

keras.utils.set_random_seed(0)
images, labels = kw.data.load_digits(image_size=16)  # (1797, 16, 16, 1) in [-1, 1]
if QUICK:
    images = images[:256]

gan = kw.WGANGP(
    kw.architectures.dcgan_generator(latent_dim=64, image_shape=(16, 16, 1), filters=32),
    kw.architectures.dcgan_critic(image_shape=(16, 16, 1), filters=32),
    critic_steps=5,
    gp_weight=10.0,
)
gan.compile(
    generator_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9),
    critic_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9),
)
samples = kw.callbacks.SampleImages(OUTPUT, num_images=64, every_n_epochs=1 if QUICK else 10)
history = gan.fit(images, batch_size=64, epochs=EPOCHS, callbacks=[samples], verbose=2)
kw.plots.plot_history(history, os.path.join(OUTPUT, "losses.png"))

classifier = kw.evaluation.digits_classifier(16, epochs=2 if QUICK else 40, cache=not QUICK)
coverage = kw.evaluation.class_coverage(
    gan.generate(1000, seed=0), classifier, min_confidence=kw.evaluation.CLASS_CONFIDENCE
)
print("digit classes covered:", coverage["classes_covered"], "of 10; counts:", coverage["counts"])
print("sample grids in", OUTPUT)
