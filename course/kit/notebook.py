"""What a lab's notebook calls: find the handout, show a task's code as it is now, run its check.

Checks run in a fresh process (``python check.py TASK``), so a notebook sees the student's latest edits without
restarting its kernel.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path


def setup() -> Path:
    """The handout's root (the folder of check.py, here or above): made the working folder and first on sys.path."""
    here = Path.cwd().resolve()
    root = next((p for p in (here, *here.parents) if (p / "check.py").is_file()), None)
    if root is None:
        raise FileNotFoundError(f"no check.py in {here} or above: open the notebook from inside the handout")
    os.chdir(root)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return root


def check(*tasks: str) -> int:
    """Run ``python check.py TASK ...`` and print what it says; returns its exit status (0: all pass)."""
    done = subprocess.run([sys.executable, "check.py", *tasks], capture_output=True, text=True)
    print(done.stdout + done.stderr)
    return done.returncode


def _source(path: Path, qualname: str) -> str:
    text = path.read_text()
    node: ast.AST = ast.parse(text)
    for part in qualname.split("."):
        node = next(n for n in ast.iter_child_nodes(node)
                    if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part)
    return ast.get_source_segment(text, node, padded=True)


def show(task: str) -> None:
    """Print where the task's code goes (file: function) and that function as it is now."""
    places = json.loads(Path("check_data.json").read_text())["places"].get(task, [])
    for place in places:
        file, _, qualname = place.partition(": ")
        print(f"# --- {place}\n{_source(Path(file), qualname)}\n")
