"""The JAX step: a pure `train_step(state, data)` around the shared step.

Keras's JAX trainer jit-compiles `train_step(state, data)`, where `state`
holds the values of the model's trainable, non-trainable, optimizer and
metric variables. This step maps every variable to its value in a
`keras.StatelessScope`, runs the shared (stateful-looking) step inside it,
and returns the values the scope collected. `GAN` has two optimizers, so
the optimizer slot of the state holds both, generator's first.

Gradients use `jax.value_and_grad` over the differentiated variables' values
inside a nested scope that also maps every other variable (a nested scope
does not read through to the outer one); state written inside the loss
(random-seed state) comes back as auxiliary output and is written to the
outer scope.
"""

from __future__ import annotations

import contextlib

import jax
import keras


def _optimizers(model):
    return [opt for opt in (model.generator_optimizer, model.critic_optimizer) if opt is not None]


def _optimizer_variables(model) -> list:
    return [v for opt in _optimizers(model) for v in opt.variables]


def state_variables(model) -> list:
    """Every variable the step reads or writes, in the state's order."""
    return (
        list(model.trainable_variables)
        + list(model.non_trainable_variables)
        + _optimizer_variables(model)
        + list(model.metrics_variables)
    )


class Trainer:
    def train_step(self, state, data):
        trainable, non_trainable, optimizer_values, metrics = state
        values = [*trainable, *non_trainable, *optimizer_values, *metrics]
        variables = state_variables(self)
        with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))) as scope:
            logs = self._train_step(data)
        new = [scope.get_current_value(v) for v in variables]
        sizes = [len(trainable), len(non_trainable), len(optimizer_values)]
        a, b, c = sizes[0], sizes[0] + sizes[1], sum(sizes)
        return logs, (new[:a], new[a:b], new[b:c], new[c:])

    # Keras's JAX trainer reads and writes `self.optimizer.variables`; a GAN
    # has two optimizers, which these overrides put in that slot.
    def _get_jax_state(
        self,
        trainable_variables=False,
        non_trainable_variables=False,
        optimizer_variables=False,
        metrics_variables=False,
        purge_model_variables=False,
    ):
        state = []
        if trainable_variables:
            state.append([v.value for v in self.trainable_variables])
        if non_trainable_variables:
            state.append([v.value for v in self.non_trainable_variables])
        if optimizer_variables:
            state.append([v.value for v in _optimizer_variables(self)])
        if metrics_variables:
            state.append([v.value for v in self.metrics_variables])
        return tuple(state)

    def _get_state_sharding_spec(self):
        # With a keras.distribution (DataParallel), the jitted step's output
        # state keeps each variable's sharding, both optimizers included.
        return tuple(
            [v.value.sharding for v in variables]
            for variables in (
                self.trainable_variables,
                self.non_trainable_variables,
                _optimizer_variables(self),
                self.metrics_variables,
            )
        )

    def jax_state_sync(self):
        if not getattr(self, "_jax_state", None) or self._jax_state_synced:
            return
        slots = (
            ("trainable_variables", self.trainable_variables),
            ("non_trainable_variables", self.non_trainable_variables),
            ("optimizer_variables", _optimizer_variables(self)),
            ("metrics_variables", self.metrics_variables),
        )
        for key, variables in slots:
            values = self._jax_state.get(key, None)
            if values:
                for variable, value in zip(variables, values, strict=True):
                    variable.assign(value)
        self._jax_state_synced = True


def gradients(loss_fn, variables, model):
    differentiated = {id(v) for v in variables}
    others = [v for v in state_variables(model) if id(v) not in differentiated]
    current = [v.value for v in others]  # values in the outer scope

    def pure(values):
        mapping = list(zip(others, current, strict=True)) + list(zip(variables, values, strict=True))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            loss, aux = loss_fn()
        written = [scope.get_current_value(v) for v in others]
        return loss, (aux, written)

    (_, (aux, written)), grads = jax.value_and_grad(pure, has_aux=True)([v.value for v in variables])
    for variable, value in zip(others, written, strict=True):
        variable.assign(value)  # into the outer scope; unchanged ones keep their value
    return aux, grads


def apply(optimizer, grads, variables, computed) -> None:
    optimizer.apply(grads, variables)


def lazy(run, compute, skip):
    # Inside jit both branches are traced; computing the term and selecting
    # keeps its random draws out of a `lax.cond` branch (where their state
    # updates could not leave). The arithmetic is lazy regularisation's; the
    # saving is TensorFlow's and PyTorch's only.
    computed, skipped = compute(), skip()
    return jax.tree_util.tree_map(lambda a, b: keras.ops.where(run, a, b), computed, skipped)


def ordered(tensors):
    return contextlib.nullcontext()  # a pure function: data dependencies order it


def replicas(model) -> int:
    return 1  # keras.distribution shards the global batch; losses are global means


def finish_logs(model, logs: dict) -> dict:
    return logs
