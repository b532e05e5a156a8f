"""``torch.autograd.gradcheck`` (float64, central differences) through every bridged op.

Every `numpy_ops` op reaches autograd through the one generic `NumpyOpFunction`; these tests check
that each op's hand-written backward, seen through that adapter, is the derivative of its forward:
for the linear layer (input, weight and bias; with and without bias), every activation name, and
the three losses (including the target gradient where the loss has one). Inputs come in several
shapes, batch size 1 included, and non-contiguous (a transposed tensor, a strided slice), because
the bridge hands NumPy views with the tensor's own strides. Values are kept at |x| > 0.1, away from
the kinks of relu / leaky_relu / elu, where finite differences are meaningless.

Double backward is not supported (the NumPy backward is ``@once_differentiable``); the last tests
pin down exactly how that shows.
"""

from __future__ import annotations

import pytest
import torch
from torch.func import functional_call

from helpers import assert_gradcheck, away_from_kinks

from lightning_ffnn.bridge import apply_op
from lightning_ffnn.layers import (
    ACTIVATION_NAMES,
    NumpyActivation,
    NumpyBCEWithLogitsLoss,
    NumpyLinear,
    NumpyMSELoss,
    NumpySoftmaxCrossEntropy,
)
from numpy_ops.layers import linear

F64 = torch.float64

# How an input tensor is laid out in memory (see `make_input`).
LAYOUTS = ["contiguous", "transposed", "strided"]
BATCHES = [1, 5]


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def make_input(rows: int, cols: int, layout: str, seed: int, kinks: bool = True) -> torch.Tensor:
    """A float64 (rows, cols) tensor that requires grad, laid out as asked."""
    g = _gen(seed)
    if layout == "contiguous":
        x = torch.randn(rows, cols, dtype=F64, generator=g)
    elif layout == "transposed":
        x = torch.randn(cols, rows, dtype=F64, generator=g).T
    elif layout == "strided":
        x = torch.randn(rows, 2 * cols, dtype=F64, generator=g)[:, ::2]
    else:
        raise ValueError(layout)
    if kinks:
        x = _keep_layout(away_from_kinks, x)
    if layout != "contiguous" and rows > 1 and cols > 1:
        assert not x.is_contiguous(), f"test setup: a {layout} input should not be contiguous"
    return x.requires_grad_()


def _keep_layout(fn, x: torch.Tensor) -> torch.Tensor:
    """Apply ``fn`` in place of x's values without changing x's strides."""
    with torch.no_grad():
        x.copy_(fn(x))
    return x


# ---------------------------------------------------------------------------------------------------- linear


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_numpy_linear_gradcheck_input_weight_bias(batch, layout, bias):
    layer = NumpyLinear(4, 3, bias=bias, dtype=F64)
    x = make_input(batch, 4, layout, seed=batch)
    W = make_input(3, 4, "transposed" if layout != "contiguous" else "contiguous", seed=10, kinks=False)
    params = {"weight": W}
    if bias:
        params["bias"] = torch.randn(3, dtype=F64, generator=_gen(11)).requires_grad_()

    def fn(x, *ps):
        return functional_call(layer, dict(zip(params, ps)), (x,))

    assert_gradcheck(fn, (x, *params.values()), f"NumpyLinear(bias={bias}) on a {layout} ({batch}, 4) input")


def test_assert_gradcheck_fails_naming_what_it_checked():
    class WrongSquare(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # wrong: d(x^2)/dx is 2x

    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(AssertionError, match=r"^the square, batch 3: Jacobian mismatch"):
        assert_gradcheck(WrongSquare.apply, (x,), "the square, batch 3")


def test_numpy_linear_gradcheck_wide_layer_batch_one():
    """Batch 1 and a layer wider than it is tall: dW = dout.T @ x is then an outer product."""
    layer = NumpyLinear(2, 7, dtype=F64)
    x = make_input(1, 2, "contiguous", seed=3)
    W = torch.randn(7, 2, dtype=F64, generator=_gen(4)).requires_grad_()
    b = torch.randn(7, dtype=F64, generator=_gen(5)).requires_grad_()
    assert_gradcheck(lambda x, W, b: functional_call(layer, {"weight": W, "bias": b}, (x,)), (x, W, b), "wide layer")


# ---------------------------------------------------------------------------------------------------- activations


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_gradcheck(name, batch, layout):
    act = NumpyActivation(name)
    x = make_input(batch, 6, layout, seed=10 * ACTIVATION_NAMES.index(name) + batch)
    assert_gradcheck(act, (x,), f"NumpyActivation({name!r}) on a {layout} ({batch}, 6) input")


@pytest.mark.parametrize("shape", [(7,), (2, 3, 4)], ids=["1d", "3d"])
@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_gradcheck_other_ranks(name, shape):
    """Activations are elementwise: any rank works, not only (N, D)."""
    x = _keep_layout(away_from_kinks, torch.randn(*shape, dtype=F64, generator=_gen(7))).requires_grad_()
    assert_gradcheck(NumpyActivation(name), (x,), f"NumpyActivation({name!r}) on shape {shape}")


@pytest.mark.parametrize("kwargs", [
    {"name": "leaky_relu", "negative_slope": 0.2},
    {"name": "elu", "alpha": 0.5},
    {"name": "swish", "beta": 1.7},
    {"name": "gelu", "approximate": "tanh"},
], ids=lambda k: "-".join(f"{v}" for v in k.values()))
def test_activation_gradcheck_hyper_parameters(kwargs):
    kwargs = dict(kwargs)
    name = kwargs.pop("name")
    x = make_input(4, 5, "strided", seed=8)
    assert_gradcheck(NumpyActivation(name, **kwargs), (x,), f"NumpyActivation({name!r}, {kwargs})")


# ---------------------------------------------------------------------------------------------------- losses


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("batch", BATCHES)
def test_softmax_cross_entropy_gradcheck_integer_labels(batch, layout):
    logits = make_input(batch, 4, layout, seed=20 + batch, kinks=False)
    labels = torch.randint(0, 4, (batch,), generator=_gen(21))
    loss = NumpySoftmaxCrossEntropy()
    assert_gradcheck(lambda z: loss(z, labels), (logits,), f"cross-entropy, labels, {layout} ({batch}, 4) logits")


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("batch", BATCHES)
def test_softmax_cross_entropy_gradcheck_one_hot_targets(batch, layout):
    logits = make_input(batch, 4, layout, seed=30 + batch, kinks=False)
    target = torch.nn.functional.one_hot(torch.randint(0, 4, (batch,), generator=_gen(31)), 4).to(F64)
    if layout == "transposed":
        target = target.T.contiguous().T  # a non-contiguous target as well
    loss = NumpySoftmaxCrossEntropy()
    assert_gradcheck(lambda z: loss(z, target), (logits,), f"cross-entropy, one-hot, {layout} ({batch}, 4) logits")


@pytest.mark.parametrize("rows", ["summing to 1", "not summing to 1"])
def test_softmax_cross_entropy_gradcheck_soft_targets(rows):
    """Probability targets get a gradient too, and it is the loss's derivative also for rows that do not sum to 1
    (d/dz = softmax * sum(t) - t, not softmax - t)."""
    logits = make_input(3, 4, "contiguous", seed=1, kinks=False)
    target = torch.rand(3, 4, dtype=F64, generator=_gen(2)) + 0.1
    if rows == "summing to 1":
        target = target / target.sum(1, keepdim=True)
    assert_gradcheck(NumpySoftmaxCrossEntropy(), (logits, target.requires_grad_()), f"soft targets {rows}")


@pytest.mark.parametrize("cols", [1, 3])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("batch", BATCHES)
def test_mse_gradcheck_prediction_and_target(batch, layout, cols):
    pred = make_input(batch, cols, layout, seed=40 + batch, kinks=False)
    target = make_input(batch, cols, "contiguous", seed=41, kinks=False)
    assert_gradcheck(NumpyMSELoss(), (pred, target), f"MSE on {layout} ({batch}, {cols})")


@pytest.mark.parametrize("cols", [1, 3])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("batch", BATCHES)
def test_bce_with_logits_gradcheck_logits_and_target(batch, layout, cols):
    logits = make_input(batch, cols, layout, seed=50 + batch, kinks=False)
    target = torch.rand(batch, cols, dtype=F64, generator=_gen(51)).requires_grad_()  # probabilities
    assert_gradcheck(NumpyBCEWithLogitsLoss(), (logits, target), f"BCE with logits on {layout} ({batch}, {cols})")


@pytest.mark.parametrize("loss_cls", [NumpyMSELoss, NumpyBCEWithLogitsLoss])
def test_loss_gradient_wrt_target_only(loss_cls):
    """The target alone requiring grad: the prediction's gradient is skipped, the target's is right."""
    pred = torch.randn(4, 2, dtype=F64, generator=_gen(60))
    target = torch.rand(4, 2, dtype=F64, generator=_gen(61)).requires_grad_()
    assert_gradcheck(lambda t: loss_cls()(pred, t), (target,), f"{loss_cls.__name__} wrt target only")


# ---------------------------------------------------------------------------------------------------- a network


def test_jacobian_of_a_bridged_network_matches_native():
    """`torch.autograd.functional.jacobian` (vectorize=False) works through NumPy backwards."""
    from lightning_ffnn.network import build_mlp, native_twin

    net = build_mlp([3, 5, 2], activation="tanh", backend="numpy", dtype=F64, seed=1)
    x = torch.randn(2, 3, dtype=F64, generator=_gen(70))
    J = torch.autograd.functional.jacobian(net, x)
    J_native = torch.autograd.functional.jacobian(native_twin(net), x)
    torch.testing.assert_close(J, J_native, rtol=1e-12, atol=1e-12)
    assert_gradcheck(net, (x.requires_grad_(),), "bridged 3-5-2 tanh network")


# ---------------------------------------------------------------------------------------------------- double backward

DOUBLE_BACKWARD_CASES = {
    "linear": lambda x: apply_op(linear, x, torch.ones(2, 3, dtype=F64, requires_grad=True), None),
    "tanh": NumpyActivation("tanh"),
    "relu": NumpyActivation("relu"),
    "mse": lambda x: NumpyMSELoss()(x, torch.zeros(4, 3, dtype=F64)),
}


@pytest.mark.parametrize("case", DOUBLE_BACKWARD_CASES)
def test_double_backward_is_not_supported_gradgradcheck(case):
    """NOT supported, by design: the NumPy backward is not itself differentiable. gradgradcheck sees the
    second-order graph end at once_differentiable's error node (it differentiates with allow_unused=True,
    so the node is never run) and reports a Jacobian mismatch: the analytical side is all zeros."""
    fn = DOUBLE_BACKWARD_CASES[case]
    x = make_input(4, 3, "contiguous", seed=80)
    assert torch.autograd.gradcheck(fn, (x,), eps=1e-6, atol=1e-8), "first order must still pass"
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        torch.autograd.gradgradcheck(fn, (x,))
    assert not torch.autograd.gradgradcheck(fn, (x,), raise_exception=False)


@pytest.mark.parametrize("case", DOUBLE_BACKWARD_CASES)
def test_double_backward_raises_once_differentiable_error(case):
    """grad(create_graph=True), then a second backward: a clear error, never a wrong number."""
    fn = DOUBLE_BACKWARD_CASES[case]
    x = make_input(4, 3, "contiguous", seed=81)
    y = fn(x)
    (g,) = torch.autograd.grad((y * y).sum(), x, create_graph=True)  # upstream grad depends on x
    assert g.requires_grad
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was marked with "
                                           "@once_differentiable"):
        g.sum().backward()
    # torch.autograd.grad only runs the nodes on a path to x, and the error node has none: it fails too,
    # with torch's "not used" message; with allow_unused=True it would silently answer None.
    (g,) = torch.autograd.grad((fn(x) ** 2).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        torch.autograd.grad(g.sum(), x)
    assert torch.autograd.grad(g.sum(), x, allow_unused=True) == (None,)


def test_double_backward_with_constant_upstream_gradient_cuts_the_graph():
    """When the upstream gradient does not depend on x (``y.sum()``), torch attaches no error node: the first
    derivative comes back *detached*. A second backward through it alone then fails loudly; combined with
    other terms it would contribute nothing, so never rely on create_graph through a bridged op."""
    x = make_input(4, 3, "contiguous", seed=82)
    (g,) = torch.autograd.grad(NumpyActivation("tanh")(x).sum(), x, create_graph=True)
    torch.testing.assert_close(g, 1 - torch.tanh(x.detach()) ** 2, rtol=1e-12, atol=1e-12)
    assert not g.requires_grad and g.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        g.sum().backward()
