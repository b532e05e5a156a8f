"""Every op of the table (`op_table.OPS`), three ways, in float64: central differences on the NumPy op alone,
``torch.autograd.gradcheck`` through the bridge, and the native twin with the same inputs (output and every
gradient, float64 and float32). Framework behaviour (the bridge's boundary, modules, training) is tested apart."""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest
import torch

from helpers import assert_gradcheck
from op_table import OPS

import numpy_ops
from lightning_ffnn.bridge import apply_op
from numpy_ops.gradcheck import check_op
from numpy_ops.op import Op

IDS = [case.id for case in OPS]


def _arrays(case):
    return case.inputs(np.random.default_rng(0))


@pytest.mark.parametrize("case", OPS, ids=IDS)
def test_central_differences(case):
    arrays = _arrays(case)
    wrt = case.differentiable(arrays)
    errors = check_op(case.op, arrays, wrt, error=case.error)
    assert max(errors) < case.tol, f"{case.op!r}: errors {dict(zip(wrt, errors))} (input: error) above {case.tol}"


@pytest.mark.parametrize("case", OPS, ids=IDS)
def test_bridge_gradcheck(case):
    arrays = _arrays(case)
    wrt = case.differentiable(arrays)
    tensors = [torch.from_numpy(a).requires_grad_(i in wrt) for i, a in enumerate(arrays)]
    assert_gradcheck(lambda *t: apply_op(case.op, *t), tuple(tensors), f"{case.op!r} through the bridge")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", OPS, ids=IDS)
def test_native_twin(case, dtype):
    arrays = _arrays(case)
    wrt = case.differentiable(arrays)
    tol = {"rtol": 1e-12, "atol": 1e-12} if dtype == torch.float64 else {}

    def run(fn):
        leaves = [torch.from_numpy(a).to(dtype if a.dtype.kind == "f" else None).requires_grad_(i in wrt)
                  for i, a in enumerate(arrays)]
        out = fn(*leaves)
        up = torch.randn(out.shape, generator=torch.Generator().manual_seed(9), dtype=dtype)
        out.backward(up)
        return out.detach(), [leaves[i].grad for i in wrt]

    (mine, my_grads), (theirs, their_grads) = run(lambda *t: apply_op(case.op, *t)), run(case.twin)
    torch.testing.assert_close(mine, theirs, **tol, msg=lambda m: f"{case.id} {dtype}: outputs differ\n{m}")
    for i, a, b in zip(wrt, my_grads, their_grads):
        torch.testing.assert_close(a, b, **tol, msg=lambda m, i=i: f"{case.id} {dtype}: gradient of input {i}\n{m}")


def test_every_op_has_a_row():
    # A new Op subclass in numpy_ops without a row here fails (the fast forms are covered by their textbook form
    # and its agreement test; Activation, _Pool2dOp and the loader of users' ops are not ops themselves).
    for module in pkgutil.iter_modules(numpy_ops.__path__):
        importlib.import_module(f"numpy_ops.{module.name}")

    def walk(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    textbook = {cls for cls in walk(Op) if cls.__module__.startswith("numpy_ops.")
                and not cls.__module__.endswith("_fast") and not cls.__name__.startswith("_")
                and cls.__module__ != "numpy_ops.user_op" and cls is not numpy_ops.Activation}
    covered = {type(case.op) for case in OPS}
    assert textbook - covered == set(), "ops without a row in tests/op_table.py"


def test_a_wrong_backward_fails_all_three():
    from numpy_ops.activations import Sigmoid

    class WrongSigmoid(Sigmoid):
        def local_grad(self, x, y):
            return y  # missing the (1 - y) factor

    case = next(c for c in OPS if c.id == "sigmoid")
    wrong = type(case)(case.id, WrongSigmoid(), case.inputs, case.twin)
    for test in (test_central_differences, test_bridge_gradcheck):
        with pytest.raises(AssertionError):
            test(wrong)
    with pytest.raises(AssertionError):
        test_native_twin(wrong, torch.float64)
