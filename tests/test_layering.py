"""The packages are stacked by their imports: numpy_ops -> course -> lightning_ffnn -> scripts, and no module
imports itself back through others (no cycle).

Every import of every module counts, the ones inside functions too, so a lazy import cannot point back up or
close a cycle.
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
    return module_name_under(path, ROOT)


def imports_of(path: Path, name: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import statement in ``path``, nested ones included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = _imports_with_names(tree, name or module_name(path), path.name == "__init__.py")
    return [(line, target) for line, target, _ in found]


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


# ---- no cycles between modules ----

def module_graph(roots: dict[str, Path]) -> dict[str, set[str]]:
    """Module name -> the project modules it imports (``from pkg import sub`` counts as importing ``pkg.sub``
    when that is a module). ``roots`` maps each top-level package to its folder."""
    paths = {module_name_under(path, folder.parent): path for folder in roots.values() for path in
             sorted(folder.rglob("*.py"))}
    graph: dict[str, set[str]] = {name: set() for name in paths}
    for name, path in paths.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for _, target, names in _imports_with_names(tree, name, path.name == "__init__.py"):
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in paths]
            graph[name].update(subs)
            if (not names or len(subs) < len(names)) and target in paths:  # names not submodules: from target
                graph[name].add(target)
    return graph


def module_name_under(path: Path, base: Path) -> str:
    parts = path.relative_to(base).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_with_names(tree: ast.AST, name: str, is_package: bool):
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            yield node.lineno, target, [alias.name for alias in node.names]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (or a module importing itself), by Tarjan's
    algorithm, iteratively (no recursion limit), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return found


def test_no_import_cycle():
    graph = module_graph({package: ROOT / package for package in LAYERS})
    found = cycles(graph)
    assert not found, "import cycles (each line one group of modules that import each other):\n" + "\n".join(
        " <-> ".join(c) for c in found)


def test_the_cycle_check_sees_a_cycle(tmp_path):
    # A tiny package with a cycle a -> b -> c -> a through a lazy import, a self-import, and a clean module.
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("from .c import thing\n")
    (pkg / "c.py").write_text("def f():\n    from pkg import a\n")
    (pkg / "d.py").write_text("import pkg.d\nfrom . import a\n")
    (pkg / "e.py").write_text("from pkg import a, b\n")
    graph = module_graph({"pkg": pkg})
    assert graph["pkg.b"] == {"pkg.c"} and graph["pkg.e"] == {"pkg.a", "pkg.b"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"], ["pkg.d"]]
    assert cycles({"x": {"y"}, "y": set()}) == []
