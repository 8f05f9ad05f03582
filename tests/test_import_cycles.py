"""No import cycles in the integration, its library or the emulator, not even behind TYPE_CHECKING.

A cycle hidden behind `if TYPE_CHECKING:` or a lazy import inside a function still couples the
modules both ways; the graph here counts every `import` and `from` statement wherever it stands.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PACKAGES = ("custom_components/cloud_sip_ua", "emulator")


def _module_name(path: Path, root: Path) -> str:
    """Return the dotted name of a source file below `root`."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(node: ast.ImportFrom, package: str) -> str:
    """Return the absolute module a `from` statement names (relative ones from `package`)."""
    if not node.level:
        return node.module or ""
    base = package.split(".")
    if node.level > 1:
        base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def import_graph(folder: str, root: Path = ROOT) -> dict[str, set[str]]:
    """Return each module of the package with the modules of the same package it imports.

    Importing `a.b.c` runs `a` and `a.b` first, so their `__init__` modules count too, except
    for the importer's own ancestors, which Python has started before it; a `from` statement
    names a submodule when the package has one of that name.
    """
    files = sorted((root / folder).rglob("*.py"))
    modules = {_module_name(path, root): path for path in files}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        targets: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                source = _resolve(node, package)
                targets.append(source)
                targets += [f"{source}.{alias.name}" for alias in node.names]
        for target in targets:
            parts = target.split(".")
            for end in range(1, len(parts) + 1):
                prefix = ".".join(parts[:end])
                if prefix in modules and not f"{name}.".startswith(f"{prefix}."):
                    graph[name].add(prefix)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import cycle as a path that ends where it starts, or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> list[str] | None:
        path.append(module)
        on_path.add(module)
        for target in sorted(graph[module]):
            if target in on_path:
                return [*path[path.index(target) :], target]
            if target not in done and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        on_path.discard(module)
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done and (cycle := visit(module)) is not None:
            return cycle
    return None


def test_the_checker_names_a_cycle() -> None:
    """A cycle is found and named from start back to start; a tree has none."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_graph_counts_type_checking_and_lazy_imports(tmp_path: Path) -> None:
    """Imports behind TYPE_CHECKING and inside functions are edges; other packages are not."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("import json\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "first.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub import second\n"
    )
    (package / "sub" / "second.py").write_text(
        "def late():\n    from ..first import thing\n    import pkg.sub\n"
    )
    graph = import_graph("pkg", tmp_path)
    assert graph == {
        "pkg": set(),
        "pkg.first": {"pkg.sub", "pkg.sub.second"},
        "pkg.sub": set(),
        "pkg.sub.second": {"pkg.first"},
    }
    assert find_cycle(graph) == ["pkg.first", "pkg.sub.second", "pkg.first"]


@pytest.mark.parametrize("folder", PACKAGES)
def test_no_import_cycles(folder: str) -> None:
    """Every package's modules import one another without a cycle."""
    cycle = find_cycle(import_graph(folder))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])
