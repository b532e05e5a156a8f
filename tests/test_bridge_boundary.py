"""The NumPy boundary of the bridge: zero-copy views, dtypes, error messages, devices, which gradients
are asked for, and the BLAS thread limit.

* `to_numpy` / `to_tensor` share memory (any positive strides); they copy only what torch cannot
  share (negative strides, read-only arrays), never silently across devices.
* A bridged layer keeps the dtype: float32 in, float32 out and float32 gradients; float64 likewise.
* Mistakes surface at the layer call with a message for a person: mixed dtypes (TypeError naming both),
  a wrong input width (ValueError naming both shapes), a non-CPU tensor (RuntimeError: CPU only).
* ``ctx.needs_input_grad`` reaches the op: no dx is computed for an input that does not need one.
* A backward that returns the wrong dtype is caught instead of silently cast by autograd.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import numpy_ops.layers
from lightning_ffnn.bridge import apply_op, to_numpy, to_tensor
from lightning_ffnn.layers import (
    ACTIVATION_NAMES,
    NumpyActivation,
    NumpyBCEWithLogitsLoss,
    NumpyLinear,
    NumpyMSELoss,
    NumpySoftmaxCrossEntropy,
)
from numpy_ops.op import Op

DTYPES = [torch.float32, torch.float64]


def _views(t: torch.Tensor) -> dict[str, torch.Tensor]:
    return {"contiguous": t, "transposed": t.T, "strided": t[:, ::2], "offset": t[1:, 1:]}


# ---------------------------------------------------------------------------------------------------- zero copy


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided", "offset"])
def test_to_numpy_shares_memory(layout, requires_grad):
    base = torch.arange(24, dtype=torch.float64).reshape(4, 6).requires_grad_(requires_grad)
    t = _views(base)[layout]
    a = to_numpy(t)
    assert isinstance(a, np.ndarray) and a.shape == tuple(t.shape) and a.dtype == np.float64
    assert a.ctypes.data == t.data_ptr(), f"{layout}: to_numpy copied the data"
    assert a.strides == tuple(s * t.element_size() for s in t.stride()), f"{layout}: strides changed"
    np.testing.assert_array_equal(a, t.detach().numpy())
    a[0, 0] = -7.0  # writes go through: it is a view, not a copy
    assert t[0, 0].item() == -7.0


def test_to_numpy_of_a_parameter_shares_memory():
    layer = NumpyLinear(3, 2)
    w = to_numpy(layer.weight)
    assert np.shares_memory(w, layer.weight.detach().numpy()) and w.ctypes.data == layer.weight.data_ptr()


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided", "0-d"])
def test_to_tensor_shares_memory(layout):
    base = np.arange(24.0).reshape(4, 6)
    a = {"contiguous": base, "transposed": base.T, "strided": base[:, ::2], "0-d": np.asarray(3.0)}[layout]
    t = to_tensor(a)
    assert t.data_ptr() == a.ctypes.data, f"{layout}: to_tensor copied the data"
    assert np.shares_memory(t.numpy(), a)
    assert t.dtype == torch.float64 and tuple(t.shape) == a.shape


@pytest.mark.parametrize("kind", ["negative strides", "read-only"])
def test_to_tensor_copies_only_what_torch_cannot_share(kind):
    base = np.arange(6.0)
    a = base[::-1] if kind == "negative strides" else base.copy()
    if kind == "read-only":
        a.flags.writeable = False
    t = to_tensor(a)  # neither an error nor a warning (warnings are errors under -W error)
    np.testing.assert_array_equal(t.numpy(), a)
    assert not np.shares_memory(t.numpy(), a)


def test_to_numpy_rejects_what_is_not_a_tensor():
    assert to_numpy(None) is None
    with pytest.raises(TypeError, match="my input: expected a torch.Tensor, got ndarray"):
        to_numpy(np.zeros(3), "my input")


# ---------------------------------------------------------------------------------------------------- dtypes


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_bridged_layers_keep_the_dtype(dtype):
    torch.manual_seed(0)
    layer = NumpyLinear(4, 3, dtype=dtype)
    x = torch.randn(5, 4, dtype=dtype, requires_grad=True)
    h = layer(x)
    assert h.dtype == dtype, f"NumpyLinear: {dtype} in, {h.dtype} out"
    outs = {name: NumpyActivation(name)(h) for name in ACTIVATION_NAMES}
    for name, y in outs.items():
        assert y.dtype == dtype, f"NumpyActivation({name!r}): {dtype} in, {y.dtype} out"
    y = sum(o.sum() for o in outs.values())
    losses = {
        "cross-entropy": NumpySoftmaxCrossEntropy()(h, torch.tensor([0, 1, 2, 1, 0])),
        "mse": NumpyMSELoss()(h, torch.zeros(5, 3, dtype=dtype)),
        "bce": NumpyBCEWithLogitsLoss()(h, torch.full((5, 3), 0.5, dtype=dtype)),
    }
    for name, loss in losses.items():
        assert loss.dtype == dtype and loss.shape == (), f"{name}: loss {loss.dtype} {tuple(loss.shape)}"
    (y + sum(losses.values())).backward()
    for name, g in {"x": x.grad, "weight": layer.weight.grad, "bias": layer.bias.grad}.items():
        assert g is not None and g.dtype == dtype, f"grad of {name}: expected {dtype}, got {g and g.dtype}"


@pytest.mark.parametrize("x_dtype, w_dtype", [(torch.float32, torch.float64), (torch.float64, torch.float32)])
def test_mixed_dtypes_raise_a_type_error_at_the_layer_call(x_dtype, w_dtype):
    layer = NumpyLinear(4, 3, dtype=w_dtype)
    x = torch.randn(2, 4, dtype=x_dtype)
    names = {torch.float32: "float32", torch.float64: "float64"}
    with pytest.raises(TypeError) as err:
        layer(x)
    msg = str(err.value)
    assert msg == f"linear: input dtype {names[x_dtype]} differs from weight dtype {names[w_dtype]}", msg


@pytest.mark.parametrize("shape", [(2, 5), (2, 3), (4,), (2, 4, 1)])
def test_wrong_input_width_raises_a_value_error_naming_the_shapes(shape):
    layer = NumpyLinear(4, 3, dtype=torch.float64)
    with pytest.raises(ValueError) as err:
        layer(torch.zeros(shape, dtype=torch.float64))
    msg = str(err.value)
    assert msg.startswith("linear: "), msg
    assert f"input of shape {shape}" in msg and "weight of shape (3, 4)" in msg and "expected (batch, 4)" in msg, msg


# ---------------------------------------------------------------------------------------------------- devices

CPU_ONLY = "the NumPy backend runs on the CPU, but got a tensor on"


def _bridged_calls(device: str):
    dt = torch.float32
    x = lambda *s: torch.zeros(*s, dtype=dt, device=device)  # noqa: E731
    return {
        "linear input": lambda: NumpyLinear(4, 3)(x(2, 4)),
        "linear weight": lambda: NumpyLinear(4, 3).to(device)(torch.zeros(2, 4)),
        "activation": lambda: NumpyActivation("relu")(x(2, 4)),
        "cross-entropy": lambda: NumpySoftmaxCrossEntropy()(x(2, 3), torch.zeros(2, dtype=torch.long, device=device)),
        "mse target": lambda: NumpyMSELoss()(torch.zeros(2, 1), x(2, 1)),
    }


@pytest.mark.parametrize("call", list(_bridged_calls("meta")))
def test_a_non_cpu_tensor_raises_cpu_only_error(call):
    with pytest.raises(RuntimeError) as err:
        _bridged_calls("meta")[call]()
    msg = str(err.value)
    assert CPU_ONLY + " meta" in msg and "backend='torch'" in msg, msg


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
@pytest.mark.parametrize("call", list(_bridged_calls("meta")))
def test_a_cuda_tensor_raises_cpu_only_error_instead_of_copying(call):
    with pytest.raises(RuntimeError, match=CPU_ONLY + " cuda"):
        _bridged_calls("cuda")[call]()


# ---------------------------------------------------------------------------------------------------- needs


@pytest.mark.parametrize("x_grad, params_grad, bias", [
    (False, True, True), (True, True, True), (True, False, True), (False, True, False),
], ids=["x-no-grad", "all", "frozen-layer", "no-bias"])
def test_gradients_reach_only_the_inputs_that_need_them(x_grad, params_grad, bias):
    layer = NumpyLinear(4, 3, bias=bias, dtype=torch.float64).requires_grad_(params_grad)
    x = torch.randn(5, 4, dtype=torch.float64, requires_grad=x_grad)
    layer(x).sum().backward()
    assert (x.grad is not None) == x_grad
    assert (layer.weight.grad is not None) == params_grad
    if bias:
        assert (layer.bias.grad is not None) == params_grad


# ---------------------------------------------------------------------------------------------------- backward dtype


class _Double(Op):
    """y = 2 x; its backward returns float64 whatever x's dtype, unless told to keep it."""

    name = "double"

    def __init__(self, keep_dtype: bool):
        self.keep_dtype = keep_dtype

    def forward(self, x):
        return 2 * x, ()

    def backward(self, dout, cache):
        g = 2 * dout
        return (g if self.keep_dtype else g.astype(np.float64),)


def test_backward_returning_the_wrong_dtype_raises_type_error():
    x = torch.randn(3, 2, dtype=torch.float32, requires_grad=True)
    y = apply_op(_Double(keep_dtype=False), x)
    assert y.dtype == torch.float32
    with pytest.raises(TypeError, match=r"double\.backward returned torch\.float64 for input 0 of dtype torch\.float32"):
        y.sum().backward()


def test_backward_returning_the_right_dtype_passes():
    x = torch.randn(3, 2, dtype=torch.float32, requires_grad=True)
    apply_op(_Double(keep_dtype=True), x).sum().backward()
    assert x.grad.dtype == torch.float32
    torch.testing.assert_close(x.grad, torch.full((3, 2), 2.0))


# ---------------------------------------------------------------------------------------------------- aliasing


def test_identity_output_is_not_a_hidden_alias_of_its_input():
    """The identity op returns its input array. Its output must not share the input's memory behind
    autograd's back: an in-place change to it would otherwise alter the input silently, and a layer that
    saved the input would compute wrong gradients with no version-check error."""
    h = torch.randn(3, 2, dtype=torch.float64, requires_grad=True) * 1.0
    y = NumpyActivation("identity")(h)
    assert not np.shares_memory(to_numpy(y), to_numpy(h))
    before = h.detach().clone()
    with torch.no_grad():
        y.add_(100.0)
    torch.testing.assert_close(h.detach(), before, rtol=0, atol=0)


def test_saved_input_modified_in_place_is_caught_by_the_version_check():
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True) * 1.0
    out = NumpyLinear(4, 2, dtype=torch.float64)(x)
    x.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


# ---------------------------------------------------------------------------------------------------- threads


def test_importing_the_bridge_changes_no_thread_pool_and_the_entry_points_limit_is_one():
    """In a fresh process: importing the bridge has no side effect on BLAS; `limit_blas_threads` (what the entry
    points call) then brings every loaded BLAS, scipy's included, to one thread."""
    code = (
        "import json, numpy, threadpoolctl\n"
        "from course.threads import blas_threads, limit_blas_threads\n"
        "before = blas_threads()\n"
        "import lightning_ffnn.bridge\n"
        "numpy.ones((64, 64)) @ numpy.ones((64, 64))\n"
        "imported = blas_threads()\n"
        "limit_blas_threads()\n"
        "print(json.dumps({'before': before, 'imported': imported, 'after': blas_threads()}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["imported"] == result["before"], f"importing the bridge changed the BLAS pools: {result}"
    assert result["after"], f"no BLAS library found: {result}"
    assert all(n == 1 for n in result["after"]), f"BLAS threads after limit_blas_threads(): {result}"


class _ScaledSquare(Op):
    """``out = c * x^2`` with a cache of every kind an op may keep: a shape, a flag, a number, a nested tuple of
    arrays (the input, the output, and a new array)."""

    name = "scaled_square"

    def forward(self, x):
        out = 3.0 * x * x
        return out, (x.shape, True, 3.0, (x, (out, 2 * x)))

    def backward(self, dout, cache):
        shape, flag, c, (x, (out, two_x)) = cache
        assert shape == x.shape and flag is True and c == 3.0 and isinstance(out, np.ndarray)
        return (dout * c * two_x,)


def test_the_bridge_carries_shapes_flags_and_nested_tuples_of_a_cache():
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    y = apply_op(_ScaledSquare(), x)
    # only the one new array becomes a saved tensor beside the input and the output
    assert len(y.grad_fn.saved_tensors) == 3
    assert torch.autograd.gradcheck(lambda t: apply_op(_ScaledSquare(), t), (x,))


@pytest.mark.parametrize("op_name", ["linear", "sigmoid", "softmax_cross_entropy"])
def test_the_fast_path_agrees_with_function_apply(op_name):
    # bridge_fast.apply_function skips torch's argument binding; outputs and gradients must be the very same.
    from lightning_ffnn.bridge import NumpyOpFunction
    from numpy_ops.activations import get_activation
    from numpy_ops.losses import softmax_cross_entropy

    g = torch.Generator().manual_seed(0)
    x, w, b = (torch.randn(*s, generator=g, dtype=torch.float64) for s in ((5, 4), (3, 4), (3,)))
    labels = torch.tensor([0, 2, 1, 1, 0])
    op, args = {"linear": (numpy_ops.layers.linear, (x, w, b)), "sigmoid": (get_activation("sigmoid"), (x,)),
                "softmax_cross_entropy": (softmax_cross_entropy, (x[:, :3], labels))}[op_name]
    results = []
    for call in (lambda *a: NumpyOpFunction.apply(op, *a)[0], lambda *a: apply_op(op, *a)):
        leaves = [a.detach().clone().requires_grad_(a.is_floating_point()) for a in args]
        out = call(*leaves)
        out.backward(torch.ones_like(out))
        results.append((out.detach(), [l.grad for l in leaves]))
    (out1, grads1), (out2, grads2) = results
    assert torch.equal(out1, out2)
    for g1, g2 in zip(grads1, grads2):
        assert (g1 is None and g2 is None) or torch.equal(g1, g2)
