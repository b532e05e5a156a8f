"""What training leaves on disk under ``runs/<name>/``, and keeping only the newest runs of a name.

Every run of a config adds a directory ``runs/<name>/version_<n>/`` and nothing removes one: its checkpoints
(``last.ckpt`` and the best one, each the weights plus the optimizer's state), the TensorBoard events, the figures and
``results.json``. `run_sizes` says what each holds; `prune_runs` removes all but the newest ``keep`` (by version
number), for ``scripts/prune_runs.py``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

_VERSION = re.compile(r"version_(\d+)")


def versions(run_root: str | Path) -> list[Path]:
    """The ``version_<n>`` directories of ``run_root`` (``runs/<name>``), oldest first (by n)."""
    root = Path(run_root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such run directory (expected runs/<name>, with version_<n> inside)")
    found = [(int(m.group(1)), p) for p in root.iterdir() if p.is_dir() and (m := _VERSION.fullmatch(p.name))]
    return [p for _, p in sorted(found)]


def directory_size(path: Path) -> int:
    """Bytes of the files under ``path`` (links not followed)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def run_sizes(run_root: str | Path) -> list[tuple[Path, int]]:
    """(version directory, bytes) for each run of ``run_root``, oldest first."""
    return [(p, directory_size(p)) for p in versions(run_root)]


def prune_runs(run_root: str | Path, keep: int, dry_run: bool = False) -> list[Path]:
    """Remove all but the newest ``keep`` runs of ``run_root``; return the removed (or, with ``dry_run``, the
    removable) directories. Only ``version_<n>`` directories are touched."""
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise ValueError(f"keep must be an integer >= 0, got {keep!r}")
    old = versions(run_root)
    old = old[: max(0, len(old) - keep)]
    if not dry_run:
        for path in old:
            shutil.rmtree(path)
    return old
