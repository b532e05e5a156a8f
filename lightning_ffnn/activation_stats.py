"""What each hidden layer's activations look like: the normalization lab's evidence.

`layer_activations(net, activation_positions(spec), x)` runs a network on x once (no gradient) and returns the
output of every activation layer of its spec, by position. `ActivationHistograms` logs their histograms to TensorBoard
(``activations/layer{i}``) after each evaluation, on the held-out set ("val", else "test", else "train"), and keeps
the last epoch's per-layer statistics (`summary`) in ``last``.

`weight_gradient_norms` measures how much of the loss's gradient reaches each depth (the size of dL/dW per linear
layer), and `common_fraction` how much of a layer's variation across its units is the same for every example (what
layer norm divides by, and what it cannot remove).

A sigmoid saturates near 0 and 1, where its derivative sigma (1 - sigma) <= 0.05 * 0.95 is small: a layer whose
outputs sit there passes back little gradient. ``saturated`` counts outputs below 0.05 or above 0.95.
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback

from numpy_ops import spec as S


def activation_positions(spec) -> list[int]:
    """Indices of the activation layers of a network spec (top level): where ``net[i]`` is an activation."""
    return [i for i, layer in enumerate(spec) if isinstance(layer, S.Activation)]


@torch.no_grad()
def layer_activations(net: torch.nn.Sequential, positions: list[int], x: torch.Tensor) -> dict[int, np.ndarray]:
    """Output of each layer ``net[i]``, i in ``positions``, on ``x`` (float64 arrays), keyed by its position."""
    found: dict[int, np.ndarray] = {}
    hooks = [net[i].register_forward_hook(lambda m, inp, out, i=i: found.__setitem__(
        i, out.detach().to(torch.float64).numpy().copy())) for i in positions]
    try:
        net(x)
    finally:
        for h in hooks:
            h.remove()
    return found


def summary(values: np.ndarray) -> dict[str, float]:
    """Of one layer's outputs (N, units): mean, standard deviation, the fraction saturated, and ``spread``, each
    unit's standard deviation over the N examples, averaged over units (0: every example looks the same there)."""
    return {"mean": float(values.mean()), "std": float(values.std()),
            "saturated": float(np.mean((values < 0.05) | (values > 0.95))),
            "spread": float(values.reshape(len(values), -1).std(axis=0).mean())}


def common_fraction(values: np.ndarray) -> float:
    """Of one layer's outputs (N, units): the variance across units of the mean example over the mean of each
    example's variance across units. Layer norm subtracts each example's mean over units and divides by its spread
    over units; when this is near 1, that spread is a pattern common to every example, and what tells the examples
    apart stays a small remainder after the division. (Batch norm subtracts each unit's mean over the examples: it
    removes the common pattern itself.)"""
    flat = values.reshape(len(values), -1)
    return float(flat.mean(axis=0).var() / flat.var(axis=1).mean())


def weight_gradient_norms(net: torch.nn.Module, loss_fn, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """||dL/dW|| (Frobenius) of every linear layer's weight, input side first, for the loss of one batch in the net's
    current mode: how much of the gradient reaches each depth. By `torch.autograd.grad`: nothing is left in
    ``.grad`` (a batch-norm net in training mode does update its running statistics)."""
    weights = [m.weight for m in net.modules() if isinstance(m, torch.nn.Linear)]
    return [float(g.norm()) for g in torch.autograd.grad(loss_fn(net(x), y), weights)]


def held_out(dm) -> tuple[str, torch.Tensor]:
    sets = dm.eval_sets()
    name = next(n for n in ("val", "test", "train") if n in sets)
    return name, sets[name][0]


class ActivationHistograms(Callback):
    """After each evaluation, a TensorBoard histogram of every activation layer's outputs on the held-out set.
    Evaluation mode (batch norm uses its running statistics); the training itself is untouched."""

    def __init__(self):
        self.last: dict[int, dict[str, float]] = {}

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        dm = trainer.datamodule
        if trainer.sanity_checking or dm is None:
            return
        _, x = held_out(dm)
        was_training = pl_module.net.training
        pl_module.net.eval()
        acts = layer_activations(pl_module.net, activation_positions(pl_module.network_spec()), x.to(pl_module.device))
        pl_module.net.train(was_training)
        self.last = {i: summary(a) for i, a in acts.items()}
        writer = getattr(trainer.logger, "experiment", None)
        if writer is None or not hasattr(writer, "add_histogram"):
            return
        for i, a in acts.items():
            writer.add_histogram(f"activations/layer{i}", a.reshape(-1), trainer.global_step)
            writer.add_scalar(f"activations_saturated/layer{i}", self.last[i]["saturated"], trainer.global_step)
