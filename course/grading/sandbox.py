"""Where a submission runs: a fresh interpreter per submission, limits, a scratch folder, and nothing to reach.

A `Sandbox` is one grading run's set-up: a runner folder (`child.py`, `framing.py` and a copy of the op loader
`numpy_ops/user_op.py` + `op.py`, none of the reference ops), a folder holding NumPy alone, and the isolation
this machine allows. `Sandbox.start` copies one submission into a fresh scratch folder and starts `Child`:
``python -I -S child.py`` (isolated mode, no site-packages) in its own session and process group, stdin,
stdout and stderr on /dev/null, an environment of PATH and one BLAS thread, two pipes for requests and answers.

Hardening, where the kernel allows it without root (user namespaces; probed once per run): the child runs under
``unshare`` in new user, network, mount and PID namespaces -- no network, every mount read-only except its scratch
folder, the project, the class and the output folders hidden under empty tmpfs mounts, and every process it
starts killed with it. Without it the limits, the process group and the final atomic write of the grades still
hold; `Sandbox.isolation` says which one ran.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import framing

HERE = Path(__file__).resolve().parent
#: The op loader the child uses, copied from numpy_ops (it imports only NumPy and its sibling op.py).
LOADER = ("op.py", "user_op.py")
PROJECT = HERE.parents[1]  # the project's root: numpy_ops, course, lightning_ffnn
PYTHON = os.path.realpath(sys.executable)
TIMEOUT, CRASHED, OUT_OF_MEMORY = "TIMEOUT", "CRASHED", "OUT OF MEMORY"


@dataclass(frozen=True)
class Limits:
    """What one submission may use. ``timeout_s`` is wall-clock per task (loading the file included)."""

    timeout_s: float = 20.0
    memory_mb: int = 1024   # address space (RLIMIT_AS)
    file_mb: int = 4        # the largest file it may write (RLIMIT_FSIZE)
    cpu_s: int = 120        # CPU seconds over the process's life (RLIMIT_CPU), a backstop for the wall clock


class Stopped(BaseException):
    """The submission's process ended or stopped answering: its row is decided (TIMEOUT, CRASHED, OUT OF MEMORY).

    A BaseException on purpose: the checker turns every Exception of a user's op into a finding and goes on;
    a dead process is no finding of one call, it ends the check."""

    def __init__(self, result: str, detail: str):
        super().__init__(f"{result}: {detail}")
        self.result, self.detail = result, detail


def describe_status(code: int, phase: str) -> tuple[str, str]:
    """(result, detail) for a child that ended with ``code`` (a Popen returncode) ``phase`` ("in backward")."""
    if code < 0:
        sig = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        if sig == "SIGXCPU":
            return TIMEOUT, f"CPU time limit reached {phase}"
        return CRASHED, f"killed by signal {sig} {phase}"
    return CRASHED, f"the process exited with status {code} {phase} (sys.exit, os._exit or a crash)"


class Child:
    """One submission's process. `ask` sends a request and returns the answer, or raises `Stopped`."""

    def __init__(self, command: list[str], scratch: Path, limits: Limits):
        self.scratch, self.limits = scratch, limits
        req_r, self._req = os.pipe()
        self._ans, ans_w = os.pipe()
        os.set_blocking(self._req, False)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}
        command = [c.replace("@FDS@", f"{req_r},{ans_w}") for c in command]
        self.proc = subprocess.Popen(command, cwd=scratch, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(req_r, ans_w),
                                     start_new_session=True)
        os.close(req_r)
        os.close(ans_w)
        self.deadline = time.monotonic() + limits.timeout_s

    def restart_clock(self) -> None:
        self.deadline = time.monotonic() + self.limits.timeout_s

    def ask(self, header: dict, arrays=(), phase: str = "") -> tuple[dict, list[np.ndarray]]:
        try:
            framing.send(self._req, header, arrays, self.deadline)
            answer, arrays = framing.receive(self._ans, self.deadline)
        except framing.Timeout:
            self.stop()
            raise Stopped(TIMEOUT, f"no answer within {self.limits.timeout_s:g} s {phase}") from None
        except (EOFError, BrokenPipeError):
            code = self._wait()
            self.stop()
            raise Stopped(*describe_status(code, phase)) from None
        except framing.FramingError as exc:
            self.stop()
            raise Stopped(CRASHED, f"garbled the answer channel {phase} ({exc})") from None
        error = answer.get("error")
        if "error" in answer and not (isinstance(error, dict) and all(isinstance(k, str) for k in error.values()
                                                                          if k is not None)):
            self.stop()
            raise Stopped(CRASHED, f"garbled the answer channel {phase} (an error that is not a message)")
        if isinstance(error, dict):
            if error.get("cause") == "MemoryError" or error.get("type") == "MemoryError":
                self.stop()
                raise Stopped(OUT_OF_MEMORY, f"MemoryError {phase} (limit {self.limits.memory_mb} MiB)")
            answer["error"] = {k: self.clean(str(v)) if isinstance(v, str) else v for k, v in error.items()}
        return answer, arrays

    def clean(self, text: str) -> str:
        """A message of the child's without the scratch folder's path (a student sees the file's name only)."""
        return text.replace(f"{self.scratch}{os.sep}", "").replace(str(self.scratch), ".")

    def _wait(self) -> int:
        try:
            return self.proc.wait(timeout=max(0.5, min(5.0, self.deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            return -signal.SIGKILL

    def stop(self) -> None:
        """Kill the whole process group (whatever it started), reap it, close the pipes. Idempotent."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for fd in (self._req, self._ans):
            try:
                os.close(fd)
            except OSError:
                pass
        self._req = self._ans = -1


class Sandbox:
    """One grading run's runner folder, NumPy-only site folder and isolation; `close` removes them."""

    def __init__(self, limits: Limits = Limits(), hide: tuple[Path, ...] = (), isolate: bool = True):
        self.limits = limits
        self.base = Path(tempfile.mkdtemp(prefix="lightning-ffnn-grading-"))
        self.runner, self.site = self.base / "runner", self.base / "site"
        (self.runner / "_oploader").mkdir(parents=True)
        for name in ("child.py", "framing.py"):
            shutil.copy2(HERE / name, self.runner / name)
        (self.runner / "_oploader" / "__init__.py").write_text("")
        for name in LOADER:
            shutil.copy2(PROJECT / "numpy_ops" / name, self.runner / "_oploader" / name)
        self.numpy = [p for p in (Path(np.__file__).resolve().parent, Path(np.__file__).resolve().parent.with_name("numpy.libs"))
                      if p.is_dir()]
        hidden = {p for p in (Path(h).resolve() for h in (PROJECT, *hide)) if self._hideable(p)}
        # a folder inside another hidden one is hidden with it (and could not be mounted on once that one is)
        self.hide = tuple(sorted(p for p in hidden if not any(q in p.parents for q in hidden)))
        self.namespaces = False
        self.isolation = "processes, limits and process groups only (namespaces not tried)"
        if isolate:
            self._build_site(mounts=True)
            self.namespaces = True
            reason = self._probe()
            if reason is None:
                self.isolation = "user, network, mount and PID namespaces: no network, read-only files outside the scratch folder"
            else:
                self.namespaces = False
                self.isolation = f"processes, limits and process groups only (namespaces unavailable: {reason})"
        if not self.namespaces:
            self._build_site(mounts=False)

    def _hideable(self, path: Path) -> bool:
        """A folder may be hidden unless the child needs what is inside (the sandbox, the interpreter)."""
        needed = (self.base, Path(PYTHON).parent, Path(os.__file__).parent)
        return path.is_dir() and not any(n == path or path in n.parents for n in needed)

    def _build_site(self, mounts: bool) -> None:
        shutil.rmtree(self.site, ignore_errors=True)
        self.site.mkdir()
        for src in self.numpy:
            if mounts:
                (self.site / src.name).mkdir()  # a mount point: bound inside the namespace
            else:
                (self.site / src.name).symlink_to(src, target_is_directory=True)

    def _probe(self) -> str | None:
        if shutil.which("unshare") is None:
            return "no unshare command"
        child = self.start([], "probe")
        try:
            child.ask(dict(cmd="ping"), phase="starting")
            return None
        except Stopped as exc:
            return exc.detail
        finally:
            child.stop()

    def _command(self, scratch: Path) -> list[str]:
        config = dict(runner=str(self.runner), site=str(self.site), fds="@FDS@", limits=asdict(self.limits))
        config_text = framing.json.dumps(config).replace('"@FDS@"', "[@FDS@]")
        python = [PYTHON, "-I", "-S", str(self.runner / "child.py"), config_text]
        if not self.namespaces:
            return python
        q = shlex.quote
        lines = ["set -e", f"mount --bind {q(str(scratch))} {q(str(scratch))}"]
        lines += [f"mount --bind {q(str(src))} {q(str(self.site / src.name))}" for src in self.numpy]
        # every mount read-only but the scratch folder (and the kernel's own pseudo-filesystems)
        lines.append("for m in $(awk '{print $5}' /proc/self/mountinfo); do case \"$m\" in "
                     f"/proc|/proc/*|/sys|/sys/*|/dev|/dev/pts|{q(str(scratch))}) ;; "
                     "*) mount -o remount,bind,ro \"$m\" 2>/dev/null || true ;; esac; done")
        lines += [f"mount -t tmpfs -o ro,size=4k none {q(str(p))}" for p in self.hide]
        lines += [f"cd {q(str(scratch))}", 'exec "$@"']  # cd: the working folder was the one under the mount
        return ["unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child",
                "sh", "-c", "\n".join(lines), "sh", *python]

    def start(self, files: list[tuple[Path, str]], label: str) -> Child:
        """A child in a fresh scratch folder holding copies of ``files`` ((source, name inside the folder))."""
        scratch = Path(tempfile.mkdtemp(prefix=f"{_safe(label)}-", dir=self.base))
        for src, name in files:
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, scratch / name)
        return Child(self._command(scratch), scratch, self.limits)

    def close(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in label)[:40] or "submission"
