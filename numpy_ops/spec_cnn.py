"""Layer specs of convolutional networks: `Conv2d`, `MaxPool2d`, `AvgPool2d`, `Dropout` (see `numpy_ops.spec`,
which lists them in `LAYER_TYPES` and re-exports them: ``spec.Conv2d``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .conv import conv_padding, output_size
from .dropout import check_p
from .init import init_weight_and_bias
from .pooling import pool_settings
from .spec_base import LayerSpec, check_positive


@dataclass(frozen=True)
class Conv2d(LayerSpec):
    """2-D convolution: (C, H, W) -> (out_channels, Ho, Wo). Parameters ``weight`` (out, C, k, k), ``bias`` (out,).

    ``padding``: an integer, ``"valid"`` (0) or ``"same"`` (odd kernels, stride 1), as in ``nn.Conv2d``."""

    out_channels: int
    kernel_size: int
    stride: int = 1
    padding: int | str = 0
    type: ClassVar[str] = "conv2d"

    def __post_init__(self):
        for name in ("out_channels", "kernel_size", "stride"):
            check_positive("conv2d", name, getattr(self, name))
        conv_padding(self.padding, (self.kernel_size, self.kernel_size), self.stride)

    def output_shape(self, in_shape):
        if len(in_shape) != 3:
            raise ValueError("conv2d expects (channels, height, width) per example (an image layout)")
        k, s = self.kernel_size, self.stride
        ph, pw = conv_padding(self.padding, (k, k), s)
        h, w = output_size(in_shape[1], k, s, ph), output_size(in_shape[2], k, s, pw)
        if h < 1 or w < 1:
            raise ValueError(f"a {k}x{k} kernel does not fit a {in_shape[1]}x{in_shape[2]} image")
        return (self.out_channels, h, w)

    def init_params(self, in_shape, rng, scheme="torch_default", nonlinearity="linear", dtype=np.float64,
                    **init_kwargs):
        shape = (self.out_channels, in_shape[0], self.kernel_size, self.kernel_size)
        W, b = init_weight_and_bias(rng, shape, scheme, nonlinearity, dtype, **init_kwargs)
        return {"weight": W, "bias": b}


@dataclass(frozen=True)
class _Pool2d(LayerSpec):
    kernel_size: int
    stride: int | None = None
    padding: int = 0

    def __post_init__(self):
        pool_settings(self.type, self.kernel_size, self.stride, self.padding)

    def output_shape(self, in_shape):
        if len(in_shape) != 3:
            raise ValueError(f"{self.type} expects (channels, height, width) per example (an image layout)")
        k, p = self.kernel_size, self.padding
        s = k if self.stride is None else self.stride
        h, w = (in_shape[1] + 2 * p - k) // s + 1, (in_shape[2] + 2 * p - k) // s + 1
        if h < 1 or w < 1:
            raise ValueError(f"a {k}x{k} window does not fit a {in_shape[1]}x{in_shape[2]} image")
        return (in_shape[0], h, w)


@dataclass(frozen=True)
class MaxPool2d(_Pool2d):
    """Max pooling over k x k windows (stride defaults to k): (C, H, W) -> (C, Ho, Wo)."""

    type: ClassVar[str] = "max_pool2d"


@dataclass(frozen=True)
class AvgPool2d(_Pool2d):
    """Average pooling over k x k windows (padding counts in the mean, as torch's default)."""

    type: ClassVar[str] = "avg_pool2d"


@dataclass(frozen=True)
class Dropout(LayerSpec):
    """Inverted dropout: zero each element with probability ``p`` in training; the identity in evaluation."""

    p: float = 0.5
    type: ClassVar[str] = "dropout"

    def __post_init__(self):
        check_p(self.p)
