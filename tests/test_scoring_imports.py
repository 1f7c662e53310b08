"""The layer rule for scoring: ``optbench.scoring`` computes and never imports the layers that
print and draw (``optbench.report``) or parse (``optbench.cli``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SCORING = REPO / "optbench" / "scoring"
HIGHER = ("optbench.report", "optbench.cli")


def test_importing_every_scoring_module_loads_neither_report_nor_cli():
    code = (
        "import importlib, pkgutil, sys, optbench.scoring\n"
        "for m in pkgutil.walk_packages(optbench.scoring.__path__, 'optbench.scoring.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(' '.join(sorted(n for n in sys.modules if n.startswith('optbench'))))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=REPO).stdout.split()
    modules = {f"optbench.scoring.{p.stem}" for p in SCORING.glob("*.py") if p.stem != "__init__"}
    assert modules <= set(loaded)  # every module really was imported
    assert [n for n in loaded if n.startswith(HIGHER)] == []


def _imported(path: Path) -> list[str]:
    """Every module an ``import`` names in ``path``, inside functions too (those the run above misses)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_no_scoring_source_names_report_or_cli_even_in_a_function():
    files = sorted(SCORING.glob("*.py"))
    assert len(files) >= 6
    offending = {p.name: [n for n in _imported(p) if n.startswith(HIGHER)] for p in files}
    assert {k: v for k, v in offending.items() if v} == {}
