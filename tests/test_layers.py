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


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, package: Path = PACKAGE) -> set[str]:
    """Every optbench module ``path`` imports (absolute names; ``from x import y`` counts y when y is a module).

    A relative import (``from . import x``, ``from ..a import b``) is resolved against the importing
    module's package, so that it cannot pass the check unseen."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path, package).split(".")
    if path.name != "__init__.py":
        here = here[:-1]  # the package the module is in
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("optbench")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module
            if node.level:
                base = ".".join(here[: len(here) - (node.level - 1)] + ([node.module] if node.module else []))
            if base and base.startswith("optbench"):
                found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names}
    return found


def graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the optbench modules it imports, read from the source under ``package``."""
    if package == PACKAGE:
        return _package_graph()
    return _graph(package)


@functools.lru_cache(maxsize=1)
def _package_graph() -> dict[str, set[str]]:
    return _graph(PACKAGE)


def _graph(package: Path) -> dict[str, set[str]]:
    modules = {module_name(p, package): p for p in package.rglob("*.py")}
    # optbench/builtin/{workloads,submissions} are data (package data, not packages): a baseline's
    # submission.py is a user of optbench like any other submission, outside the layers
    modules = {name: path for name, path in modules.items() if not name.startswith("optbench.builtin.")}
    return {name: {m for m in imports(path, package) if m in modules and m != name} for name, path in modules.items()}


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


def upward_imports(edges: dict[str, set[str]], module: str) -> list[str]:
    """What ``module`` imports from layers above its own."""
    return sorted(m for m in edges[module] if layer(m) > layer(module))


@pytest.mark.parametrize("module", sorted(graph()))
def test_no_import_against_the_layer_order(module):
    upward = upward_imports(graph(), module)
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


def circles(edges: dict[str, set[str]]) -> list[set[str]]:
    """The import circles, but for a package's ``__init__`` that re-exports its modules: that is the
    package's face, not a dependency of them."""
    edges = {m: {t for t in targets if not (m.startswith(t + ".") and t in edges)} for m, targets in edges.items()}
    return strongly_connected(edges)


def test_no_import_circle_but_the_registry_of_parts():
    for component in circles(graph()):
        others = sorted(m for m in component if not m.startswith(ALLOWED_CIRCLE_PREFIXES))
        assert not others, f"import circle: {sorted(component)}"


def test_the_check_sees_lazy_and_relative_imports_upward_and_in_circles(tmp_path):
    """The checks above on a package made to break them: an upward import inside a function, an
    upward relative import, and a circle closed by a relative import are all reported."""
    package = tmp_path / "optbench"
    files = {
        "__init__.py": "",
        "spec.py": "def later():\n    from optbench import cli\n",
        "cli.py": "from . import spec\n",
        "plan.py": "from .report import b\n",
        "report/__init__.py": "from optbench.report import a\n",
        "report/a.py": "from optbench.report import b\n",
        "report/b.py": "from .a import name\nfrom .. import spec\n",
    }
    for name, text in files.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    edges = graph(package)
    assert upward_imports(edges, "optbench.spec") == ["optbench.cli"]
    assert upward_imports(edges, "optbench.plan") == ["optbench.report", "optbench.report.b"]
    assert edges["optbench.cli"] == {"optbench", "optbench.spec"}
    assert edges["optbench.report.b"] == {"optbench", "optbench.report.a", "optbench.spec"}
    assert sorted(map(sorted, circles(edges))) == [["optbench.cli", "optbench.spec"],
                                                   ["optbench.report.a", "optbench.report.b"]]
