"""``optbench data check WORKLOAD --data-dir DIR``: is DIR what the workload reads?

It runs the same checks as the dataset factories (:mod:`optbench.workloads.real_data.formats`:
files present, formats, counts, shard headers and sizes, a sample of images decoded),
prints what was found, every problem, and how to get the data. It never downloads and
never imports torch. Exit 0 when the folder is usable, 2 when it is not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: images decoded per split of an ImageFolder (the factories only look at names)
VERIFY_IMAGES = 20


def check_workload_data(workload: str, data_dir: Path, workloads_dir: list[Path] | None = None,
                        console: Any = None) -> bool:
    """Print the check of ``data_dir`` for ``workload`` (name or YAML path); True when usable."""
    from rich.console import Console
    from rich.markup import escape

    from optbench.workloads import find_workload
    from optbench.workloads.real_data.formats import CHECKERS

    console = console or Console()

    def say(text: str, markup: bool = False) -> None:
        console.print(text, highlight=False, soft_wrap=True, markup=markup)

    spec = find_workload(workload, workloads_dir)
    checker = CHECKERS.get(spec.dataset.name)
    if checker is None:
        say(f"{spec.name}: dataset {spec.dataset.name!r} reads nothing from --data-dir "
            "(it is generated, or ships with a package): nothing to check")
        return True
    params = {k: v for k, v in spec.dataset.params.items() if k != "data_dir"}
    check, _ = checker(data_dir, **params, verify=VERIFY_IMAGES)
    say(f"[bold]{escape(spec.name)}[/]: dataset {escape(spec.dataset.name)} in {escape(str(check.folder or data_dir))}",
        markup=True)
    for fact in check.facts:
        say(f"  found: {fact}")
    if check.ok:
        say(f"  [green]OK[/]: ready for `optbench run --workloads {escape(spec.name)} --data-dir "
            f"{escape(str(data_dir))}`", markup=True)
        return True
    say(f"  [red]not usable[/]: {len(check.problems)} problem(s)", markup=True)
    for problem in check.problems:
        say(f"  - {problem}")
    say(f"  how to get it: {check.how_to_get.replace('DIR', str(data_dir))}")
    return False
