"""Optimizers with one interface, following ``torch.optim`` step for step.

    opt = Adam(params, lr=1e-3)       # params: list of NumPy arrays, updated in place
    opt.step(grads)                   # grads: list of arrays, same order and shapes

The update formulas are the textbook ones; torch's implementations order the same arithmetic
differently, and in float64 the two trajectories agree to rounding (tested over 100 steps to 1e-12).
Full-batch gradient descent is `SGD` with the batch being the whole set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Optimizer:
    def __init__(self, params: Sequence[np.ndarray], lr: float):
        if not lr > 0:
            raise ValueError(f"learning rate must be > 0, got lr={lr}")
        self.params = list(params)
        self.lr = float(lr)
        self.state: list[dict] = [{} for _ in self.params]

    def step(self, grads: Sequence[np.ndarray]) -> None:
        if len(grads) != len(self.params):
            raise ValueError(f"step got {len(grads)} gradients for {len(self.params)} parameters")
        for p, g, s in zip(self.params, grads, self.state):
            self._update(p, g, s)

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict:
        return {"lr": self.lr, "state": [{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
                                         for s in self.state]}

    def load_state_dict(self, sd: dict) -> None:
        # Copy the arrays: the update works on the state in place, and must not alter the dict it was given.
        self.lr = sd["lr"]
        self.state = [{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()} for s in sd["state"]]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay.

    ``g = grad + weight_decay * p``; with momentum ``buf = momentum * buf + (1 - dampening) * g``
    (``buf = g`` on the first step) and ``g = g + momentum * buf`` (Nesterov) or ``g = buf``;
    then ``p -= lr * g``. Same as ``torch.optim.SGD``.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, lr)
        if momentum < 0 or weight_decay < 0:
            raise ValueError(f"momentum and weight_decay must be >= 0, got {momentum}, {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires momentum > 0 and dampening = 0")
        self.momentum, self.dampening = momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov

    def _update(self, p, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            # BEGIN SOLUTION sgd_momentum
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * g
            g = g + self.momentum * buf if self.nesterov else buf
            # END SOLUTION
        # BEGIN SOLUTION sgd
        p -= self.lr * g
        # END SOLUTION


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction; torch's defaults and eps placement.

    ``t += 1``; ``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
    ``m_hat = m / (1 - b1^t)``; ``v_hat = v / (1 - b2^t)``; ``p -= lr * m_hat / (sqrt(v_hat) + eps)``
    -- eps after the square root, as torch. ``weight_decay`` is L2 added to the gradient
    (``torch.optim.Adam``, not AdamW).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"Adam betas must lie in [0, 1), got {betas}")
        self.beta1, self.beta2, self.eps, self.weight_decay = b1, b2, eps, weight_decay

    def _update(self, p, g, state):
        # BEGIN SOLUTION adam
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(p), exp_avg_sq=np.zeros_like(p))
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        b1, b2 = self.beta1, self.beta2
        if self.weight_decay:
            g = g + self.weight_decay * p
        m[...] = b1 * m + (1 - b1) * g        # first moment: a running mean of the gradient
        v[...] = b2 * v + (1 - b2) * g * g    # second moment: a running mean of its square
        m_hat = m / (1 - b1**t)               # bias correction: m and v start at 0
        v_hat = v / (1 - b2**t)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        # END SOLUTION


OPTIMIZERS = {"sgd": SGD, "adam": Adam}
