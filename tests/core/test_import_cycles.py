"""No import cycles in `workbench.core`: a cycle makes import order matter and hides which module owns what."""

from __future__ import annotations

import ast
from pathlib import Path

import workbench.core

CORE = Path(workbench.core.__file__).parent


def _module_name(path: Path, root: Path) -> str:
    parts = ("workbench", "core", *path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The core modules a file imports, lazily or not, under TYPE_CHECKING too (`from pkg import mod` counts mod)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            found |= {name for name in names if name in modules} or ({node.module} & modules)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names} & modules
    return found


def import_cycles(root: Path = CORE) -> list[list[str]]:
    paths = {_module_name(path, root): path for path in root.rglob("*.py")}
    graph = {name: _imports(path, set(paths)) - {name} for name, path in paths.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        path.append(name)
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                visit(dep, path)
        path.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    return cycles


def test_core_has_no_import_cycles() -> None:
    assert import_cycles() == []


def test_the_check_sees_a_cycle(tmp_path: Path) -> None:
    package = tmp_path / "core"
    package.mkdir()
    (package / "a.py").write_text("def f():\n    from workbench.core.b import g\n", encoding="utf-8")
    (package / "b.py").write_text("from workbench.core import a\n", encoding="utf-8")
    assert import_cycles(package) == [["workbench.core.a", "workbench.core.b", "workbench.core.a"]]
