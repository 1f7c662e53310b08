"""The import graph of the package: imports run one way down the layers of docs/design.md §1, and
there is no import circle but the registry of built-in parts (which loads them lazily on first use).

Every import counts, at module level or inside a function: a lazy import against the layer order
is still a dependency against it. Read from the source with ``ast`` (nothing is imported).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "optbench"

#: docs/design.md §1: a module may import its own layer and the layers below it.
LAYERS = [
    ("optbench", "optbench.errors", "optbench.spec", "optbench.safeio", "optbench.schemas"),
    ("optbench.workloads", "optbench.tuning", "optbench.builtin"),
    ("optbench.submissions", "optbench.algoperf"),
    ("optbench.trial",),
    ("optbench.plan", "optbench.store"),
    ("optbench.executors",),
    ("optbench.experiment",),
    ("optbench.scoring",),
    ("optbench.report",),
    ("optbench.tools",),
    ("optbench.cli",),
]
#: The one allowed circle: the registry imports the built-in parts, which register themselves in it.
ALLOWED_CIRCLE_PREFIXES = ("optbench.workloads.registry", "optbench.workloads.parts", "optbench.workloads.real_data")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every optbench module ``path`` imports (absolute names; ``from x import y`` counts y when y is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("optbench")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("optbench") and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


@functools.lru_cache(maxsize=1)
def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    # optbench/builtin/{workloads,submissions} are data (package data, not packages): a baseline's
    # submission.py is a user of optbench like any other submission, outside the layers
    modules = {name: path for name, path in modules.items() if not name.startswith("optbench.builtin.")}
    return {name: {m for m in imports(path) if m in modules and m != name} for name, path in modules.items()}


def layer(module: str) -> int:
    best = None
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (best is None or len(prefix) > best[1]):
                best = (i, len(prefix))
    assert best is not None, f"{module} is in no layer of docs/design.md §1: add it to LAYERS and the doc"
    return best[0]


def test_every_module_has_a_layer():
    for module in graph():
        layer(module)


@pytest.mark.parametrize("module", sorted(graph()))
def test_no_import_against_the_layer_order(module):
    upward = sorted(m for m in graph()[module] if layer(m) > layer(module))
    assert not upward, f"{module} (layer {layer(module)}) imports {upward} from higher layers"


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the import circles (components of more than one module)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(component)

    for v in edges:
        if v not in index:
            visit(v)
    return out


def test_no_import_circle_but_the_registry_of_parts():
    edges = dict(graph())
    # a package's __init__ that re-exports its modules is the package's face, not a dependency of them
    edges = {m: {t for t in targets if not (m.startswith(t + ".") and t in edges)} for m, targets in edges.items()}
    for component in strongly_connected(edges):
        others = sorted(m for m in component if not m.startswith(ALLOWED_CIRCLE_PREFIXES))
        assert not others, f"import circle: {sorted(component)}"
