"""Write files so that a crash mid-write leaves the previous good file in place.

Everything a run writes that a later step reads back (checkpoints, ``results.json``) goes to a
temporary file in the same directory, is flushed to disk, and then replaces the target with
``os.replace`` -- an atomic rename on POSIX: readers see the old file or the new one, never half.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO


class DiskFullError(OSError):
    """A file could not be written for lack of space (or quota); the previous version of the file is kept."""

    def __str__(self) -> str:
        return self.strerror  # the message alone, without "[Errno 28]"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        _raise_if_full(exc, path, len(data))
        raise
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode())  # mkstemp's 0600, else: the mode any other file of the run gets
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            _raise_if_full(exc, path, len(data))
        raise


def _raise_if_full(exc: OSError, path: Path, size: int) -> None:
    """Turn "no space left" / "quota exceeded" into one line that says what was not written and what is kept."""
    if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
        return
    kept = f"the previous {path.name} is kept" if path.exists() else f"no {path.name} was written"
    raise DiskFullError(exc.errno, f"cannot write {path} ({size / 2 ** 20:.1f} MiB): the disk is full "
                        f"({os.strerror(exc.errno)}); {kept}. Free space (old runs: scripts/prune_runs.py) and "
                        "resume with --ckpt_path last") from None


def _file_mode() -> int:
    """0666 less the process's umask: the mode ``open(path, "w")`` gives a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's torch checkpoint IO, made crash-safe by write-to-temporary-then-rename."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        import io

        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        atomic_write_bytes(path, buffer.getvalue())
