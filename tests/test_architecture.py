"""Imports point one way: backprop_lab -> bench -> tui -> cli -> engine, and inside the
engine training -> nn, data; no module imports itself back through another, lazily or not.
Read from the source with ``ast``, so an import inside a function counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "cli", "tui", "bench", "backprop_lab")
#: what each package may import of the others (and of itself)
ALLOWED = {
    "engine": {"engine"},
    "cli": {"cli", "engine"},
    "tui": {"tui", "cli", "engine"},
    "bench": {"bench", "tui", "cli", "engine"},
    "backprop_lab": {"backprop_lab", "bench", "tui", "cli", "engine"},
}
#: inside the engine: what each subpackage may import (top-level modules are "engine.*")
ENGINE_ALLOWED = {
    "engine.nn": {"engine.nn", "engine.errors"},
    "engine.data": {"engine.data", "engine.errors"},
    "engine.training": {"engine.training", "engine.nn", "engine.data", "engine.errors",
                        "engine.config", "engine.presets", "engine.resources"},
    "engine.export": {"engine.export", "engine.training", "engine.nn", "engine.data",
                      "engine.errors", "engine.config"},
}
#: third-party and standard modules the engine never uses (torch: an export is text)
ENGINE_FORBIDDEN = {"textual", "plotext", "textual_plotext", "rich", "argparse", "subprocess",
                    "torch"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, mod: str | None = None) -> set[str]:
    """Absolute names of every module ``path`` (module ``mod``) imports, anywhere in it."""
    mod = module_name(path) if mod is None else mod
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            for alias in node.names:  # "from . import compare" names a module
                out.add(f"{target}.{alias.name}")
    return out


def modules() -> dict[str, set[str]]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[module_name(path)] = imports_of(path)
    known = set(found)
    return {m: {i for i in imps if i in known} | {i for i in imps if i.split(".")[0] not in PACKAGES}
            for m, imps in found.items()}


GRAPH = modules()


@pytest.mark.parametrize("mod", sorted(GRAPH))
def test_packages_import_one_way(mod):
    top = mod.split(".")[0]
    for target in GRAPH[mod]:
        other = target.split(".")[0]
        if other in PACKAGES:
            assert other in ALLOWED[top], f"{mod} imports {target}"
        if top == "engine":
            assert other not in ENGINE_FORBIDDEN, f"{mod} imports {target}"


@pytest.mark.parametrize("mod", sorted(m for m in GRAPH if m.count(".") >= 2))
def test_engine_subpackages_import_downwards(mod):
    sub = ".".join(mod.split(".")[:2])
    if sub not in ENGINE_ALLOWED:
        return
    for target in GRAPH[mod]:
        if target.startswith("engine."):
            assert any(target == a or target.startswith(a + ".") for a in ENGINE_ALLOWED[sub]), \
                f"{mod} imports {target}"


def test_no_import_cycles():
    graph = {m: {t for t in targets if t in GRAPH and t != m} for m, targets in GRAPH.items()}
    # a package's __init__ re-exporting its own modules is not a cycle of jobs
    for m in graph:
        graph[m] = {t for t in graph[m] if not m.startswith(t + ".")}
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert cycles == []


def test_the_check_sees_lazy_and_relative_imports(tmp_path):
    """An import inside a function (the kind that hides a cycle) counts, and relative
    imports are read as the modules they name."""
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from cli import main\n    from ..nn import network\n")
    found = imports_of(f, "engine.training.m")
    assert "cli" in found and "engine.nn.network" in found
