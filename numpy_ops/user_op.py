"""A user's own op, loaded from a Python file: ``path/to/file.py:NAME``.

What ``NAME`` may be, in the file:

* an object with ``forward(*inputs) -> (out, cache)`` and ``backward(dout, cache) -> grads``, as the
  ops of `numpy_ops` are written (no base class needed); a class is instantiated without arguments;
* or nothing by that name, but a CS231n-style pair of functions ``NAME_forward`` / ``NAME_backward``
  (or CS231n's ``X_forward_naive`` / ``X_backward_naive``, named by either);
* or a CS231n loss function ``NAME(x, y) -> (loss, dx)`` (a name ending in ``_loss``, e.g. ``softmax_loss``).

`load_op` returns a `LoadedOp`, an `Op` that calls the user's code: it can be checked
(`course.opcheck`), trained in a network (`numpy_ops.spec.UserActivation`) or bridged to
torch like any op. A file that cannot be used raises `LoadError`, whose message says why.
The file is executed: load only code you would run.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from .op import Cache, Op


class LoadError(ValueError):
    """The file or the name cannot be loaded as an op; the message says why."""


def is_op_path(text: Any) -> bool:
    """True for ``"something.py:NAME"`` (the form `load_op` takes), False for a plain name like ``"relu"``."""
    if not isinstance(text, str) or ":" not in text:
        return False
    path, _, name = text.rpartition(":")
    return path.endswith(".py") and name.isidentifier()


def split_op_path(text: str) -> tuple[Path, str]:
    """``"dir/file.py:NAME"`` -> ``(Path("dir/file.py"), "NAME")``; `LoadError` for any other form."""
    if not is_op_path(text):
        raise LoadError(f"{text!r}: expected FILE.py:NAME, e.g. my_ops.py:Sigmoid or my_layers.py:relu")
    path, _, name = text.rpartition(":")
    return Path(path), name


class LoadedOp(Op):
    """A user's op behind the `Op` contract.

    ``backward`` may return a bare array for a one-input op (as CS231n's ``relu_backward`` does): it is
    wrapped in a tuple, so every caller sees one gradient per input."""

    def __init__(self, forward, backward, name: str, n_inputs: int | None, source: str, target: Any = None):
        self._forward, self._backward = forward, backward
        self.name = name
        self.n_inputs = n_inputs
        self.source = source  # "file.py:NAME", for messages
        self.target = target  # the user's object (or None for a function pair)

    def forward(self, *inputs: np.ndarray) -> tuple[np.ndarray, Cache]:
        result = self._forward(*inputs)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(f"{self.source}: forward must return (out, cache), got {_describe(result)}")
        return result

    def backward(self, dout: np.ndarray, cache: Cache) -> tuple[np.ndarray | None, ...]:
        grads = self._backward(dout, cache)
        if isinstance(grads, np.ndarray) or grads is None:
            return (grads,)
        if isinstance(grads, list):
            return tuple(grads)
        if not isinstance(grads, tuple):
            raise TypeError(f"{self.source}: backward must return one gradient per input (a tuple), "
                            f"got {_describe(grads)}")
        return grads

    @property
    def user_forward(self):
        """The user's own forward callable (its signature names the inputs)."""
        return self._forward

    @property
    def like(self) -> str | None:
        """The `numpy_ops` op this one says it equals (a ``like`` attribute on the user's object), if any."""
        value = getattr(self.target, "like", None)
        return value if isinstance(value, str) else None

    def extra_repr(self) -> str:
        return repr(self.source)


def _describe(value: Any) -> str:
    if isinstance(value, tuple):
        return f"a tuple of {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return type(value).__name__


def _n_positional(fn) -> int | None:
    """How many positional inputs ``fn`` takes (None with ``*args``)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty for p in params)


def load_module(path: Path):
    """Execute a Python file as a fresh module (its folder first on ``sys.path`` while it runs)."""
    path = Path(path)
    if not path.is_file():
        raise LoadError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    module_name = f"_user_op_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise LoadError(f"{path}: not a Python file that can be imported")
    module = importlib.util.module_from_spec(spec)
    # registered while it runs, as an import would (dataclasses and pickling look the module up by name)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.resolve().parent))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's file: any error becomes the reason it cannot be loaded
        del sys.modules[module_name]
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
        where = f", line {frames[-1].lineno}" if frames else ""
        raise LoadError(f"{path}{where}: importing the file raised {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.remove(str(path.resolve().parent))
    return module


def op_from(obj: Any, name: str, source: str) -> LoadedOp:
    """A `LoadedOp` from an object with forward/backward (a class is instantiated without arguments)."""
    if inspect.isclass(obj):
        try:
            obj = obj()
        except Exception as exc:
            raise LoadError(f"{source}: {name} is a class, and {name}() raised {type(exc).__name__}: {exc}; "
                            "give its arguments defaults, or define an instance in the file") from None
    missing = [m for m in ("forward", "backward") if not callable(getattr(obj, m, None))]
    if missing:
        raise LoadError(f"{source}: {name} has no {' and no '.join(missing)} method; expected an object with "
                        f"forward(*inputs) -> (out, cache) and backward(dout, cache) -> grads, or two functions "
                        f"{name}_forward and {name}_backward")
    n = getattr(obj, "n_inputs", None)
    n = n if isinstance(n, int) else _n_positional(obj.forward)
    op_name = getattr(obj, "name", None)
    return LoadedOp(obj.forward, obj.backward, op_name if isinstance(op_name, str) else name, n, source, obj)


def loss_op(fn, name: str, source: str) -> LoadedOp:
    """A `LoadedOp` from a CS231n loss ``fn(x, y) -> (loss, dx)``: forward caches dx, backward scales it by dout."""
    def forward(x, y):
        result = fn(x, y)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(f"{source}: a loss function must return (loss, dx), got {_describe(result)}")
        loss, dx = result
        return np.asarray(loss, dtype=np.asarray(x).dtype), (np.asarray(dx),)

    def backward(dout, cache):
        return cache[0] * dout, None

    forward.__signature__ = inspect.signature(fn)
    return LoadedOp(forward, backward, name, 2, source, fn)


def _pair(module, name: str):
    """The (forward, backward) functions of a CS231n pair named ``name``: ``NAME_forward`` / ``NAME_backward``,
    or ``X_forward_Y`` itself with its ``X_backward_Y``; None when there is none."""
    names = [(f"{name}_forward", f"{name}_backward")]
    if "_forward" in name:
        names.append((name, name.replace("_forward", "_backward", 1)))
    for f, b in names:
        fwd, bwd = getattr(module, f, None), getattr(module, b, None)
        if callable(fwd) and callable(bwd):
            return fwd, bwd
    return None


def load_op(text: str) -> LoadedOp:
    """Load ``"FILE.py:NAME"`` (see the module docstring); `LoadError` says why when it cannot."""
    path, name = split_op_path(text)
    module = load_module(path)
    pair = _pair(module, name)
    if pair is not None and not hasattr(getattr(module, name, None), "backward"):
        return LoadedOp(*pair, name, _n_positional(pair[0]), text)
    if name.endswith("_loss") and inspect.isfunction(getattr(module, name, None)):
        return loss_op(getattr(module, name), name, text)
    if hasattr(module, name):
        return op_from(getattr(module, name), name, text)
    found = sorted(n for n in discover(module))
    raise LoadError(f"{path}: defines no {name!r} and no pair {name}_forward / {name}_backward"
                    + (f"; ops found in the file: {', '.join(found)}" if found else ""))


def discover(module) -> dict[str, LoadedOp]:
    """Every op a module defines itself: objects with forward/backward, and ``X_forward``/``X_backward`` pairs.
    Names imported from elsewhere (``from numpy_ops import linear``) are left out."""
    source = getattr(module, "__file__", "?")
    ops: dict[str, LoadedOp] = {}
    for key, obj in vars(module).items():
        if key.startswith("_"):
            continue
        own = inspect.isclass(obj) or inspect.isfunction(obj)
        home = getattr(obj if own else type(obj), "__module__", None)
        if home != module.__name__:
            continue
        if callable(getattr(obj, "forward", None)) and callable(getattr(obj, "backward", None)):
            if inspect.isclass(obj) and any(isinstance(v, obj) for v in vars(module).values()):
                continue  # an instance of this class is in the file too: check that one only
            try:
                ops[key] = op_from(obj, key, f"{source}:{key}")
            except LoadError:
                continue
        elif "_forward" in key and inspect.isfunction(obj):
            base = key.replace("_forward", "", 1)   # affine_forward -> affine, conv_forward_naive -> conv_naive
            bwd = vars(module).get(key.replace("_forward", "_backward", 1))
            if inspect.isfunction(bwd):
                ops[base] = LoadedOp(obj, bwd, base, _n_positional(obj), f"{source}:{base}")
        elif key.endswith("_loss") and inspect.isfunction(obj) and _n_positional(obj) == 2:
            ops[key] = loss_op(obj, key, f"{source}:{key}")
    return ops
