"""2-D max and average pooling, as ``torch.nn.functional.max_pool2d`` / ``avg_pool2d`` (ceil_mode=False).

Shapes: ``x`` (N, C, H, W) -> ``out`` (N, C, Ho, Wo), ``Ho = (H + 2 pad - k) // stride + 1``; the stride
defaults to the kernel size, as in torch.

Both run as one loop over the kernel's k*k offsets, each step an elementwise operation on every window at
once: for offset (u, v) the strided slice ``xpad[:, :, u::stride, v::stride]`` holds the (u, v) element of
every window. `numpy_ops.pooling_fast` is the same with arrays laid out in memory as the input is (the
training paths use it).

Max pooling's gradient goes to one element per window, the one torch picks: the first maximum in the
window's row-major order (torch's CPU kernel replaces its running maximum only on a strictly larger value),
so with ties the earliest element takes the whole gradient. Overlapping windows add up.
"""

from __future__ import annotations

import numpy as np

from .op import Op


def pool_settings(name: str, kernel_size, stride, padding) -> tuple[int, int, int]:
    """(kernel, stride, padding) checked as torch checks them; the stride defaults to the kernel size."""
    k = kernel_size
    s = k if stride is None else stride
    for arg, value, low in (("kernel_size", k, 1), ("stride", s, 1), ("padding", padding, 0)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name}: {arg} must be an integer >= {low}, got {value!r}")
    if 2 * padding > k:
        raise ValueError(f"{name}: padding ({padding}) must be at most half the kernel size ({k}), as in torch")
    return int(k), int(s), int(padding)


def _padded(x: np.ndarray, pad: int, fill: float) -> np.ndarray:
    if pad == 0:
        return x
    N, C, H, W = x.shape
    xp = np.full((N, C, H + 2 * pad, W + 2 * pad), fill, dtype=x.dtype)
    xp[:, :, pad:pad + H, pad:pad + W] = x
    return xp


def _offsets(k: int, s: int, Ho: int, Wo: int):
    """(index, row slice, column slice) of each kernel offset, in the window's row-major order."""
    for u in range(k):
        for v in range(k):
            yield u * k + v, slice(u, u + s * (Ho - 1) + 1, s), slice(v, v + s * (Wo - 1) + 1, s)


class _Pool2dOp(Op):
    n_inputs = 1

    def __init__(self, kernel_size: int, stride: int | None = None, padding: int = 0):
        self.kernel_size, self.stride, self.padding = pool_settings(self.name, kernel_size, stride, padding)

    def _out_size(self, x: np.ndarray) -> tuple[int, int]:
        if x.ndim != 4:
            raise ValueError(f"{self.name}: expected input (N, C, H, W), got shape {x.shape}")
        k, s, p = self.kernel_size, self.stride, self.padding
        Ho, Wo = (x.shape[2] + 2 * p - k) // s + 1, (x.shape[3] + 2 * p - k) // s + 1
        if Ho < 1 or Wo < 1:
            raise ValueError(f"{self.name}: a {k}x{k} window does not fit the input {x.shape[2:]} (padding {p})")
        return Ho, Wo

    def _copy(self, v: np.ndarray) -> np.ndarray:
        """A copy of the strided slice ``v`` (the first window element, where the result starts)."""
        return v.copy()

    def _zeros(self, shape: tuple[int, ...], like: np.ndarray) -> np.ndarray:
        """The gradient of the padded input starts at zero."""
        return np.zeros(shape, like.dtype)

    def _crop(self, dxp: np.ndarray) -> np.ndarray:
        p = self.padding
        return dxp if p == 0 else dxp[:, :, p:dxp.shape[2] - p, p:dxp.shape[3] - p]

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2dOp(_Pool2dOp):
    """``out[n, c, i, j] = max over the window at (i*stride, j*stride)`` of x padded with -inf.

    Shapes: ``x`` (N, C, H, W) -> ``out`` (N, C, Ho, Wo); backward: dx (N, C, H, W).
    Cache: ``arg`` (N, C, Ho, Wo), the row-major index u*k + v of each window's first maximum, and the padded
    input's shape (N, C, H + 2 pad, W + 2 pad).
    """

    name = "max_pool2d"

    def forward(self, x):
        Ho, Wo = self._out_size(x)
        # BEGIN SOLUTION max_pool2d
        xp = _padded(x, self.padding, -np.inf)
        out, arg = None, None
        for idx, rows, cols in _offsets(self.kernel_size, self.stride, Ho, Wo):
            v = xp[:, :, rows, cols]
            if out is None:
                out = self._copy(v)
                arg = np.zeros_like(v, dtype=np.uint8 if self.kernel_size ** 2 < 256 else np.int64)
                continue
            larger = v > out  # strictly: on a tie the earlier element keeps the window, as in torch
            np.copyto(out, v, where=larger)
            arg[larger] = idx
        return out, (arg, xp.shape)
        # END SOLUTION

    def backward(self, dout, cache):
        arg, padded_shape = cache
        Ho, Wo = dout.shape[2], dout.shape[3]
        # BEGIN SOLUTION max_pool2d
        dxp = self._zeros(padded_shape, dout)
        for idx, rows, cols in _offsets(self.kernel_size, self.stride, Ho, Wo):
            dxp[:, :, rows, cols] += np.where(arg == idx, dout, 0)
        return (self._crop(dxp),)
        # END SOLUTION


class AvgPool2dOp(_Pool2dOp):
    """``out[n, c, i, j] = mean of the k*k window`` of x padded with zeros (torch's default
    ``count_include_pad=True``: the padding counts in the mean).

    Shapes: ``x`` (N, C, H, W) -> ``out`` (N, C, Ho, Wo); backward: dx (N, C, H, W), each window element
    gets ``dout / k^2``. Cache: the padded input's shape (N, C, H + 2 pad, W + 2 pad).
    """

    name = "avg_pool2d"

    def forward(self, x):
        Ho, Wo = self._out_size(x)
        xp = _padded(x, self.padding, 0.0)
        out = None
        for _, rows, cols in _offsets(self.kernel_size, self.stride, Ho, Wo):
            out = self._copy(xp[:, :, rows, cols]) if out is None else out + xp[:, :, rows, cols]
        out /= self.kernel_size ** 2
        return out, (xp.shape,)

    def backward(self, dout, cache):
        (padded_shape,) = cache
        Ho, Wo = dout.shape[2], dout.shape[3]
        share = dout / dout.dtype.type(self.kernel_size ** 2)
        dxp = self._zeros(padded_shape, dout)
        for _, rows, cols in _offsets(self.kernel_size, self.stride, Ho, Wo):
            dxp[:, :, rows, cols] += share
        return (self._crop(dxp),)


def max_pool2d(kernel_size: int, stride: int | None = None, padding: int = 0) -> MaxPool2dOp:
    return MaxPool2dOp(kernel_size, stride, padding)


def avg_pool2d(kernel_size: int, stride: int | None = None, padding: int = 0) -> AvgPool2dOp:
    return AvgPool2dOp(kernel_size, stride, padding)
