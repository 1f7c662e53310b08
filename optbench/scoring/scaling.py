"""Speed-ups over a reference submission along a scale ladder (``optbench scaling``), as numbers.

Why: the NanoGPT speedrun's question, "does a trick that speeds up a small model still speed up
a big one?". For every rung of a ladder (a workload expanded by ``optbench run --scales``,
whose recorded spec says ``scale = {of, axis, value}``) and every study:

* a study's time to target is its fastest trial's (AlgoPerf's rule; self-tuning: its one
  trial), in steps and in seconds (the run's clock; on the steps clock, CPU seconds), inf
  when no trial reached the target;
* its speed-up is the reference's time / the submission's time in the *same* study (studies
  share seeds across submissions: the comparison is paired); inf/inf is undefined (NaN);
* per rung and submission: the median over studies and the min-max band, against the rung's
  parameter count (the median ``num_params`` its trials recorded).

This module only computes (pandas); :mod:`optbench.report.scaling` draws and prints.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from optbench import store
from optbench.errors import OptbenchError

SPEEDUP_COLUMNS = ["ladder", "axis", "value", "num_params", "submission", "measure", "median", "low", "high",
                   "studies"]


def rung_table(results: Path) -> pd.DataFrame:
    """One row per finished trial of a ladder's rung: ladder, axis, value, submission, study,
    num_params, steps and seconds to target (inf when not reached)."""
    experiment = store.read_experiment(results)
    scales = {name: (entry.get("spec") or {}).get("scale") for name, entry in (experiment.get("workloads") or {}).items()}
    trials = store.load_trials(results)
    if trials.empty or "workload" not in trials:
        raise OptbenchError(f"{results}: no finished trial")
    trials = trials[trials["workload"].map(lambda w: bool(scales.get(w)))].copy()
    if trials.empty:
        raise OptbenchError(f"{results}: no trial ran a rung of a scale ladder (run with `optbench run --scales all`)")
    clock = str(trials["clock"].iloc[0]) if "clock" in trials else "wall"
    seconds = "cpu_time_to_target" if clock in ("steps", "cpu") else "wall_time_to_target"
    if seconds not in trials:
        seconds = "time_to_target"
    trials["ladder"] = trials["workload"].map(lambda w: scales[w]["of"])
    trials["axis"] = trials["workload"].map(lambda w: scales[w]["axis"])
    trials["value"] = trials["workload"].map(lambda w: scales[w]["value"])
    reached = trials["status"] == "reached"
    trials["steps"] = pd.to_numeric(trials["steps_to_target"], errors="coerce").where(reached, math.inf)
    trials["seconds"] = pd.to_numeric(trials[seconds], errors="coerce").where(reached, math.inf)
    trials["num_params"] = pd.to_numeric(trials.get("num_params"), errors="coerce")
    trials.attrs["seconds_clock"] = "cpu" if seconds == "cpu_time_to_target" else clock
    return trials[["ladder", "axis", "value", "workload", "submission", "study", "trial", "num_params", "steps",
                   "seconds"]]


def speedups(rungs: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Per ladder, rung, submission and measure (steps, seconds): median speed-up over the reference
    and its min-max band over studies (columns :data:`SPEEDUP_COLUMNS`)."""
    if reference not in set(rungs["submission"]):
        raise OptbenchError(f"--reference {reference}: no such submission in these results "
                            f"(found: {', '.join(sorted(set(rungs['submission'])))})")
    keys = ["ladder", "axis", "value", "submission", "study"]
    per_study = rungs.groupby(keys, sort=True).agg(steps=("steps", "min"), seconds=("seconds", "min"),
                                                   num_params=("num_params", "median")).reset_index()
    ref = per_study[per_study["submission"] == reference].set_index(["ladder", "value", "study"])
    rows = []
    for (ladder, axis, value, sub), group in per_study.groupby(["ladder", "axis", "value", "submission"], sort=True):
        for measure in ("steps", "seconds"):
            ratios = []
            for row in group.itertuples():
                key = (ladder, value, row.study)
                if key not in ref.index:
                    continue
                mine, theirs = getattr(row, measure), ref.loc[key, measure]
                ratios.append(math.nan if math.isinf(mine) and math.isinf(theirs) else theirs / mine)
            finite = np.array([r for r in ratios if not math.isnan(r)], dtype=float)
            rows.append({"ladder": ladder, "axis": axis, "value": int(value),
                         "num_params": float(group["num_params"].median()), "submission": sub, "measure": measure,
                         "median": float(np.median(finite)) if len(finite) else math.nan,
                         "low": float(finite.min()) if len(finite) else math.nan,
                         "high": float(finite.max()) if len(finite) else math.nan, "studies": len(finite)})
    return pd.DataFrame(rows, columns=SPEEDUP_COLUMNS)
