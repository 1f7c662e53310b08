"""One side of ``optbench compare``: a results folder, or a baseline file committed for CI.

A *baseline file* (``optbench compare --save-baseline FILE RESULTS``) keeps, per workload
x submission, the per-study steps and seconds to target, the best value of the target
metric each study reached within its budget, the workloads' hashes and targets, the clock
the run counted and the provenance of the run: small, sorted, readable in a diff. A results
folder gives the same numbers through scoring's own steps 1 and 2
(:func:`~optbench.scoring.rules.trial_time_to_target`, :func:`~optbench.scoring.rules.study_times`).
Either way a :class:`Side` holds one row per study; :mod:`optbench.report.compare` compares
two of them. Format 2 added the best values, the targets and the clock; a format-1 file is
still read (it cannot compare runs that missed their targets).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from optbench import __version__, safeio, store
from optbench.errors import OptbenchError
from optbench.report.format import finite, json_number
from optbench.scoring.inputs import load_optbench_trials
from optbench.scoring.rules import STUDY_KEY, resolve_clock, study_times, trial_time_to_target

BASELINE_FORMAT = "optbench-baseline"
BASELINE_FORMAT_VERSION = 2


@dataclass
class Side:
    """One side of a comparison: per study, steps and seconds to target (``inf`` = not reached)
    and the best value of the target metric within the budget (NaN: none, e.g. every trial failed)."""

    path: str
    kind: str  #: "results" (a results folder) or "baseline" (a baseline file)
    optbench_version: str
    ruleset: str
    workloads: dict[str, dict[str, Any]]  #: name -> {"hash", "target" (text), "metric", "value", "mode"}
    studies: pd.DataFrame  #: columns workload, submission, study, steps, seconds, best
    provenance: dict[str, Any] = field(default_factory=dict)
    clock: str = "wall"  #: what the run's budget counted (seconds are that clock's)
    has_best: bool = True  #: False for a format-1 baseline file, which kept no best values

    def study_times(self, column: str) -> pd.DataFrame:
        """``submission, workload, study, time`` (``column``: steps or seconds) as scoring's steps 3+
        expect them."""
        return self.studies.rename(columns={column: "time"})[["submission", "workload", "study", "time"]]

    def distances(self) -> pd.DataFrame:
        """Per study, how far its best value stayed from the target (``inf`` when it has none):
        ``target - best`` for a maximised metric, ``best - target`` for a minimised one."""
        out = self.studies[["submission", "workload", "study"]].copy()
        gap = []
        for wl, best in zip(self.studies["workload"], self.studies["best"]):
            info = self.workloads.get(wl, {})
            value, mode = info.get("value"), info.get("mode")
            if value is None or mode not in ("min", "max") or not math.isfinite(best):
                gap.append(math.inf)
            else:
                gap.append(max(0.0, (value - best) if mode == "max" else (best - value)))
        return out.assign(time=gap)


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(str(version).split(".")[:2])


def _target_text(row: pd.Series) -> str:
    op = "<=" if row.get("target_mode") == "min" else ">="
    return f"{row.get('target_metric')} {op} {row.get('target_value')}"


def load_results_side(root: Path, ruleset: str | None = None) -> Side:
    """A results folder: every trial must be finished and readable (CI must not judge on
    half a run). Scoring's loader refuses folders with no finished trial and workloads run
    under two definitions; anything it would only warn about is an error here."""
    root = Path(root)
    data = load_optbench_trials(root, ruleset)  # type: ignore[arg-type]
    if data.problems:
        first = data.problems[0]
        raise OptbenchError(
            f"{root}: {len(data.problems)} unreadable or unfinished trial(s), e.g. {first.path}: {first.message}; "
            "re-run them (optbench run --name <same> resumes) before comparing"
        )
    trials = data.trials
    clock = resolve_clock(None, trials)
    seconds_clock = "wall" if clock == "steps" else clock  # steps runs still record wall seconds
    per_clock = []
    for column, score_clock in (("steps", "steps"), ("seconds", seconds_clock)):
        timed = trials.assign(time=trial_time_to_target(trials, score_clock))
        per_clock.append(study_times(timed, data.choose).drop(columns="row").rename(columns={"time": column}))
    studies = per_clock[0].merge(per_clock[1], on=STUDY_KEY)
    raw = store.load_trials(root)
    raw = raw[raw["ruleset"] == data.ruleset]
    workloads = {
        wl: {"hash": str(group["workload_hash"].iloc[0]), "target": _target_text(group.iloc[0]),
             "metric": group["target_metric"].iloc[0], "value": finite(group["target_value"].iloc[0]),
             "mode": group["target_mode"].iloc[0]}
        for wl, group in raw.groupby("workload", sort=True)
    }
    bests = []
    for (sub, wl, study), group in trials.groupby(STUDY_KEY, sort=False):
        values = pd.to_numeric(group["best_metric"], errors="coerce").dropna()
        mode = workloads.get(wl, {}).get("mode")
        best = (values.max() if mode == "max" else values.min()) if len(values) else math.nan
        bests.append({"workload": wl, "submission": sub, "study": study, "best": float(best)})
    studies = studies.merge(pd.DataFrame(bests, columns=[*STUDY_KEY, "best"]), on=STUDY_KEY, how="left")
    versions = sorted({str(v) for v in raw.get("optbench_version", pd.Series(dtype=str)).dropna()})
    provenance: dict[str, Any] = {}
    try:
        experiment = store.read_experiment(root)
        provenance = {k: experiment.get(k) for k in ("name", "created", "command", "git") if k in experiment}
    except OptbenchError:
        pass  # experiment.json is provenance only; the trials are what is compared
    return Side(str(root), "results", versions[-1] if versions else __version__, data.ruleset, workloads,
                studies[["workload", "submission", "study", "steps", "seconds", "best"]], provenance, clock)


def _bad(path: Path, why: str) -> OptbenchError:
    return OptbenchError(f"{path}: not a usable optbench baseline file ({why}); write one with "
                         "`optbench compare --save-baseline FILE RESULTS`")


def load_baseline_side(path: Path) -> Side:
    """A baseline file, checked by its schema (optbench.report.baseline_schema); refused when written by
    another optbench major.minor version, since what counts as a step or a target may change between them."""
    path = Path(path)
    data = safeio.read_json(path, expect=None)
    if not isinstance(data, dict) or data.get("format") != BASELINE_FORMAT:
        raise _bad(path, f'no "format": "{BASELINE_FORMAT}"')
    version = str(data.get("optbench_version", "?"))
    if _major_minor(version) != _major_minor(__version__):
        raise OptbenchError(
            f"{path}: baseline written by optbench {version}, this is optbench {__version__} (major.minor must "
            "match): re-create it with `optbench compare --save-baseline FILE RESULTS`"
        )
    from optbench.report.baseline_schema import BaselineFile
    from optbench.schemas import check

    parsed = check(BaselineFile, data, str(path))
    rows = [{"workload": wl, "submission": sub, "study": j, "steps": a, "seconds": b, "best": c}
            for wl, subs in parsed.results.items() for sub, entry in subs.items()
            for j, a, b, c in zip(entry.studies, entry.steps_to_target, entry.time_to_target, entry.best)]
    return Side(str(path), "baseline", version, str(parsed.ruleset),
                {wl: {"hash": w.hash, "target": w.target, "metric": w.metric, "value": w.value, "mode": w.mode}
                 for wl, w in parsed.workloads.items()},
                pd.DataFrame(rows), dict(parsed.provenance or {}), parsed.clock, has_best=parsed.format_version >= 2)


def load_side(path: Path, ruleset: str | None = None) -> Side:
    """A folder is a results folder, a file a baseline file."""
    path = Path(path)
    if path.is_dir():
        return load_results_side(path, ruleset)
    if path.is_file():
        return load_baseline_side(path)
    raise OptbenchError(f"{path}: no such results folder or baseline file")


def baseline_dict(side: Side) -> dict[str, Any]:
    """What ``--save-baseline`` writes: small, sorted, readable in a diff."""
    results: dict[str, dict[str, Any]] = {}
    for (wl, sub), group in side.studies.sort_values(["workload", "submission", "study"]).groupby(
            ["workload", "submission"], sort=True):
        results.setdefault(wl, {})[sub] = {
            "study": [int(s) for s in group["study"]],
            "steps_to_target": [json_number(v) for v in group["steps"]],
            "time_to_target": [json_number(v) for v in group["seconds"]],
            "best_metric": [finite(v) for v in group["best"]],
        }
    return {
        "format": BASELINE_FORMAT,
        "format_version": BASELINE_FORMAT_VERSION,
        "optbench_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": side.path,
        "ruleset": side.ruleset,
        "clock": side.clock,
        "provenance": side.provenance,
        "workloads": side.workloads,
        "results": results,
    }


def save_baseline(results: Path, out: Path, ruleset: str | None = None) -> Side:
    """Read a results folder and write its baseline file to ``out``."""
    results = Path(results)
    if not results.is_dir():
        raise OptbenchError(f"--save-baseline: {results} is not a results folder")
    side = load_results_side(results, ruleset)
    store.atomic_write_text(Path(out), json.dumps(baseline_dict(side), indent=2, default=str) + "\n")
    return side
