"""The paper's toy experiment (Gulrajani et al. 2017, Figure 2 style), three datasets.

Trains WGAN-GP on 8gaussians, 25gaussians and swissroll and draws one figure
with a column per dataset: real points (orange), generated points (green) and
the critic's value contours. Prints mode coverage for the Gaussian mixtures.

Time on a 2-core CPU: about 3 minutes (2,000 generator steps per dataset).
Set WGANGP_EXAMPLE_QUICK=1 for a few-step smoke run. Output:
example-output/toy_2d.png (or $WGANGP_EXAMPLE_OUTPUT/toy_2d.png).
"""

import os

import keras
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import keras_wgangp as kw

QUICK = os.environ.get("WGANGP_EXAMPLE_QUICK") == "1"
OUTPUT = os.environ.get("WGANGP_EXAMPLE_OUTPUT", "example-output")
STEPS, BATCH, CRITIC_STEPS = (20, 64, 5) if QUICK else (2000, 256, 5)

figure = Figure(figsize=(15, 5))
for column, name in enumerate(kw.data.TOY_DATASETS):
    keras.utils.set_random_seed(0)
    gan = kw.WGANGP(
        kw.architectures.mlp_generator(units=128),
        kw.architectures.mlp_critic(units=128),
        critic_steps=CRITIC_STEPS,
        gp_weight=1.0,  # see README: lambda = 1 learns the toys in CPU minutes
    )
    gan.compile(
        keras.optimizers.Adam(3e-4, beta_1=0.5, beta_2=0.9),
        keras.optimizers.Adam(3e-4, beta_1=0.5, beta_2=0.9),
    )
    real = kw.data.toy_samples(name, STEPS * CRITIC_STEPS * BATCH, seed=0)
    gan.fit(real, batch_size=BATCH, epochs=1, verbose=0)

    fake = gan.generate(1000, seed=0)
    low, high = real.min(axis=0) - 0.3, real.max(axis=0) + 0.3
    xs, ys = np.meshgrid(np.linspace(low[0], high[0], 100), np.linspace(low[1], high[1], 100))
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype("float32")
    values = gan.critic.predict(grid, verbose=0, batch_size=4096).reshape(xs.shape)
    axes = figure.add_subplot(1, 3, column + 1)
    axes.contour(xs, ys, values, levels=15, cmap="viridis", linewidths=0.8)
    axes.scatter(real[:1000, 0], real[:1000, 1], s=3, c="tab:orange", alpha=0.5)
    axes.scatter(fake[:, 0], fake[:, 1], s=3, c="tab:green", alpha=0.5)
    axes.set_title(name)
    axes.set_aspect("equal")
    if name != "swissroll":
        print(name, kw.evaluation.mode_coverage(gan.generate(2500, seed=1), name))

os.makedirs(OUTPUT, exist_ok=True)
FigureCanvasAgg(figure)
figure.savefig(os.path.join(OUTPUT, "toy_2d.png"), dpi=90, bbox_inches="tight")
print("Wrote", os.path.join(OUTPUT, "toy_2d.png"))
