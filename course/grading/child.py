"""The child runner: loads one submission and runs its op on the arrays the grader sends. It decides nothing.

Started by `course.grading.sandbox` as ``python -I -S child.py CONFIG`` in a scratch directory that holds only a
copy of the submission. Its import path is the submission's folder, this runner's folder (`framing` and a copy
of the op loader) and a folder holding NumPy alone: none of the project's ops, no checker, no grades. Before the
submission is imported it sets its own limits (address space, CPU time, file size, no new process or thread).

It answers requests, one at a time, on a pipe (`framing`): ``load``, ``forward``, ``backward``, ``ping``, and
``value`` (a course-kit value task's call, `course.grading.values`). An
exception of the submission's becomes an ``error`` answer (type and message); anything else -- an exit, a signal,
a hang -- ends the process, and the grader reads that from outside. What it prints goes nowhere.
"""

import json
import sys


def set_limits(limits: dict) -> None:
    import resource

    mb = 2**20
    for name, value in (("RLIMIT_AS", limits["memory_mb"] * mb), ("RLIMIT_CPU", limits["cpu_s"]),
                        ("RLIMIT_FSIZE", limits["file_mb"] * mb), ("RLIMIT_NPROC", 0), ("RLIMIT_CORE", 0)):
        resource.setrlimit(getattr(resource, name), (value, value))


def describe(exc: BaseException) -> dict:
    """An exception as the grader receives it. A load error keeps the exception behind it (``raise ... from
    None`` still sets ``__context__``): a MemoryError or a refused import is told apart from a typo."""
    cause = exc.__context__ if type(exc).__name__ == "LoadError" and exc.__context__ is not None else exc
    return dict(type=type(exc).__name__, message=str(exc)[:2000], cause=type(cause).__name__,
                module=getattr(cause, "name", None) if isinstance(cause, ImportError) else None)


class Runner:
    def __init__(self, user_op):
        self.user_op = user_op
        self.ops = {}
        self.caches = {}
        self.next_cache = 0

    def load(self, file: str | None, name: str | None, target: str | None = None, kwargs=None) -> dict:
        if target:
            return self.load_target(target, kwargs)
        if name:
            self.ops = {name: self.user_op.load_op(f"{file}:{name}")}
            return dict(ops=[self.info(name, self.ops[name])], skipped=[])
        module = self.user_op.load_module(file)
        self.ops = self.user_op.discover(module)
        return dict(ops=[self.info(n, op) for n, op in self.ops.items()], skipped=self.skipped(module))

    def load_target(self, target: str, kwargs) -> dict:
        """``"package.module:attribute"`` imported from the submission's folder (a handout's own files), called
        with ``kwargs`` when given (a factory)."""
        attr = target.partition(":")[2]
        obj = self._import(target)
        if kwargs is not None:
            obj = obj(**kwargs)
        self.ops = {attr: self.user_op.op_from(obj, attr, target)}
        return dict(ops=[self.info(attr, self.ops[attr])], skipped=[])

    def skipped(self, module) -> list[dict]:
        """Objects with forward/backward that discovery left out because they cannot be built, with the reason."""
        import inspect

        out = []
        for key, obj in vars(module).items():
            if key in self.ops or key.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isclass(obj) and any(isinstance(v, obj) for v in vars(module).values()):
                continue
            if callable(getattr(obj, "forward", None)) and callable(getattr(obj, "backward", None)):
                try:
                    self.user_op.op_from(obj, key, f"{module.__file__}:{key}")
                except Exception as exc:
                    out.append(dict(name=key, reason=str(exc)[:2000]))
        return out

    @staticmethod
    def info(name, op) -> dict:
        like, n = getattr(op, "like", None), getattr(op, "n_inputs", None)
        return dict(name=name, like=like if isinstance(like, str) else None, n_inputs=n if isinstance(n, int) else None)

    def forward(self, op: str, inputs):
        import numpy as np

        out, cache = self.ops[op].forward(*inputs)
        self.next_cache += 1
        self.caches[self.next_cache] = cache
        while len(self.caches) > 8:  # the checker runs backward right after its forward; older caches are dead
            del self.caches[min(self.caches)]
        # the inputs go back as the op left them: the grader, not this process, sees what changed in place
        return dict(cache=self.next_cache), [np.asarray(out), *inputs]

    def backward(self, op: str, cache: int, arrays):
        import numpy as np

        (dout,) = arrays
        grads = self.ops[op].backward(dout, self.caches[cache])
        kinds, sent = [], []
        for g in grads:
            if g is None:
                kinds.append("none")
            elif isinstance(g, np.ndarray) and g.dtype.kind in "biuf":
                kinds.append("array")
                sent.append(g)
            else:
                kinds.append(type(g).__name__)
        return dict(grads=kinds), [*sent, dout]


    def value(self, target: str, kind: str, keys: list, arrays):
        """A value task's call (``"course.kit.values:adam_run"``, imported from the submission's folder) on the
        named input arrays: its outputs by name (``kind`` "run": a dict) or its gradients (``kind`` "gradients": a
        list of (name, gradient, ...); what else each item holds stays here)."""
        import numpy as np

        fn = self._import(target)
        result = fn(dict(zip(keys, arrays)))
        items = list(result.items()) if kind == "run" else [(item[0], item[1]) for item in result]
        return dict(names=[str(name) for name, _ in items]), [np.asarray(a) for _, a in items]

    @staticmethod
    def _import(target: str):
        import importlib
        import os

        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)


def main() -> None:
    config = json.loads(sys.argv[1])
    sys.path[:0] = [config["runner"], config["site"]]
    import numpy  # noqa: F401  (imported before the limits: its libraries map more than an op needs)

    import framing
    from _oploader import user_op

    set_limits(config["limits"])
    requests, answers = config["fds"]
    runner = Runner(user_op)
    while True:
        try:
            header, arrays = framing.receive(requests)
        except EOFError:
            return
        try:
            cmd = header.get("cmd")
            if cmd == "ping":
                reply = dict(pong=True), []
            elif cmd == "load":
                reply = runner.load(header.get("file"), header.get("name"), header.get("target"),
                                    header.get("kwargs")), []
            elif cmd == "forward":
                reply = runner.forward(header["op"], arrays)
            elif cmd == "backward":
                reply = runner.backward(header["op"], header["cache"], arrays)
            elif cmd == "value":
                reply = runner.value(header["target"], header["kind"], header["keys"], arrays)
            else:
                reply = dict(error=dict(type="ValueError", message=f"unknown request {cmd!r}")), []
            data = framing.encode(*reply)
        except Exception as exc:  # the submission's error: an answer, not the end of the runner
            data = framing.encode(dict(error=describe(exc)))
        framing.write_all(answers, data)


if __name__ == "__main__":
    main()
