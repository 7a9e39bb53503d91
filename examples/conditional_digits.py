"""Class-conditional WGAN-GP on scikit-learn's digits: "generate a 7".

Trains the reference DCGAN pair with a projection critic on the digits'
training split, saves a grid with one row per digit every 50 epochs, and
reports how often the in-package digits classifier agrees with the
requested label, per class and overall. `--conditioning concat` or `acgan`
in `keras-wgangp train --dataset digits --conditional` compares the other
critics; benchmarks/conditional.py measures all three.

Time on a 2-core CPU: about 5 minutes (400 epochs = 2,000 generator steps).
Set WGANGP_EXAMPLE_QUICK=1 for a smoke run. Output:
example-output/conditional_digits/ (or $WGANGP_EXAMPLE_OUTPUT/conditional_digits/).
"""

import os

import keras

import keras_wgangp as kw

QUICK = os.environ.get("WGANGP_EXAMPLE_QUICK") == "1"
OUTPUT = os.path.join(os.environ.get("WGANGP_EXAMPLE_OUTPUT", "example-output"), "conditional_digits")
EPOCHS = 2 if QUICK else 400

keras.utils.set_random_seed(0)
x_train, y_train, _, _ = kw.data.digits_split(16)  # 1,437 digits, labels 0-9
if QUICK:
    x_train, y_train = x_train[:256], y_train[:256]

gan = kw.WGANGP(
    kw.architectures.dcgan_generator(64, (16, 16, 1), filters=32, num_classes=10),  # g([z, y])
    kw.architectures.dcgan_critic((16, 16, 1), filters=32, num_classes=10),  # projection: c([x, y])
    num_classes=10,
    ema_decay=0.999,
    seed=0,
)
gan.compile(
    generator_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9),
    critic_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.9),
)
grid = kw.callbacks.SampleImages(OUTPUT, num_images=100, every_n_epochs=1 if QUICK else 50)
gan.fit(x_train, y_train.astype("int32"), batch_size=64, epochs=EPOCHS, callbacks=[grid], verbose=2)

sevens = gan.generate(16, labels=7, seed=0)
kw.plots.save_samples_png(sevens, os.path.join(OUTPUT, "sevens.png"))
classifier = kw.evaluation.digits_classifier(16, epochs=2 if QUICK else 40, cache=not QUICK)
accuracy = kw.evaluation.conditional_accuracy(gan, classifier, num_per_class=100)
print("conditional accuracy:", round(accuracy["overall"], 3))
print("per class:", [round(a, 2) for a in accuracy["per_class"]])
print("grids:", grid.paths[-1], "| sevens:", os.path.join(OUTPUT, "sevens.png"))
