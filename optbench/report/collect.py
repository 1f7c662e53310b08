"""Everything the report and the figures show about one results folder, read tolerantly.

``optbench report`` must produce a page for a folder with missing pieces (no
experiment.json, an unfinished or damaged trial, a trial without evals.csv, nothing
scoreable): each piece that cannot be read becomes a line of :attr:`ReportData.missing`
and the page shows what it can. Only a path that is not a folder at all is an error.

The curves: per workload and submission, the target metric of each study's *chosen*
trial (scoring's choice: its best trial under external tuning, its one trial under
self-tuning), as a step function of submission time and of steps; the median over
studies and the min-max band are taken at the union of the eval positions; a study
counts with its first eval's value before it and keeps its last value after its end
(it stopped at the target), so that the median neither jumps when a slow study
starts late nor drops back when a fast one stops.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optbench import store
from optbench.errors import OptbenchError
from optbench.report.format import finite
from optbench.scoring.importance import Importance, importances, search_spaces
from optbench.scoring.scoreboard import Scoreboard, ScoreSettings, score_folder
from optbench.scoring.sweep_map import SweepMap, is_sweep, sweep_map

#: At most this many x positions per curve (the union of eval positions, thinned).
MAX_POINTS = 600


@dataclass
class Curve:
    """One submission on one workload along one axis: median and band over studies."""

    submission: str
    x: np.ndarray
    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    studies: int


@dataclass
class WorkloadInfo:
    name: str
    metric: str
    target: float | None
    mode: str  #: min or max
    budget_seconds: float | None
    step_hint: float | None
    hash: str
    budget_steps: float | None = None
    by_time: list[Curve] = field(default_factory=list)
    by_step: list[Curve] = field(default_factory=list)
    note: str = ""  #: why there are no curves, when there are none


@dataclass
class ReportData:
    root: Path
    clock: str  #: the clock of the leaderboard and of the time axes: wall, cpu or steps
    experiment: dict[str, Any] | None
    trials: pd.DataFrame  #: store.load_trials, plus ``chosen``
    board: Scoreboard | None  #: None when the folder cannot be scored
    workloads: list[WorkloadInfo]
    missing: list[str] = field(default_factory=list)  #: what could not be read, one line each
    problems: list[str] = field(default_factory=list)  #: scoring's warnings
    #: external tuning: per submission x workload, the trials by their most important hyperparameters
    importance: list[Importance] = field(default_factory=list)
    sweep: SweepMap | None = None  #: the folder is a sweep (``optbench sweep``): its map


def _importance(board: Scoreboard, trials: pd.DataFrame, experiment: dict[str, Any] | None) -> list[Importance]:
    """The hyperparameter scatter's data (external tuning only): the board's trials with the
    hyperparameters and target metric of their trial.json."""
    if board.ruleset != "external" or "hparams" not in trials:
        return []
    by_path = trials.set_index("path")
    metric = board.trials["path"].map(by_path["target_metric"]) if "target_metric" in by_path else None
    scored = board.trials.assign(target_metric=metric)
    return importances(scored, scored["path"].map(by_path["hparams"]), board.clock, search_spaces(experiment))


def _read_evals(path: Path) -> pd.DataFrame | None:
    try:
        return pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError):
        return None


def _step_curve(xs: list[np.ndarray], ys: list[np.ndarray], grid: np.ndarray) -> np.ndarray:
    """(studies, grid): each study's value at each grid point, as a step function: the last
    eval at or before it. Before its first eval a study counts with that first value (the first
    eval follows the first step, so it is the untrained model's), and a study that ended early
    (most often: it stopped at the target) keeps its last value, so the median does not jump
    when a slow study starts late or a fast one stops."""
    out = np.full((len(xs), len(grid)), np.nan)
    for i, (x, y) in enumerate(zip(xs, ys)):
        if len(x) == 0:
            continue
        pos = np.clip(np.searchsorted(x, grid, side="right") - 1, 0, None)
        out[i] = y[pos]
    return out


def _curves(runs: dict[str, list[pd.DataFrame]], column: str, metric: str) -> list[Curve]:
    curves = []
    for sub, frames in runs.items():
        xs, ys = [], []
        for f in frames:
            f = f[[column, metric]].apply(pd.to_numeric, errors="coerce").dropna(subset=[column])
            f = f.sort_values(column, kind="stable")
            xs.append(f[column].to_numpy(float))
            ys.append(f[metric].to_numpy(float))
        grid = np.unique(np.concatenate(xs)) if xs else np.array([])
        if len(grid) == 0:
            continue
        if len(grid) > MAX_POINTS:
            grid = np.unique(np.concatenate([np.linspace(grid[0], grid[-1], MAX_POINTS), [grid[-1]]]))
        values = _step_curve(xs, ys, grid)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # 'All-NaN slice': no study covers that x
            med, lo, hi = np.nanmedian(values, 0), np.nanmin(values, 0), np.nanmax(values, 0)
        curves.append(Curve(sub, grid, med, lo, hi, len(frames)))
    return curves


#: The evals.csv column that holds each clock's seconds (results older than the clocks: submission_time).
TIME_COLUMNS = {"wall": "submission_wall_time", "cpu": "submission_cpu_time"}


def collect(results: Path, clock: str | None = None) -> ReportData:
    """Read ``results`` for the report; never raises for missing pieces (see the module docstring).

    ``clock``: wall, cpu or steps (None: the clock the run counted)."""
    root = Path(results)
    if not root.is_dir():
        raise OptbenchError(f"{root}: no such results folder")
    missing: list[str] = []
    try:
        experiment = store.read_experiment(root)
    except OptbenchError as exc:
        experiment = None
        missing.append(f"provenance: {exc}")
    for folder in sorted(root.glob("*/study_*/*/trial_*")):
        if folder.is_dir() and not store.is_trial_complete(folder):
            missing.append(f"trial {folder.relative_to(root)}: no complete trial.json (unfinished, killed or "
                           "damaged): not shown")
    trials = store.load_trials(root)
    if trials.empty:
        missing.append("trials: no finished trial in this folder (no */study_*/*/trial_*/trial.json)")

    board, problems = None, []
    ScoreSettings(clock=clock)  # a bad --clock is the user's error, not a missing piece
    if not trials.empty:
        try:
            board = score_folder(root, settings=ScoreSettings(clock=clock, tuning_curve=True, stats=True))
            problems = [str(p) for p in board.problems]
        except OptbenchError as exc:
            missing.append(f"leaderboard: cannot score this folder: {exc}")
    if board is not None:
        clock = board.clock
    elif clock in (None, "seconds"):
        recorded = sorted(set(trials["clock"].dropna())) if "clock" in trials else []
        clock = recorded[0] if len(recorded) == 1 else "wall"
    if not trials.empty:
        trials["chosen"] = True
        if board is not None:
            chosen = set(board.trials.loc[board.trials["chosen"], "path"])
            trials["chosen"] = trials["path"].isin(chosen)
        trials = trials.sort_values(["workload", "submission", "study", "trial"], kind="stable")

    workloads = []
    if not trials.empty:
        for wl, group in trials.groupby("workload", sort=True):
            first = group.iloc[0]
            info = WorkloadInfo(
                name=str(wl), metric=str(first.get("target_metric") or ""), target=finite(first.get("target_value")),
                mode=str(first.get("target_mode") or "max"), budget_seconds=finite(first.get("budget_seconds")),
                step_hint=finite(first.get("step_hint")), hash=str(first.get("workload_hash") or ""),
                budget_steps=finite(first.get("budget_steps")),
            )
            runs: dict[str, list[pd.DataFrame]] = {}
            no_evals = []
            for row in group[group["chosen"]].itertuples():
                evals = _read_evals(Path(row.path) / store.EVALS_FILE)
                where = Path(row.path).relative_to(root)
                if evals is None:
                    no_evals.append(str(where))
                    continue
                if info.metric not in evals.columns or evals.empty:
                    missing.append(f"curves: {where}/evals.csv has no {info.metric} column or no rows")
                    continue
                runs.setdefault(str(row.submission), []).append(evals)
            if no_evals:
                missing.append(f"curves: {len(no_evals)} trial(s) of {wl} have no readable evals.csv, e.g. "
                               f"{no_evals[0]}")
            seconds = TIME_COLUMNS.get(clock, "submission_time")
            timed = {sub: [f.assign(_t=f[seconds] if seconds in f else f["submission_time"]) for f in frames]
                     for sub, frames in runs.items()}
            info.by_time = _curves(timed, "_t", info.metric) if info.metric else []
            info.by_step = _curves(runs, "step", info.metric) if info.metric else []
            if not info.by_time and not info.by_step:
                info.note = "no readable evals.csv with the target metric for this workload"
            workloads.append(info)
    importance = _importance(board, trials, experiment) if board is not None else []
    sweep = None
    if is_sweep(root):
        try:
            sweep = sweep_map(root)
            if sweep.unfinished:
                missing.append(f"sweep: {sweep.unfinished} of {len(sweep.x.values) * len(sweep.y.values)} grid "
                               "points have no finished trial (blank on the map; the width counts the others)")
        except OptbenchError as exc:
            missing.append(f"sweep: {exc}")
    return ReportData(root, clock, experiment, trials, board, workloads, missing, problems, importance, sweep)
