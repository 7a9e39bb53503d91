"""Child-process programs for the distribution tests (logical devices and
TF_CONFIG must be set before TensorFlow starts, so these cannot run inside
the pytest process). Usage: python distributed_worker.py MODE[,MODE...] OUT_DIR.

Several modes run one after another in one process (one TensorFlow start-up);
each writes OUT_DIR/MODE.json. `mirrored_fit` needs a process of its own: after
other strategies' collectives its collective instance keys clash."""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
modes, out_dir = sys.argv[1].split(","), sys.argv[2]

import tensorflow as tf  # noqa: E402

if set(modes) & {"mirrored_step", "mirrored_step_gan", "mirrored_fit"}:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_wgangp as kw  # noqa: E402


def build(strategy, units=16, critic_steps=2, **kwargs):
    with strategy.scope():
        keras.utils.set_random_seed(0)
        gan = kw.WGANGP(
            kw.architectures.mlp_generator(units=units),
            kw.architectures.mlp_critic(units=units),
            critic_steps=critic_steps,
            seed=3,
            **kwargs,
        )
        return gan


def build_gan(strategy, critic_steps=2):
    """A hinge GAN with a lazy gradient penalty and R1. (Relativistic losses and DRAGAN use
    batch statistics, which are per replica, so they cannot match one replica exactly.)"""
    with strategy.scope():
        keras.utils.set_random_seed(0)
        return kw.GAN(
            kw.architectures.mlp_generator(units=16),
            kw.architectures.mlp_critic(units=16),
            loss="hinge",
            penalty=[kw.penalties.GradientPenalty(every=2), kw.penalties.R1(gamma=1.0)],
            critic_steps=critic_steps,
            seed=3,
        )


def mirrored_step_gan():
    mirrored_step(build_gan, "mirrored_step_gan")


def mirrored_step(make=build, out_name="mirrored_step"):
    """One train_step on 2 replicas vs 1 replica, same global batch and draws."""
    k, batch = 2, 8
    group = np.random.default_rng(0).normal(size=(k * batch, 2)).astype("float32")
    results = {}
    for name, strategy in (
        ("one", tf.distribute.OneDeviceStrategy("/cpu:0")),
        ("two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])),
    ):
        gan = make(strategy, critic_steps=k)
        with strategy.scope():
            gan.compile(keras.optimizers.SGD(0.05), keras.optimizers.SGD(0.05))
        initial = [w.copy() for w in gan.get_weights()]
        replicas = strategy.num_replicas_in_sync
        # Replica r gets, for every critic step i, the r-th slice of chunk i, so
        # the replicas together see exactly the single replica's critic batches.
        chunks = group.reshape(k, replicas, batch // replicas, 2)
        per_replica = [tf.constant(chunks[:, r].reshape(-1, 2)) for r in range(replicas)]
        data = strategy.experimental_distribute_values_from_function(
            lambda ctx, per_replica=per_replica: per_replica[ctx.replica_id_in_sync_group]
        )
        logs = strategy.run(tf.function(gan.train_step), args=(data,))
        results[name] = {
            "weights": [w.tolist() for w in gan.get_weights()],
            "update_size": float(
                max(np.abs(a - b).max() for a, b in zip(initial, gan.get_weights(), strict=True))
            ),
            "replicas": replicas,
            "penalty": float(strategy.reduce("MEAN", logs["gradient_penalty"], axis=None)),
        }
    json.dump(results, open(os.path.join(out_dir, f"{out_name}.json"), "w"))


def mirrored_fit():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    gan = build(strategy, units=128, critic_steps=5, gp_weight=1.0)
    with strategy.scope():
        gan.compile(keras.optimizers.Adam(3e-4, 0.5, 0.9), keras.optimizers.Adam(3e-4, 0.5, 0.9))
    steps, batch = 800, 256
    history = gan.fit(
        kw.data.toy_samples("8gaussians", steps * 5 * batch, seed=0), batch_size=batch, verbose=0
    )
    coverage = kw.evaluation.mode_coverage(gan.generate(2000, seed=1), "8gaussians")
    gan.save(os.path.join(out_dir, "mirrored.keras"))
    gan.export(os.path.join(out_dir, "mirrored_export"), verbose=False)
    json.dump(
        {
            "coverage": coverage,
            "generator_steps": int(gan.generator_optimizer.iterations.numpy()),
            "critic_steps": int(gan.critic_optimizer.iterations.numpy()),
            "history": history.history,
        },
        open(os.path.join(out_dir, "mirrored_fit.json"), "w"),
    )


def multi_worker():
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    task = json.loads(os.environ["TF_CONFIG"])["task"]
    gan = build(strategy, units=16, critic_steps=2)
    with strategy.scope():
        gan.compile()
    data = kw.data.toy_samples("8gaussians", 640, seed=0)
    history = gan.fit(data, batch_size=32, epochs=2, verbose=0)
    # Keras's recipe: every worker saves (the collective ops need all of them);
    # only the chief writes to the real path, the others to a scratch path.
    chief = task["index"] == 0
    path = os.path.join(out_dir, "chief.keras" if chief else f"scratch_{task['index']}.keras")
    gan.save(path)
    if not chief:
        os.remove(path)
    json.dump(
        {
            "generator_steps": int(gan.generator_optimizer.iterations.numpy()),
            "loss": history.history["critic_loss"],
        },
        open(os.path.join(out_dir, f"worker_{task['index']}.json"), "w"),
    )


PROGRAMS = {
    "mirrored_step": mirrored_step,
    "mirrored_step_gan": mirrored_step_gan,
    "mirrored_fit": mirrored_fit,
    "multi_worker": multi_worker,
}
for mode in modes:
    PROGRAMS[mode]()
