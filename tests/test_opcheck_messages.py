"""The checker's words: each message only where it applies, and a command line that needs no more than it must."""

import numpy as np
from test_opcheck_cli import run, write

from course.opcheck import check
from numpy_ops import activations

RELU_INTO_DOUT = """
    import numpy as np

    class ReLU:
        def forward(self, x):
            return np.maximum(x, 0), (x,)

        def backward(self, dout, cache):
            (x,) = cache
            dout[x <= 0] = 0          # right values, but written into the caller's dout
            return (dout,)
"""
WRONG_SIGN_PAIR = """
    import numpy as np

    def sigmoid_forward(x):
        s = 1 / (1 + np.exp(-x))
        return s, (s,)

    def sigmoid_backward(dout, cache):
        (s,) = cache
        return -dout * s * (1 - s)
"""


class Float32Only:
    """Sigmoid, right in float64; in float32 its gradient is 1% off (a float32-only bug)."""

    name = "sigmoid"

    def __init__(self):
        self.base = activations.get_activation("sigmoid")

    def forward(self, x):
        return self.base.forward(x)

    def backward(self, dout, cache):
        (dx,) = self.base.backward(dout, cache)
        return ((dx * np.float32(1.01)).astype(np.float32),) if dx.dtype == np.float32 else (dx,)


def test_float32_message_only_when_float64_passes_and_float32_does_not(tmp_path, capsys):
    report = check(Float32Only(), like="sigmoid")
    problems = [p for r in report.results if not r.passed for p in r.problems]
    assert problems == ["float32 gradient differs from the float64 one beyond float32 rounding"]
    code, out, _ = run(capsys, f"{write(tmp_path, 'alice.py', WRONG_SIGN_PAIR)}:sigmoid", "--like", "sigmoid")
    assert code == 1 and "HINT: wrong sign" in out
    assert "float32 gradient differs" not in out, out  # the float64 gradient is wrong: float32 is not the news


def test_relu_writing_into_dout_gets_only_the_in_place_finding(tmp_path, capsys):
    code, out, _ = run(capsys, f"{write(tmp_path, 'relu.py', RELU_INTO_DOUT)}:ReLU", "--like", "relu")
    assert code == 1
    assert "backward changed dout in place" in out
    assert "HINT" not in out and "worst element" not in out and "differs" not in out, out


def test_like_is_inferred_from_the_name(tmp_path, capsys):
    code, out, err = run(capsys, f"{write(tmp_path, 'alice.py', WRONG_SIGN_PAIR)}:sigmoid")
    assert code == 1, err
    assert "checked against numpy_ops' sigmoid" in out and "HINT: wrong sign" in out


def test_a_missing_directory_is_named_as_such(tmp_path, capsys):
    code, _, err = run(capsys, f"{tmp_path}/nosuchdir/")
    assert code == 2 and "nosuchdir/: no such directory" in err and "--like" not in err
