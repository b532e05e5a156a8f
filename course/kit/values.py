"""What the value tasks run: inputs drawn from a generator (the handout's from the kit's seed, recorded; a grader's
hidden ones from the teacher's) and the calls that use the student's code.

Every function imports the code it runs when it is called, so in a handout it is the handout's (the student's)
code, and at build time the project's own. Nothing here computes an answer itself.
"""

from __future__ import annotations

import numpy as np

from numpy_ops.op import Op

# ---- lab 3.1: the Jacobian of the lab's function, by hand ----


def graph_inputs(rng):
    """The lab's own three points, then two drawn from ``rng`` (a grader's hidden cases draw other ones)."""
    from course.labs.lab31 import POINTS

    return dict(points=np.concatenate([np.array(POINTS, dtype=np.float64), rng.uniform(-2, 2, (2, 3))]))


def graph_gradients(inputs):
    from course.labs.lab31 import LabGraph

    out = []
    for x in inputs["points"]:
        g = LabGraph()
        g.forward(x.copy())
        J = g.backward()
        point = x.copy()
        out.append((f"J at x = {x.tolist()}", J, lambda point=point: LabGraph().forward(point), point))
    return out


# ---- optimizers and initialisation ----

def steps_inputs(rng):
    return dict(p=rng.standard_normal((4, 3)), grads=rng.standard_normal((5, 4, 3)))


def _run_optimizer(inputs, make):
    p = inputs["p"].copy()
    opt = make([p])
    trajectory = []
    for g in inputs["grads"]:
        opt.step([g.copy()])
        trajectory.append(p.copy())
    return dict(params=np.array(trajectory))


def sgd_run(inputs):
    from numpy_ops.optim import SGD

    return _run_optimizer(inputs, lambda ps: SGD(ps, lr=0.1))


def sgd_momentum_run(inputs):
    from numpy_ops.optim import SGD

    plain = _run_optimizer(inputs, lambda ps: SGD(ps, lr=0.1, momentum=0.9))["params"]
    nesterov = _run_optimizer(inputs, lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True))["params"]
    return dict(params=plain, params_nesterov=nesterov)


def adam_run(inputs):
    from numpy_ops.optim import Adam

    return _run_optimizer(inputs, lambda ps: Adam(ps, lr=0.01))


def kaiming_inputs(rng):
    """The seed of the initialisers' generators, drawn from ``rng`` (a grader's hidden cases draw other ones)."""
    return dict(seed=np.array(int(rng.integers(2**31))))


def kaiming_run(inputs):
    from numpy_ops import init

    seed = int(inputs["seed"])
    return dict(uniform_fan_in=init.kaiming_uniform(np.random.default_rng(seed), (64, 32), nonlinearity="relu"),
                normal_fan_out=init.kaiming_normal(np.random.default_rng(seed), (8, 4, 3, 3), mode="fan_out",
                                                   nonlinearity="relu"),
                uniform_leaky=init.kaiming_uniform(np.random.default_rng(seed), (10, 20), a=0.2))


# ---- the convolutional network ----

class NaiveConv2d(Op):
    """conv2d's loops (`numpy_ops.conv.conv2d_naive_forward` / `_backward`) as an op: stride 1, padding 1."""

    name = "conv2d_naive"
    n_inputs = 3

    def forward(self, x, W, b):
        from numpy_ops.conv import conv2d_naive_forward

        return conv2d_naive_forward(x, W, b, 1, 1), (x, W)

    def backward(self, dout, cache):
        from numpy_ops.conv import conv2d_naive_backward

        return conv2d_naive_backward(dout, *cache, 1, 1)


naive_conv2d = NaiveConv2d()


def dropout_inputs(rng):
    return dict(x=rng.standard_normal((6, 5)), dout=rng.standard_normal((6, 5)), p=np.array(0.4))


def dropout_run(inputs):
    from numpy_ops.dropout import dropout, dropout_mask

    mask = dropout_mask(np.random.default_rng(3), inputs["x"].shape, float(inputs["p"]))
    return dict(mask=mask, out=dropout.forward(inputs["x"], mask)[0])


def dropout_gradients(inputs):
    from numpy_ops.dropout import dropout, dropout_mask

    x, dout = inputs["x"], inputs["dout"]
    mask = dropout_mask(np.random.default_rng(3), x.shape, float(inputs["p"]))
    dx = dropout.backward(dout, dropout.forward(x, mask)[1])[0]
    return [("dx", dx, lambda: float(np.sum(dropout.forward(x, mask)[0] * dout)), x)]


# ---- the recurrent network: the course's double sum ----

def bptt_inputs(rng):
    T, D, H, C = 4, 3, 5, 3
    return dict(x=rng.standard_normal((T, D)), y=rng.integers(0, C, T), U=rng.standard_normal((H, D)) * 0.5,
                W=rng.standard_normal((H, H)) * 0.5, V=rng.standard_normal((C, H)) * 0.5, b=rng.standard_normal(H))


def bptt_run(inputs):
    from numpy_ops.bptt import bptt_double_sum

    table = bptt_double_sum(**inputs)
    return dict(loss=np.array(table.loss), h=table.h)


def bptt_gradients(inputs):
    from numpy_ops.bptt import bptt_double_sum

    table = bptt_double_sum(**inputs)
    out = []
    for name in ("U", "W", "b", "V"):
        work = dict(inputs)
        work[name] = inputs[name].copy()
        out.append((f"dL/d{name}", getattr(table, f"d{name}"),
                    lambda work=work: bptt_double_sum(**work).loss, work[name]))
    return out
