"""2-D convolution (cross-correlation, as ``torch.nn.functional.conv2d``), two ways.

Layouts: input ``x`` (N, C, H, W); weight ``W`` (F, C, kh, kw) as ``nn.Conv2d`` stores it; bias ``b`` (F,);
output (N, F, Ho, Wo) with ``Ho = (H + 2 ph - kh) // stride + 1`` (and the same for Wo)::

    out[n, f, i, j] = b[f] + sum_{c, u, v} W[f, c, u, v] * xpad[n, c, i*stride + u, j*stride + v]

* `conv2d_naive_forward` / `conv2d_naive_backward`: that formula as loops. Slow; it teaches, and the tests
  check the fast version against it.
* `Conv2dOp` (``conv2d(stride, padding)``): im2col. Every receptive field becomes one row of a matrix
  ``cols`` (N*Ho*Wo, kh*kw*C) built with a strided view (no Python loop over pixels), and the whole layer is
  one matrix product ``cols @ Wm.T`` with ``Wm = W`` laid out (F, kh*kw*C). Backward:
  ``dW = dout^T @ cols``, ``db = sum of dout``, ``dcols = dout @ Wm``, and col2im adds each row of ``dcols``
  back onto the pixels it came from, in one vectorised step per kernel offset (kh*kw steps).

Why channels last inside: im2col copies every pixel kh*kw times, and that copy costs as much as the matrix
product. With x laid out (N, H, W, C) each kernel row of a receptive field is ``kw*C`` contiguous numbers, so
the copy streams; in (N, C, H, W) it would gather runs of ``kw`` numbers. The output is returned as an
(N, F, Ho, Wo) *view* of (N, Ho, Wo, F) memory (the product's natural layout): the next layer's transpose to
channels last is then free. The shapes seen from outside are always torch's.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .op import Op

Padding = int | str


def conv_padding(padding: Padding, kernel: tuple[int, int], stride: int) -> tuple[int, int]:
    """(ph, pw) for ``padding`` an int >= 0, ``"valid"`` (0) or ``"same"`` (odd kernels, stride 1, as torch)."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        if stride != 1:
            raise ValueError(f"padding='same' needs stride 1 (as in torch), got stride={stride}")
        if kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise ValueError(f"padding='same' is supported for odd kernels only, got kernel {kernel}")
        return (kernel[0] - 1) // 2, (kernel[1] - 1) // 2
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool) and padding >= 0:
        return int(padding), int(padding)
    raise ValueError(f"padding must be an integer >= 0, 'valid' or 'same', got {padding!r}")


def output_size(size: int, kernel: int, stride: int, pad: int) -> int:
    """Output length along one axis: ``(size + 2 pad - kernel) // stride + 1``."""
    return (size + 2 * pad - kernel) // stride + 1


def _check(x, W, b, stride):
    if x.ndim != 4 or W.ndim != 4 or x.shape[1] != W.shape[1]:
        raise ValueError(f"conv2d: input of shape {x.shape} does not fit a weight of shape {W.shape}; "
                         f"expected input (N, {W.shape[1] if W.ndim == 4 else 'C'}, H, W) and weight (F, C, kh, kw)")
    if b is not None and b.shape != (W.shape[0],):
        raise ValueError(f"conv2d: bias of shape {b.shape}, expected ({W.shape[0]},)")
    if x.dtype != W.dtype:
        raise TypeError(f"conv2d: input dtype {x.dtype} differs from weight dtype {W.dtype}")
    if not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"conv2d: stride must be an integer >= 1, got {stride!r}")


# -- the formula, as loops (teaching version) ------------------------------------------------------------------
def conv2d_naive_forward(x, W, b, stride: int = 1, padding: Padding = 0) -> np.ndarray:
    """(N, C, H, W), (F, C, kh, kw), (F,) -> (N, F, Ho, Wo), one dot product per output number."""
    _check(x, W, b, stride)
    F, _, kh, kw = W.shape
    ph, pw = conv_padding(padding, (kh, kw), stride)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    N, H, Wd = x.shape[0], x.shape[2], x.shape[3]
    Ho, Wo = output_size(H, kh, stride, ph), output_size(Wd, kw, stride, pw)
    # BEGIN SOLUTION conv2d_naive
    out = np.zeros((N, F, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    field = xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, f, i, j] = np.sum(field * W[f]) + (b[f] if b is not None else 0)
    return out
    # END SOLUTION


def conv2d_naive_backward(dout, x, W, stride: int = 1, padding: Padding = 0):
    """dx (N, C, H, W), dW (F, C, kh, kw), db (F,): each output number sends ``dout * W`` back to its
    receptive field and ``dout * field`` to the weight."""
    F, _, kh, kw = W.shape
    ph, pw = conv_padding(padding, (kh, kw), stride)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    # BEGIN SOLUTION conv2d_naive
    dxp, dW = np.zeros_like(xp), np.zeros_like(W)
    N, _, Ho, Wo = dout.shape
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
                    dxp[n, :, rows, cols] += dout[n, f, i, j] * W[f]
                    dW[f] += dout[n, f, i, j] * xp[n, :, rows, cols]
    dx = dxp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]]
    return dx, dW, dout.sum(axis=(0, 2, 3))
    # END SOLUTION


# -- im2col (training version) --------------------------------------------------------------------------------
def im2col(x: np.ndarray, kernel: tuple[int, int], stride: int, pad: tuple[int, int]) -> np.ndarray:
    """Receptive fields as rows: (N, C, H, W) -> (N, Ho, Wo, kh, kw, C), a new C-contiguous array.

    The rows of ``cols.reshape(N*Ho*Wo, kh*kw*C)`` are the fields; columns run over (u, v, c)."""
    N, C, H, Wd = x.shape
    # BEGIN SOLUTION conv2d
    (kh, kw), (ph, pw) = kernel, pad
    xp = np.zeros((N, H + 2 * ph, Wd + 2 * pw, C), dtype=x.dtype)  # channels last, zero border
    xp[:, ph:ph + H, pw:pw + Wd, :] = x.transpose(0, 2, 3, 1)
    # windows[n, i, j, c, u, v] = xp[n, i + u, j + v, c]: a view, nothing copied yet
    windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    return np.ascontiguousarray(windows.transpose(0, 1, 2, 4, 5, 3))
    # END SOLUTION


def col2im(dcols: np.ndarray, x_shape: tuple[int, ...], stride: int, pad: tuple[int, int]) -> np.ndarray:
    """The adjoint of `im2col`: (N, Ho, Wo, kh, kw, C) -> (N, C, H, W), summing where fields overlap.

    One vectorised add per kernel offset (u, v): all output pixels' contributions to xpad[:, i*s+u, j*s+v]."""
    N, C, H, Wd = x_shape
    # BEGIN SOLUTION conv2d
    _, Ho, Wo, kh, kw, _ = dcols.shape
    ph, pw = pad
    dxp = np.zeros((N, H + 2 * ph, Wd + 2 * pw, C), dtype=dcols.dtype)
    for u in range(kh):
        for v in range(kw):
            dxp[:, u:u + stride * (Ho - 1) + 1:stride, v:v + stride * (Wo - 1) + 1:stride, :] += dcols[:, :, :, u, v, :]
    return dxp[:, ph:ph + H, pw:pw + Wd, :].transpose(0, 3, 1, 2)
    # END SOLUTION


class Conv2dOp(Op):
    """``out = conv2d(x, W, b, stride, padding)`` as ``torch.nn.functional.conv2d`` (groups = dilation = 1).

    Shapes: ``x`` (N, C, H, W), ``W`` (F, C, kh, kw), ``b`` (F,) or None -> ``out`` (N, F, Ho, Wo).
    Backward returns dx (N, C, H, W), dW (F, C, kh, kw), db (F,) (computed with or without a bias: a caller
    that gave none ignores it). Cache: ``cols`` (N, Ho, Wo, kh, kw, C), ``W``, and x's shape.
    """

    name = "conv2d"
    n_inputs = 3

    def __init__(self, stride: int = 1, padding: Padding = 0):
        if not isinstance(stride, (int, np.integer)) or isinstance(stride, bool) or stride < 1:
            raise ValueError(f"conv2d: stride must be an integer >= 1, got {stride!r}")
        conv_padding(padding, (1, 1), stride)  # a bad padding fails here, not at the first batch
        self.stride, self.padding = int(stride), padding

    def forward(self, x, W, b=None):
        _check(x, W, b, self.stride)
        F, C, kh, kw = W.shape
        pad = conv_padding(self.padding, (kh, kw), self.stride)
        if x.shape[2] + 2 * pad[0] < kh or x.shape[3] + 2 * pad[1] < kw:
            raise ValueError(f"conv2d: the {kh}x{kw} kernel is larger than the padded input {x.shape[2:]} (pad {pad})")
        # BEGIN SOLUTION conv2d
        cols = im2col(x, (kh, kw), self.stride, pad)
        N, Ho, Wo = cols.shape[:3]
        Wm = W.transpose(0, 2, 3, 1).reshape(F, kh * kw * C)  # columns ordered (u, v, c) like cols
        out = cols.reshape(N * Ho * Wo, -1) @ Wm.T
        if b is not None:
            out += b
        return out.reshape(N, Ho, Wo, F).transpose(0, 3, 1, 2), (cols, W, x.shape)
        # END SOLUTION

    def backward(self, dout, cache):
        cols, W, x_shape = cache
        F, C, kh, kw = W.shape
        # BEGIN SOLUTION conv2d
        N, Ho, Wo = cols.shape[:3]
        d2 = dout.transpose(0, 2, 3, 1).reshape(N * Ho * Wo, F)  # free when dout is channels-last memory
        cols2 = cols.reshape(N * Ho * Wo, -1)
        Wm = W.transpose(0, 2, 3, 1).reshape(F, -1)
        dW = np.ascontiguousarray((d2.T @ cols2).reshape(F, kh, kw, C).transpose(0, 3, 1, 2))
        dcols = (d2 @ Wm).reshape(cols.shape)
        pad = conv_padding(self.padding, (kh, kw), self.stride)
        dx = col2im(dcols, x_shape, self.stride, pad)
        return dx, dW, d2.sum(axis=0)
        # END SOLUTION

    def extra_repr(self):
        return f"stride={self.stride}, padding={self.padding!r}"


def conv2d(stride: int = 1, padding: Padding = 0) -> Conv2dOp:
    """The conv op with these settings (ops are stateless: one object serves every call)."""
    return Conv2dOp(stride, padding)
