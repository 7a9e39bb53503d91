"""The PyTorch step: `torch.autograd.grad`, eager control flow."""

from __future__ import annotations

import contextlib

import torch


class Trainer:
    def train_step(self, data):
        return self._train_step(data)


def gradients(loss_fn, variables, model):
    with torch.enable_grad():
        loss, aux = loss_fn()
        params = [v.value for v in variables]
        grads = torch.autograd.grad(loss, params, allow_unused=True)
    # An unconnected variable (a critic head this loss does not use) gets zeros.
    grads = [torch.zeros_like(p) if g is None else g for g, p in zip(grads, params, strict=True)]
    return aux, grads


def apply(optimizer, grads, variables, computed) -> None:
    with torch.no_grad():
        optimizer.apply(grads, variables)


def lazy(run, compute, skip):
    return compute() if bool(run) else skip()  # eager: the skipped update costs nothing


def ordered(tensors):
    return contextlib.nullcontext()  # eager ops run in program order


def replicas(model) -> int:
    return 1


def finish_logs(model, logs: dict) -> dict:
    return logs
