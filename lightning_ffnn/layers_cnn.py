"""NumPy-backed modules of convolutional networks and their native twins (see `lightning_ffnn.layers`):
`NumpyConv2d` (an ``nn.Conv2d``), `NumpyMaxPool2d`, `NumpyAvgPool2d`, `NumpyDropout` (twin: `ReplayDropout`)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from numpy_ops.conv import Conv2dOp
from numpy_ops.dropout import check_p, dropout_mask
from numpy_ops.dropout import dropout as np_dropout
from numpy_ops.pooling_fast import AvgPool2dOp, MaxPool2dOp

from .bridge import apply_op


class NumpyConv2d(nn.Conv2d):
    """``nn.Conv2d`` (square kernel, groups = dilation = 1) whose forward and backward run
    `numpy_ops.conv.Conv2dOp`. Subclassing keeps ``weight`` (out, in, k, k), ``bias``, the state dict and the
    default init of ``nn.Conv2d``, so checkpoints move between backends."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int | str = 0, **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding, **kwargs)
        self.op = Conv2dOp(stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_op(self.op, x, self.weight, self.bias)

    def native(self) -> nn.Conv2d:
        return nn.Conv2d(self.in_channels, self.out_channels, self.kernel_size, stride=self.stride,
                         padding=self.padding, bias=self.bias is not None, dtype=self.weight.dtype,
                         device=self.weight.device)


class _NumpyPool2d(nn.Module):
    op_class = None
    native_class = None

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.op = self.op_class(kernel_size, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_op(self.op, x)

    def native(self) -> nn.Module:
        return self.native_class(self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return self.op.extra_repr()


class NumpyMaxPool2d(_NumpyPool2d):
    """Max pooling by `numpy_ops.pooling.MaxPool2dOp`; twin ``nn.MaxPool2d``."""

    op_class, native_class = MaxPool2dOp, nn.MaxPool2d


class NumpyAvgPool2d(_NumpyPool2d):
    """Average pooling by `numpy_ops.pooling.AvgPool2dOp`; twin ``nn.AvgPool2d``."""

    op_class, native_class = AvgPool2dOp, nn.AvgPool2d


class NumpyDropout(nn.Module):
    """Inverted dropout by `numpy_ops.dropout`: in training, a mask from a NumPy generator (kept in ``mask``,
    the one the last forward used) times the input; the identity in evaluation (``.eval()``).

    The generator is seeded by ``seed``, or else by one draw from torch's global generator at construction,
    so a run seeded with ``seed_everything`` draws the same masks every time."""

    def __init__(self, p: float = 0.5, seed: int | None = None):
        super().__init__()
        self.p = check_p(p)
        seed = int(torch.randint(0, 2 ** 62, ())) if seed is None else seed
        self.rng = np.random.default_rng(seed)
        self.mask: np.ndarray | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        self.mask = dropout_mask(self.rng, tuple(x.shape), self.p, np.dtype(str(x.dtype).removeprefix("torch.")))
        return apply_op(np_dropout, x, torch.from_numpy(self.mask))

    def native(self) -> ReplayDropout:
        return ReplayDropout(self)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class ReplayDropout(nn.Module):
    """The native twin of a `NumpyDropout`: ``x * mask`` with the mask its source drew in its last training
    forward, so the gradient parity check and the golden tests run the same random network in both.
    (A plain ``nn.Dropout`` would draw its own mask.) Identity in evaluation, as ``nn.Dropout``."""

    def __init__(self, source: NumpyDropout):
        super().__init__()
        self.p = source.p
        self._source = [source]  # in a list: not a submodule (no duplicated state, no recursion in .train())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        mask = self._source[0].mask
        if mask is None or mask.shape != tuple(x.shape):
            raise RuntimeError(f"ReplayDropout replays the mask of its NumPy source's last training forward: "
                               f"expected one of shape {tuple(x.shape)}, the source holds "
                               f"{None if mask is None else mask.shape}. Run the source on this batch first.")
        return x * torch.from_numpy(mask).to(x.device)

    def extra_repr(self) -> str:
        return f"p={self.p}, replays the NumPy layer's mask"
