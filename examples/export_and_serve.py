"""Export the generator as a SavedModel and serve it with TensorFlow alone.

Trains a small toy WGAN-GP, exports it with `gan.export`, then loads the
export in a fresh Python process that imports only TensorFlow and calls both
signatures: `serve` (latents to samples) and `sample` (count and seed to
samples, deterministic per seed). The same folder, placed as version `1/`
under a model folder, is what TensorFlow Serving loads.

Time on a 2-core CPU: about 30 seconds. Set WGANGP_EXAMPLE_QUICK=1 for a
smoke run. Output: example-output/exported_generator/1/.
"""

import os
import subprocess
import sys
import textwrap

import keras

import keras_wgangp as kw

QUICK = os.environ.get("WGANGP_EXAMPLE_QUICK") == "1"
OUTPUT = os.environ.get("WGANGP_EXAMPLE_OUTPUT", "example-output")
steps = 10 if QUICK else 400

keras.utils.set_random_seed(0)
gan = kw.WGANGP(
    kw.architectures.mlp_generator(units=64), kw.architectures.mlp_critic(units=64), gp_weight=1.0
)
gan.compile(
    keras.optimizers.Adam(3e-4, beta_1=0.5, beta_2=0.9), keras.optimizers.Adam(3e-4, beta_1=0.5, beta_2=0.9)
)
gan.fit(kw.data.toy_samples("8gaussians", steps * 5 * 256, seed=0), batch_size=256, epochs=1, verbose=0)

path = os.path.join(OUTPUT, "exported_generator", "1")
gan.export(path, overwrite=True)

serve = textwrap.dedent(
    """
    import sys
    import tensorflow as tf
    served = tf.saved_model.load(sys.argv[1])
    print("signatures:", sorted(served.signatures))
    print("serve(z) ->", served.serve(tf.random.normal((3, 2))).shape)
    a = served.sample(tf.constant(4), tf.constant(7, tf.int64))
    b = served.sample(tf.constant(4), tf.constant(7, tf.int64))
    print("sample(4, seed=7) deterministic:", bool(tf.reduce_all(a == b)))
    assert "keras_wgangp" not in sys.modules
    """
)
subprocess.run([sys.executable, "-c", serve, path], check=True)
model_folder = os.path.dirname(path)
print("Serve it with TensorFlow Serving:")
print(
    f"  docker run -p 8501:8501 -v $PWD/{model_folder}:/models/wgangp -e MODEL_NAME=wgangp tensorflow/serving"
)
