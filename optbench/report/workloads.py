"""``optbench list workloads``, ``list suites`` and ``optbench show WORKLOAD``: what a workload asks, readable at 80 columns.

The list was one rich table of seven columns, which an 80-column terminal cut into names and
targets ending in ``…`` and descriptions one word per line. It is now one group per suite and
two lines per workload: name, target and budget on both clocks (steps · seconds), then the
first sentence of the description, cut to the line. ``show`` prints all of one workload: the
whole description, target, budgets, eval policy, parts and the calibration notes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from optbench.report.format import short_duration
from optbench.spec import WorkloadSpec

INDENT = "  "


def target_text(spec: WorkloadSpec) -> str:
    op = "≤" if spec.target.mode == "min" else "≥"
    return f"{spec.target.metric} {op} {spec.target.value:g}"


def budget_text(spec: WorkloadSpec) -> str:
    """Both clocks: the steps budget, and the seconds budget (wall or cpu seconds, the suite's clock)."""
    return f"{spec.budget.step_budget:,} steps · {short_duration(spec.budget.seconds)}"


def summary(description: str) -> str:
    """The description's first sentence on one line (``v1.5`` is not a sentence's end)."""
    text = " ".join(description.split())
    return re.split(r"(?<=[.!?])\s+(?=[A-Z(])", text, maxsplit=1)[0]


def cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(width - 1, 0)] + "…"


def workload_lines(specs: list[WorkloadSpec], clocks: dict[str, Any], width: int) -> list[str]:
    """The list as plain lines no longer than ``width`` (but for a name longer than the line)."""
    if not specs:
        return ["no workloads found (add folders of workload YAML with --workloads-dir)"]
    names = max(len(s.name) for s in specs)
    targets = max(len(target_text(s)) for s in specs)
    lines = [cut("name, target, budget (steps · seconds); `optbench show NAME` for the rest", width)]
    for suite in sorted({s.suite for s in specs}):
        clock = clocks.get(suite)
        lines.append("")
        lines.append(f"suite {suite}" + (f" (seconds on the {clock} clock)" if clock else ""))
        for spec in sorted((s for s in specs if s.suite == suite), key=lambda s: s.name):
            row = f"{INDENT}{spec.name:<{names}}  {target_text(spec):<{targets}}  {budget_text(spec)}"
            if len(row) > width:  # a long user name: target and budget on a line of their own
                lines.append(f"{INDENT}{spec.name}")
                row = cut(f"{INDENT * 2}{target_text(spec)}  {budget_text(spec)}", width)
            lines.append(row)
            lines.append(cut(f"{INDENT * 2}{summary(spec.description)}", width))
    return lines


def print_workload_list(workloads_dir: list[Path], console: Any) -> None:
    """Every workload optbench finds, grouped by suite."""
    from rich.markup import escape

    from optbench.workloads import discover, load_workload_file, suites

    specs = [load_workload_file(path) for path in discover(workloads_dir).values()]
    clocks = {name: str(suite.clock) for name, suite in suites(workloads_dir).items() if suite.clock}
    for line in workload_lines(specs, clocks, console.width):
        console.print(escape(line), highlight=False, soft_wrap=True)


def print_suite_list(workloads_dir: list[Path], console: Any) -> None:
    """``optbench list suites``: each named suite, its clock and its workloads, one line each."""
    from rich.markup import escape

    from optbench.workloads import suites

    for suite_name, suite in sorted(suites(workloads_dir).items()):
        clock = f" (clock: {suite.clock})" if suite.clock else ""
        console.print(f"[bold]{escape(suite_name)}[/]{clock}: {escape(', '.join(suite.workloads))}", highlight=False)


def print_workload(spec: WorkloadSpec, console: Any) -> None:
    """One workload whole: what ``list workloads`` shortens."""
    from rich.markup import escape

    budget = spec.budget
    say = console.print
    say(f"[bold]{escape(spec.name)}[/] (suite {escape(spec.suite or '–')}, version {spec.version}, hash {spec.hash})",
        highlight=False)
    if spec.path:
        say(escape(spec.path), highlight=False, soft_wrap=True)
    say()
    say(escape(" ".join(spec.description.split())), highlight=False)
    say()
    cap = f"; every clock capped at {budget.max_steps:,} steps" if budget.max_steps else ""
    rows = [
        ("target", target_text(spec)),
        ("budget", f"{budget.step_budget:,} steps (steps clock); {budget.seconds:g} s of submission time (wall or "
                   f"cpu clock){cap}; step_hint {budget.step_hint:,}"),
        ("eval", f"every {spec.eval.every_steps:,} steps" if spec.eval.every_steps
         else f"every {spec.eval.every_seconds:g} s of submission time"),
        ("batch size", str(spec.batch_size)),
        ("dataset", _part(spec.dataset)),
        ("model", _part(spec.model)),
        ("loss", _part(spec.loss) + (f" + l2 {spec.l2:g}" if spec.l2 else "")),
        ("metrics", ", ".join(spec.metrics)),
    ]
    for key, value in rows:
        say(f"[bold]{key}[/]: {escape(value)}", highlight=False)
    calibration = (spec.notes or {}).get("calibration")
    other = {k: v for k, v in (spec.notes or {}).items() if k != "calibration"}
    for title, notes in (("calibration", calibration), ("notes", other)):
        if notes:
            say()
            _print_tree(title, notes, 0, console)
    if not calibration:
        say("\n[dim]no calibration notes (optbench calibrate --write records them)[/]", highlight=False)


def _print_tree(key: str, value: Any, depth: int, console: Any) -> None:
    """Nested notes as indented ``key: value`` lines; a long value wraps under its own indent."""
    from rich.markup import escape
    from rich.padding import Padding
    from rich.text import Text

    if isinstance(value, dict):
        console.print(Padding(Text.from_markup(f"[bold]{escape(key)}[/]:"), (0, 0, 0, 2 * depth), expand=False))
        for inner_key, inner in value.items():
            _print_tree(str(inner_key), inner, depth + 1, console)
        return
    if isinstance(value, (list, tuple)) and all(not isinstance(v, (dict, list)) for v in value):
        value = ", ".join(str(v) for v in value)
    line = Text.from_markup(f"[bold]{escape(key)}[/]: ")
    line.append(str(value))
    console.print(Padding(line, (0, 0, 0, 2 * depth), expand=False))


def _part(ref: Any) -> str:
    params = getattr(ref, "params", None) or {}
    inner = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{ref.name}({inner})" if inner else str(ref.name)
