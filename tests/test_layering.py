"""The packages are stacked by their imports: numpy_ops -> course -> lightning_ffnn -> scripts.

Every import of every module counts, the ones inside functions too, so a lazy import cannot point back up.
The check reads the sources (no module is imported), which is why it also holds in a process that has
imported torch already.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: Each package with the packages it may import (besides itself and third-party libraries).
LAYERS = {
    "numpy_ops": set(),
    "course": {"numpy_ops"},
    "lightning_ffnn": {"numpy_ops", "course"},
}
#: Third-party packages that a torch-free package must not import.
TORCH = {"torch", "lightning", "torchmetrics", "pytorch_lightning", "lightning_fabric"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import statement in ``path``, nested ones included."""
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            found.append((node.lineno, target))
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_no_import_points_up_the_stack(package):
    allowed = LAYERS[package] | {package}
    bad = []
    for path in sources(package):
        for line, target in imports_of(path):
            top = target.split(".")[0]
            if (top in LAYERS and top not in allowed) or (package != "lightning_ffnn" and top in TORCH):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not bad, f"{package} may import only {sorted(allowed)} and no torch:\n" + "\n".join(bad)


def test_the_check_sees_a_violation(tmp_path):
    # The check itself can fail: a lazy import of torch inside a function is found.
    path = tmp_path / "probe.py"
    path.write_text("def f():\n    import torch.nn\n    from ...lightning_ffnn import bridge\n")
    assert [t for _, t in imports_of(path, "course.labs.probe")] == ["torch.nn", "lightning_ffnn"]
