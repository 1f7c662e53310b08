"""Writing a calibration into a workload YAML: a round-trip YAML writer (comments and layout kept), the
workload schema on the new text (a file the loader would refuse is never written), and an atomic replace."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Callable

# ------------------------------------------------------------------------------------- writing


def rewrite(path: Path, change: Callable[[Any], bool]) -> bool:
    """Load ``path`` with a round-trip YAML reader (comments and layout kept), let ``change`` edit it
    (returning whether target or budgets changed: then ``version`` is bumped), check the new text with the
    workload schema, write it back atomically."""
    from ruamel.yaml import YAML

    from optbench import safeio
    from optbench.store import atomic_write_text
    from optbench.workloads.loader import parse_workload

    yaml = YAML()  # round-trip mode
    yaml.width = 110
    path = Path(path)
    data = yaml.load(path.read_text(encoding="utf-8"))
    changed = change(data)
    if changed:
        data["version"] = int(data["version"]) + 1
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    parse_workload(safeio.load_yaml(buffer.getvalue(), str(path)), str(path))  # refused here, before the write
    atomic_write_text(path, buffer.getvalue())
    return changed


def write_calibration(path: Path, proposal: Any, command: str, when: str) -> bool:
    """Write ``proposal`` into the workload YAML: ``target.value``, ``budget.seconds``,
    ``budget.steps``, ``budget.step_hint`` and ``notes.calibration``; bump ``version`` when the
    target or a budget changed. A round-trip YAML writer keeps comments and layout, and the file
    is replaced atomically. Returns whether the version changed."""
    def change(data: Any) -> bool:
        old = (data["target"]["value"], data["budget"].get("seconds"), data["budget"].get("steps"),
               data["budget"].get("step_hint"))
        data["target"]["value"] = proposal.target.value
        data["budget"]["seconds"] = proposal.budget_seconds
        data["budget"]["steps"] = proposal.horizon
        data["budget"]["step_hint"] = proposal.horizon
        notes = data.get("notes") or {}
        notes["calibration"] = proposal.notes(command, when)
        data["notes"] = notes
        return old != (proposal.target.value, proposal.budget_seconds, proposal.horizon, proposal.horizon)

    return rewrite(path, change)
