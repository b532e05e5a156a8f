"""numpy_ops is NumPy only: importing it (or any of its modules) must never pull in torch.

Each check runs in a fresh interpreter, because this test process has usually imported torch already.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_import_numpy_ops_does_not_import_torch():
    r = run_python("import numpy_ops, sys; assert 'torch' not in sys.modules, 'torch was imported'")
    assert r.returncode == 0, f"`import numpy_ops` failed or imported torch:\n{r.stderr}"


def test_every_submodule_and_every_op_call_stays_torch_free():
    # Covers modules not (yet) exported from __init__ too, and lazy imports inside functions
    # (the exact GELU imports scipy on first call).
    code = """
import importlib, pkgutil, sys
import numpy as np
import numpy_ops
mods = [m.name for m in pkgutil.iter_modules(numpy_ops.__path__)]
for m in mods:
    importlib.import_module('numpy_ops.' + m)
x = np.linspace(-2, 2, 7)
for name in numpy_ops.ACTIVATIONS:
    act = numpy_ops.get_activation(name)
    out, cache = act.forward(x)
    act.backward(np.ones_like(out), cache)
net = numpy_ops.mlp([2, 3, 2], rng=np.random.default_rng(0))
numpy_ops.fit(net, numpy_ops.softmax_cross_entropy, numpy_ops.SGD(net.parameters(), lr=0.1),
              np.zeros((4, 2)), np.array([0, 1, 0, 1]), epochs=1, batch_size=2)
bad = sorted(k for k in sys.modules if k == 'torch' or k.startswith('torch.'))
assert not bad, f'torch modules imported: {bad[:5]} (modules: {mods})'
"""
    r = run_python(code)
    assert r.returncode == 0, f"a numpy_ops module or op imported torch:\n{r.stderr}"


@pytest.mark.parametrize("name", ["op", "activations", "layers", "losses", "init", "optim", "network", "train",
                                  "gradcheck"])
def test_source_has_no_torch_import(name):
    src = (ROOT / "numpy_ops" / f"{name}.py").read_text()
    offending = [ln for ln in src.splitlines() if ln.strip().startswith(("import torch", "from torch"))]
    assert not offending, f"numpy_ops/{name}.py imports torch: {offending}"
