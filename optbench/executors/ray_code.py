"""What code goes to the Ray workers with a run (``optbench run --executor ray``): its working_dir.

Ray's runtime environment ships a ``working_dir`` per task. :func:`stage_code` builds it
for one run: a copy of every submission folder of the plan (``submissions/<name>``; the
specs sent to workers name them relative to it, :attr:`Shipment.submissions`) and of the
user modules that workloads name by dotted path (``pkg.mod:fn``) and that this process
imports from outside site-packages (``pythonpath/``, put on the worker's ``sys.path``).
Installed packages are not copied: they must be installed on the workers like any
dependency. Kept apart from :mod:`optbench.executors.ray` (the driver) because it is a job
of its own, deciding what a remote worker needs, and is tested without a Ray.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from optbench.spec import TrialSpec

#: Files never copied into the working_dir that goes to workers.
EXCLUDE = ["__pycache__", "*.pyc", ".git", "checkpoint.pt", "attempts.txt"]


def _installed_roots() -> list[Path]:
    import sysconfig

    paths = sysconfig.get_paths()
    return [Path(paths[k]).resolve() for k in ("stdlib", "platstdlib", "purelib", "platlib") if paths.get(k)]


def user_modules(specs: list[TrialSpec]) -> list[Path]:
    """Files or package folders of the modules that workloads name by dotted path and that are
    not installed packages (those must be installed on the workers like any dependency)."""
    import importlib.util

    tops = set()
    for spec in specs:
        w = spec.workload
        for name in (w.dataset.name, w.model.name, w.loss.name, *w.metrics):
            if ":" in name:
                tops.add(name.partition(":")[0].split(".")[0])
    installed, found = _installed_roots(), []
    for top in sorted(tops - {"optbench"}):
        try:
            module = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            module = None
        if module is None:
            continue  # the worker says so, as the local executor would
        if module.submodule_search_locations:
            path = Path(next(iter(module.submodule_search_locations)))
        elif module.origin and module.origin not in ("built-in", "frozen"):
            path = Path(module.origin)
        else:
            continue
        path = path.resolve()
        if not any(root == path or root in path.parents for root in installed):
            found.append(path)
    return found


@dataclasses.dataclass
class Shipment:
    """The working_dir built for one run, and how specs refer to it."""

    working_dir: Path
    submissions: dict[str, str]  #: driver's submission_path -> path relative to the working_dir
    python_paths: list[str]  #: relative to the working_dir, prepended to sys.path on the worker


def stage_code(specs: list[TrialSpec], folder: Path) -> Shipment:
    """Copy the plan's submission folders and user workload modules into ``folder``."""
    ignore = shutil.ignore_patterns(*EXCLUDE)
    folder.mkdir(parents=True, exist_ok=True)
    submissions: dict[str, str] = {}
    for spec in specs:
        if spec.submission_path in submissions:
            continue
        name, k = Path(spec.submission_path).name, 1
        while (folder / "submissions" / name).exists():  # two folders of the same name
            name, k = f"{Path(spec.submission_path).name}-{k}", k + 1
        shutil.copytree(spec.submission_path, folder / "submissions" / name, ignore=ignore)
        submissions[spec.submission_path] = f"submissions/{name}"
    python_paths = []
    for path in user_modules(specs):
        target = folder / "pythonpath" / path.name
        if path.is_dir():
            shutil.copytree(path, target, ignore=ignore, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        python_paths = ["pythonpath"]
    return Shipment(folder, submissions, python_paths)
