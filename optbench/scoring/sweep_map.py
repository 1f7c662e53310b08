"""The analysis of a sweep (``optbench sweep``): read its results folder into the sensitivity
map of one submission on one workload, and the width of its good region.

Kept in scoring (not in :mod:`optbench.tools.sweep`, which plans and runs the grid) so that
the report can show a sweep folder's map: the report's layer sits below the tools'.

- per grid point, the median over studies of the steps to target (the score clock: steps,
  comparable at any load), or where no study reached the target, the best metric;
- the width of the good region: the fraction of the grid within :data:`GOOD_FACTOR` x the
  best steps to target (points that missed count as outside).

The heat map is :func:`optbench.report.analysis_figures.heatmap_figure`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optbench.errors import OptbenchError

#: A grid point is "good" within this factor of the best steps to target (the papers' 1.25x).
GOOD_FACTOR = 1.25
#: The file ``optbench sweep`` writes at the results folder's top: the axes. Its presence makes a folder a sweep.
SWEEP_FILE = "sweep.json"


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[float, ...]  #: log-spaced, increasing


def is_sweep(root: Path) -> bool:
    """Whether ``root`` is a sweep's results folder (it has :data:`SWEEP_FILE`)."""
    return (Path(root) / SWEEP_FILE).is_file()


@dataclass(frozen=True)
class SweepMap:
    """The sensitivity map of one submission on one workload."""

    x: Axis
    y: Axis
    table: pd.DataFrame  #: one row per grid point: x, y, steps (median over studies, inf = missed), best_metric, good
    target: float
    mode: str  #: min or max

    @property
    def reached(self) -> np.ndarray:
        """(len(y), len(x)) booleans: the point reaches the target in more than half of its studies."""
        return np.isfinite(self._grid("steps"))

    def _grid(self, column: str) -> np.ndarray:
        wide = self.table.pivot_table(index="y", columns="x", values=column, aggfunc="first")
        return wide.reindex(index=list(self.y.values), columns=list(self.x.values)).to_numpy(float)

    @property
    def unfinished(self) -> int:
        """Grid points without a finished trial yet (a sweep still running, or killed)."""
        return len(self.x.values) * len(self.y.values) - len(self.table)

    @property
    def width(self) -> float:
        """Fraction of the grid within :data:`GOOD_FACTOR` x the best steps to target."""
        return float(self.table["good"].mean())


def _value(hparams: Any, name: str) -> float:
    value = hparams.get(name) if isinstance(hparams, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else np.nan


def read_axes(root: Path) -> tuple[Axis, Axis]:
    """The two axes :data:`SWEEP_FILE` records; one clear error when it is not a sweep or is damaged."""
    from optbench import store

    path = Path(root) / SWEEP_FILE
    if not path.is_file():
        raise OptbenchError(f"{root}: not a sweep (no {SWEEP_FILE}; `optbench sweep` writes it)")
    from optbench.schemas import check
    from optbench.scoring.sweep_schema import SweepFile

    grid = check(SweepFile, store.read_json(path), str(path))
    x, y = (Axis(a.name, tuple(a.values)) for a in grid.axes)
    return x, y


def sweep_map(root: Path) -> SweepMap:
    """Read a sweep's results folder (:data:`SWEEP_FILE` says which axes). Trials without a
    number for both axes (not the sweep's) are left out; none left is an error."""
    from optbench import store

    x, y = read_axes(root)
    trials = store.load_trials(root)
    if trials.empty:
        raise OptbenchError(f"{root}: no finished trials yet")
    trials = trials.assign(x=trials["hparams"].map(lambda h: _value(h, x.name)),
                           y=trials["hparams"].map(lambda h: _value(h, y.name))).dropna(subset=["x", "y"])
    if trials.empty:
        raise OptbenchError(f"{root}: no finished trial has numbers for {x.name} and {y.name}")
    steps = pd.to_numeric(trials["steps_to_target"], errors="coerce").where(trials["status"].eq("reached"))
    trials = trials.assign(steps=steps.fillna(np.inf))
    mode = str(trials["target_mode"].iloc[0])
    best = trials.groupby(["x", "y"])["best_metric"].agg("min" if mode == "min" else "max")
    table = pd.DataFrame({"steps": trials.groupby(["x", "y"])["steps"].median(), "best_metric": best}).reset_index()
    fastest = table["steps"].min()
    table["good"] = np.isfinite(table["steps"]) & (table["steps"] <= GOOD_FACTOR * fastest)
    return SweepMap(x, y, table, float(trials["target_value"].iloc[0]), mode)
