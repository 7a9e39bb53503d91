"""The TensorFlow step: `tf.GradientTape`, `tf.cond`, control dependencies."""

from __future__ import annotations

import tensorflow as tf

from keras_wgangp import penalties


class Trainer:
    def train_step(self, data):
        # Every op of the step, optimizer counters and random draws included,
        # waits for the data: when Keras calls the step once more on an
        # exhausted dataset of unknown length, nothing may advance.
        with tf.control_dependencies(tf.nest.flatten(data)):
            return self._train_step(data)


def gradients(loss_fn, variables, model):
    with tf.GradientTape() as tape:
        loss, aux = loss_fn()
    # Same gradients, minus a backward pass of zeros through the penalties'
    # forward passes.
    with penalties.skip_zero_second_derivatives():
        grads = tape.gradient(loss, variables)
    return aux, grads


def apply(optimizer, grads, variables, computed) -> None:
    # TensorFlow orders each variable read before the next write of that
    # variable, but not the ops that consume the value read. With the zero
    # skip, a bias gradient no longer passes through the critic's forward
    # pass on x̂, so the bias update could run while that pass still used the
    # bias, and some runs saw the updated value. Waiting for the loss and the
    # penalties' metrics, which depend on every forward pass of the update,
    # makes each update read only the previous weights.
    with tf.control_dependencies(computed):
        optimizer.apply(grads, variables)


def lazy(run, compute, skip):
    return tf.cond(run, compute, skip)


def ordered(tensors):
    return tf.control_dependencies(tensors)


def replicas(model) -> int:
    # tf.distribute sums gradients over replicas; each replica's mean loss is
    # divided by the count so that the sum is the global-batch mean.
    return model.distribute_strategy.num_replicas_in_sync


def finish_logs(model, logs: dict) -> dict:
    # Keras reduces multi-worker logs with reduce(MEAN, axis=0), which needs a
    # batch axis; a length-1 vector reduces to the scalar.
    strategy = model.distribute_strategy
    in_multi_worker = getattr(getattr(strategy, "extended", None), "_in_multi_worker_mode", lambda: False)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and in_multi_worker():
        return {name: tf.reshape(value, (1,)) for name, value in logs.items()}
    return logs
