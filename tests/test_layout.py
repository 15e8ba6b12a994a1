"""The package's layering (README "Layout"): imports only go down.

* ``iopay.core`` (shared machinery) imports nothing but ``iopay.core``;
* ``iopay.localnet`` (the local validator) imports only ``iopay.core`` and itself;
* a program home (every other subpackage: ``iopay.escrow``, ...) imports
  ``iopay.core`` and program homes, never the CLI, the local validator or an
  application, and program homes do not import each other in a cycle;
* applications (``iopay.demo``) import the SDK, never the CLI;
* nothing outside ``iopay.cli`` imports ``iopay.cli``.

Every import statement counts, including the lazy ones inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, Set, Tuple

import pytest

PKG = Path(__file__).resolve().parents[1] / "client" / "iopay"
SHARED = {"core", "localnet", "cli"}


def modules() -> Iterator[Tuple[str, Path]]:
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def imports_of(name: str, path: Path) -> Set[str]:
    """Absolute names of the ``iopay`` modules ``path`` imports."""
    tree = ast.parse(path.read_text(), str(path))
    is_pkg = path.name == "__init__.py"
    out: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            # `from iopay import cli` names a module, not an attribute
            out.update(f"{mod}.{a.name}" for a in node.names if mod in ("iopay", "iopay.core"))
    return {m for m in out if m == "iopay" or m.startswith("iopay.")}


def home(module: str) -> str:
    """The top-level part of ``iopay.<home>...`` ('' for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def program_homes() -> Set[str]:
    return {p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists()} - SHARED


def real_module(name: str) -> bool:
    rel = Path(*name.split(".")[1:])
    return (PKG / rel).with_suffix(".py").exists() or (PKG / rel / "__init__.py").exists()


GRAPH: Dict[str, Set[str]] = {name: imports_of(name, path) for name, path in modules()}


def violations() -> list[str]:
    programs = program_homes()
    bad = []
    for mod, deps in sorted(GRAPH.items()):
        h = home(mod)
        for dep in sorted(deps):
            d = home(dep)
            if dep == "iopay" or not real_module(dep):
                # `from iopay import __version__`, or an attribute of a module
                if dep != "iopay" or h in ("", "cli"):
                    continue
                bad.append(f"{mod} imports the package root (import from the defining module)")
                continue
            if d == "cli" and h != "cli":
                bad.append(f"{mod} imports the CLI ({dep})")
            elif h == "core" and d != "core":
                bad.append(f"{mod} (shared) imports {dep}")
            elif h == "localnet" and d not in ("core", "localnet"):
                bad.append(f"{mod} (local validator) imports {dep}")
            elif h in programs and d not in programs | {"core"}:
                bad.append(f"{mod} (program home) imports {dep}")
    return bad


def test_imports_only_go_down() -> None:
    assert violations() == []


def test_program_homes_have_no_cycle() -> None:
    programs = program_homes()
    edges: Dict[str, Set[str]] = {p: set() for p in programs}
    for mod, deps in GRAPH.items():
        if home(mod) in programs:
            edges[home(mod)].update(home(d) for d in deps if home(d) in programs and home(d) != home(mod))
    seen: Set[str] = set()

    def visit(node: str, stack: Tuple[str, ...]) -> None:
        assert node not in stack, f"program homes import each other in a cycle: {' -> '.join(stack + (node,))}"
        if node in seen:
            return
        for nxt in edges[node]:
            visit(nxt, stack + (node,))
        seen.add(node)

    for p in sorted(programs):
        visit(p, ())


@pytest.mark.parametrize("source,expected", [
    ("from iopay.cli.common import emit\n", "iopay.core.x imports the CLI (iopay.cli.common)"),
    ("from iopay.escrow import state\n", "iopay.core.x (shared) imports iopay.escrow"),
    ("def f():\n    from ..cli import main\n", "iopay.core.x imports the CLI (iopay.cli)"),
])
def test_the_check_catches_violations(source: str, expected: str, tmp_path: Path) -> None:
    """The checker itself: a shared module importing a program home or the CLI
    (also lazily, also relatively) is reported."""
    path = tmp_path / "x.py"
    path.write_text(source)
    GRAPH["iopay.core.x"] = imports_of("iopay.core.x", path)
    try:
        assert expected in violations()
    finally:
        del GRAPH["iopay.core.x"]


def test_the_layout_exists() -> None:
    assert {"core", "localnet", "cli", "escrow"} <= {p.name for p in PKG.iterdir() if p.is_dir()}
    assert "escrow" in program_homes()
