"""Attention's key-padding mask (`numpy_ops.attention.AttentionOp(key_padding=True)`), as
``nn.MultiheadAttention(key_padding_mask=...)``: central differences in NumPy, gradcheck through the bridge, the
twin with the same weights and mask (output and every gradient within 1e-10), a query that may see no key, the
checker's reference, and errors that say what is wrong."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course.opcheck import check
from lightning_ffnn.layers_transformer import NumpyAttention
from numpy_ops.attention import AttentionOp
from numpy_ops.gradcheck import check_op, scaled_error

from test_bridge_transformer import non_contiguous, randomise
from test_numpy_ops_attention import attention_inputs

F64 = torch.float64


def padding(N: int, T: int) -> np.ndarray:
    """Sequence 0 padded at its end (two keys), sequence 1 at its start (one key), the others not at all."""
    mask = np.zeros((N, T), dtype=bool)
    mask[0, T - 2:] = True
    if N > 1:
        mask[1, 0] = True
    return mask


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("N, T, D, heads", [(1, 4, 3, 1), (3, 5, 6, 2), (2, 7, 6, 3)])
def test_padded_attention_gradients_match_central_differences(causal, N, T, D, heads):
    inputs = [*attention_inputs(np.random.default_rng(N * 10 + T), N, T, D), padding(N, T)]
    op = AttentionOp(heads, causal, key_padding=True)
    errors = check_op(op, inputs, wrt=range(5), error=scaled_error)
    assert max(errors) < 1e-8, errors
    assert op.backward(np.ones((N, T, D)), op.forward(*inputs)[1])[5] is None  # the mask has no gradient


def test_padded_keys_get_no_weight_and_change_nothing():
    rng = np.random.default_rng(1)
    x, *params = attention_inputs(rng, 3, 6, 4)
    mask = padding(3, 6)
    op = AttentionOp(2, causal=False, key_padding=True)
    p = op.weights(x, *params[:2], key_padding_mask=mask)
    assert np.all(p[0, :, :, 4:] == 0) and np.all(p[1, :, :, 0] == 0)
    np.testing.assert_allclose(p.sum(-1), 1, rtol=1e-14)
    changed = x.copy()
    changed[0, 4:] = rng.normal(size=(2, 4))  # what sits at padded keys: seen by no query but their own outputs
    out, changed_out = op(x, *params, mask), op(changed, *params, mask)
    np.testing.assert_allclose(changed_out[0, :4], out[0, :4], rtol=1e-14)
    np.testing.assert_array_equal(changed_out[2], out[2])
    # without the mask the padded keys do count
    assert not np.allclose(AttentionOp(2)(changed, *params)[0, :4], AttentionOp(2)(x, *params)[0, :4])


def test_a_query_that_may_see_no_key_gets_zero_weights_and_sends_no_gradient():
    rng = np.random.default_rng(2)
    x, *params = attention_inputs(rng, 2, 4, 4)
    mask = padding(2, 4)  # sequence 1's first key is padding, and under the causal mask query 0 sees only key 0
    op = AttentionOp(2, causal=True, key_padding=True)
    with np.errstate(all="raise"):
        out, cache = op.forward(x, *params, mask)
        grads = op.backward(rng.normal(size=out.shape), cache)
    assert np.all(op.weights(x, *params[:2], key_padding_mask=mask)[1, :, 0] == 0)
    np.testing.assert_array_equal(out[1, 0], params[3])  # attention output 0: only the output bias is left
    assert all(np.isfinite(g).all() for g in grads[:5])


def test_mask_errors_say_what_is_wrong():
    x, *params = attention_inputs(np.random.default_rng(3), 2, 3, 4)
    padded = AttentionOp(2, key_padding=True)
    with pytest.raises(ValueError, match=r"key_padding_mask must be \(batch, time\) = \(2, 3\), got shape \(3, 2\)"):
        padded.forward(x, *params, np.zeros((3, 2), dtype=bool))
    with pytest.raises(TypeError, match="key_padding_mask must be booleans.*float64"):
        padded.forward(x, *params, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="key_padding=True.*got no mask"):
        padded.forward(x, *params)
    with pytest.raises(ValueError, match="key_padding=False and got a mask"):
        AttentionOp(2).forward(x, *params, np.zeros((2, 3), dtype=bool))
    assert (AttentionOp(2).n_inputs, padded.n_inputs) == (5, 6)


def mask_tensor(N, T):
    return torch.from_numpy(padding(N, T))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_gradcheck_through_the_bridge_with_a_mask(causal, layout):
    module = randomise(NumpyAttention(6, 3, causal=causal, dtype=F64), 0)
    x = torch.randn(3, 5, 6, generator=torch.Generator().manual_seed(1), dtype=F64)
    if layout == "strided":
        x = non_contiguous(x)
    names = [n for n, _ in module.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in module.parameters()]
    mask = mask_tensor(3, 5)

    def fn(x, *ps):
        return torch.func.functional_call(module, dict(zip(names, ps)), (x, mask))

    assert torch.autograd.gradcheck(fn, (x.requires_grad_(), *params), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("causal", [False, True])
def test_twin_nn_multihead_attention_with_the_same_mask(causal):
    """Training mode (the mode of a fully masked row's defined result); the twin is nn.MultiheadAttention itself."""
    numpy_module = randomise(NumpyAttention(6, 2, causal=causal, dtype=F64), 0)
    twin = numpy_module.native()
    twin.load_state_dict(numpy_module.state_dict())
    assert type(twin).__mro__[1] is torch.nn.MultiheadAttention
    g = torch.Generator().manual_seed(2)
    x, dout, mask = torch.randn(3, 5, 6, generator=g, dtype=F64), torch.randn(3, 5, 6, generator=g, dtype=F64), \
        mask_tensor(3, 5)
    results = []
    for module in (numpy_module, twin):
        xi = x.clone().requires_grad_()
        out = module(xi, key_padding_mask=mask)
        params = dict(module.named_parameters())
        grads = torch.autograd.grad(out, [xi, *params.values()], dout)
        results.append({"output": out.detach(), "grad of the input": grads[0],
                        **{f"grad of {n}": gr for n, gr in zip(params, grads[1:])}})
    assert results[0].keys() == results[1].keys()
    for key in results[0]:
        torch.testing.assert_close(results[0][key], results[1][key], rtol=1e-10, atol=1e-10, msg=key)
    if causal:  # sequence 1's first query sees no key: both sides give 0 attention, not NaN
        torch.testing.assert_close(results[0]["output"][1, 0], numpy_module.out_proj.bias.detach())


def test_the_checker_passes_the_reference_and_names_the_mask_input():
    report = check(AttentionOp(2, causal=True, key_padding=True), like="padded_attention")
    assert report.passed, report.output
    assert {row["input"] for row in report.summary()} == {"x", "in_proj_weight", "in_proj_bias", "out_proj_weight",
                                                          "out_proj_bias"}  # no gradient row for the booleans
