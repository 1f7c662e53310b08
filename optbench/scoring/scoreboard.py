"""The scoreboard: steps 1-7 and the bootstrap on one input, and the files ``optbench score`` writes.

:func:`score_folder` reads a folder of either format and :func:`build_scoreboard` runs
the rules on it; the :class:`Scoreboard` holds every table computed. :func:`write_tables`
writes them as CSV (AlgoPerf's names where AlgoPerf has the file) and
:func:`summary_dict` as JSON. Nothing here prints or draws: the leaderboard table and
the profile figure are :mod:`optbench.report`'s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from optbench.errors import OptbenchError
from optbench.scoring.algoperf_logs import load_algoperf_trials
from optbench.scoring.algoperf_targets import Targets, load_targets
from optbench.scoring.bootstrap import bootstrap_scores
from optbench.scoring.inputs import Problem, ScoringInput, check_counts, load_optbench_trials
from optbench.scoring.clock_ranks import other_clock, rank_changes
from optbench.scoring.significance import Significance, pairwise_tests, speedrun_checks
from optbench.scoring.tuning_curve import TuningCurves, tuning_curves
from optbench.scoring.rules import (
    DEFAULT_TAU_MAX,
    SCORE_CLOCKS,
    ProfileResult,
    Rules,
    Ruleset,
    ScoreClock,
    resolve_clock,
    score_times,
    study_times,
    tau_grid,
    trial_time_to_target,
    workload_times,
)
from optbench.store import atomic_write_text, check_writable, finite_or_none


@dataclass
class Scoreboard:
    """Everything one ``optbench score`` computed, ready to print or write."""

    format: str
    ruleset: Ruleset
    clock: ScoreClock  #: what the times are: wall or CPU seconds, or steps, to target
    tau_max: float
    reference: str | None
    trials: pd.DataFrame  #: one row per trial, with ``chosen`` (the trial its study used)
    medians: pd.DataFrame  #: step 3, every workload (variants too), before the cut
    result: ProfileResult  #: steps 4-7
    workload_summary: pd.DataFrame  #: long: per submission x workload
    problems: list[Problem]
    score_ci: pd.DataFrame | None = None
    bootstrap: int = 0
    seed: int = 0
    targets: Targets | None = None
    tuning: TuningCurves | None = None  #: ``--tuning-curve``
    other: Scoreboard | None = None  #: the same trials on the other clock (steps <-> seconds)
    stats: Significance | None = None  #: ``--stats``

    @property
    def boards(self) -> dict[str, Scoreboard]:
        """This board and :attr:`other` by clock, steps first (one entry when there is no other)."""
        both = {self.clock: self} | ({self.other.clock: self.other} if self.other is not None else {})
        return dict(sorted(both.items(), key=lambda item: item[0] != "steps"))

    @property
    def clock_ranks(self) -> pd.DataFrame | None:
        """Ranks and scores on both clocks, with the change (None without :attr:`other`)."""
        return rank_changes(self.boards) if self.other is not None else None

    @property
    def workloads(self) -> list[str]:
        """The scored workloads."""
        return list(self.result.times.columns)

    @property
    def leaderboard(self) -> pd.DataFrame:
        """Submissions by score (best first): score, interval, workloads reached."""
        scored = self.medians[self.workloads]
        board = pd.DataFrame({
            "score": self.result.scores,
            "workloads_reached": np.isfinite(scored.to_numpy(float)).sum(axis=1),
            "workloads_within_tau": np.isfinite(self.result.times.to_numpy(float)).sum(axis=1),
            "workloads": len(self.workloads),
        }, index=self.result.scores.index)
        if self.score_ci is not None:
            board = board.join(self.score_ci)
        board = board.sort_values("score", ascending=False, kind="stable")
        board.insert(0, "rank", np.arange(1, len(board) + 1))
        board.index.name = "submission"
        return board


@dataclass(frozen=True)
class ScoreSettings:
    """How ``optbench score`` scores (its options); a bad value is refused on creation,
    before anything is read."""

    clock: str | None = None  #: wall, cpu or steps; None: the clock the run counted; seconds: the run's seconds
    tau_max: float = DEFAULT_TAU_MAX
    reference: str | None = None  #: take ratios to this submission instead of the best
    bootstrap: int = 0  #: resamples of studies for intervals (0: none)
    seed: int = 0  #: of the bootstrap
    expect_studies: int | None = None  #: per workload (None: the most common count)
    expect_trials: int | None = None  #: per study (None: the most common count; self-tuning: 1)
    tuning_curve: bool = False  #: the score and time to target with k = 1..N trials per study
    both_clocks: bool = True  #: also score the same trials on the other clock (steps <-> seconds)
    stats: bool = False  #: paired tests of time to target, and the speedrun check

    def __post_init__(self) -> None:
        tau_grid(self.tau_max)
        if self.clock not in (None, "seconds", *SCORE_CLOCKS):
            raise OptbenchError(f"--clock {self.clock}: expected wall, cpu or steps")
        if self.bootstrap < 0:
            raise OptbenchError(f"--bootstrap must be 0 or more (got {self.bootstrap})")


def build_scoreboard(data: ScoringInput, fmt: str, settings: ScoreSettings = ScoreSettings()) -> Scoreboard:
    """Steps 1-7 (and the bootstrap) on the trials of either format."""
    s = settings
    trials = data.trials.reset_index(drop=True)
    problems = list(data.problems)
    problems += check_counts(trials, data.workloads, data.ruleset, data.submission_paths,
                             s.expect_studies, s.expect_trials)
    submissions = sorted(data.submission_paths)
    clock = resolve_clock(s.clock, trials)
    trials = trials.assign(time=trial_time_to_target(trials, clock))
    studies = study_times(trials, data.choose)
    trials["chosen"] = False
    trials.loc[studies["row"], "chosen"] = True
    medians = workload_times(studies, submissions, data.workloads)
    rules = Rules(s.tau_max, s.reference, data.variants, data.cut_factor, data.n_workloads)
    result = score_times(medians, rules)
    score_ci, median_ci = (None, None)
    if s.bootstrap > 0:
        score_ci, median_ci = bootstrap_scores(studies, medians, s.bootstrap, s.seed, rules)
    summary = _workload_summary(studies, medians, result, median_ci)
    tuning = tuning_curves(trials, data.choose, submissions, data.workloads, rules) if s.tuning_curve else None
    second = other_clock(clock, trials) if s.both_clocks else None
    other = None
    if second is not None:
        other = build_scoreboard(data, fmt, replace(s, clock=second, bootstrap=0, tuning_curve=False,
                                                    both_clocks=False))
    stats = None
    if s.stats:
        order = list(result.scores.sort_values(ascending=False, kind="stable").index)
        chosen = _with_targets(trials[trials["chosen"]], data.targets)
        stats = Significance(pairwise_tests(studies, order, s.seed), speedrun_checks(chosen))
    return Scoreboard(fmt, data.ruleset, clock, s.tau_max, s.reference, trials.drop(columns="time"), medians,
                      result, summary, problems, score_ci, s.bootstrap, s.seed, data.targets, tuning, other, stats)


def _with_targets(trials: pd.DataFrame, targets: Targets | None) -> pd.DataFrame:
    """``target_value``/``target_mode`` on every trial: from trial.json (ours), else from
    AlgoPerf's targets file."""
    if "target_value" in trials and trials["target_value"].notna().all() or targets is None:
        return trials
    known = targets.workloads
    return trials.assign(
        target_value=trials["workload"].map(lambda w: known[w].value if w in known else np.nan),
        target_mode=trials["workload"].map(lambda w: ("min" if known[w].minimize else "max") if w in known else None),
    )


def _workload_summary(
    studies: pd.DataFrame, medians: pd.DataFrame, result: ProfileResult, median_ci: pd.DataFrame | None
) -> pd.DataFrame:
    """Per submission x workload: studies, studies reaching the target, the median and
    its interval, the time that was scored (after the cut) and its ratio."""
    counts = studies.assign(reached=np.isfinite(studies["time"])).groupby(["submission", "workload"]).agg(
        studies=("time", "size"), studies_reached=("reached", "sum"))
    def long(frame: pd.DataFrame, name: str) -> pd.Series:
        return frame.rename_axis(index="submission", columns="workload").stack().rename(name)

    out = long(medians, "median_time").to_frame().join(counts)
    out[["studies", "studies_reached"]] = out[["studies", "studies_reached"]].fillna(0).astype(int)
    out = out.join(long(result.times, "scored_time")).join(long(result.ratios, "ratio"))
    out["scored"] = out.index.get_level_values("workload").isin(result.times.columns)
    out = out.reset_index()
    if median_ci is not None:
        out = out.merge(median_ci, on=["submission", "workload"], how="left")
    return out


def score_folder(
    results: Path,
    fmt: Literal["optbench", "algoperf"] = "optbench",
    targets: Path | None = None,
    ruleset: Ruleset | None = None,
    settings: ScoreSettings = ScoreSettings(),
    exclude: Sequence[Path] = (),
) -> Scoreboard:
    """Read a folder of either format and score it (what ``optbench score`` does).

    ``exclude``: folders not to read (the output folder, when it lies inside ``results``).
    """
    if ruleset not in (None, "external", "self"):
        raise OptbenchError(f"--ruleset {ruleset}: expected external or self")
    if fmt == "algoperf":
        if targets is None:
            raise OptbenchError("--format algoperf needs --targets (AlgoPerf's workload_targets_v05.json or _v06.json)")
        data = load_algoperf_trials(Path(results), load_targets(targets), ruleset or "external", exclude)
    elif fmt == "optbench":
        if targets is not None:
            raise OptbenchError("--targets is for --format algoperf; our results carry their targets in trial.json")
        data = load_optbench_trials(Path(results), ruleset)
    else:
        raise OptbenchError(f"--format {fmt}: expected optbench or algoperf")
    return build_scoreboard(data, fmt, settings)


def summary_dict(board: Scoreboard, out_dir: Path | None = None) -> dict[str, Any]:
    """The JSON summary (``--json``): settings, workloads, per-submission numbers, problems.
    ``null`` stands for inf (not reached): JSON has no infinity."""
    lb = board.leaderboard
    subs = []
    for sub, row in lb.iterrows():
        entry = {
            "submission": sub, "rank": int(row["rank"]), "score": float(row["score"]),
            "workloads_reached": int(row["workloads_reached"]),
            "time_to_target": {w: finite_or_none(board.medians.loc[sub, w]) for w in board.medians.columns},
            "ratio": {w: finite_or_none(board.result.ratios.loc[sub, w]) for w in board.workloads},
        }
        if board.score_ci is not None:
            entry["score_ci"] = [float(row["score_lo"]), float(row["score_hi"])]
        subs.append(entry)
    return {
        "format": board.format, "ruleset": board.ruleset, "clock": board.clock, "tau_max": board.tau_max,
        "reference": board.reference, "bootstrap": board.bootstrap, "seed": board.seed,
        "targets": None if board.targets is None else {"version": board.targets.version, "path": board.targets.path},
        "workloads": board.workloads, "submissions": subs,
        "problems": [{"path": p.path, "message": p.message} for p in board.problems],
        "out": None if out_dir is None else str(out_dir),
    }


def write_tables(board: Scoreboard, out_dir: Path) -> list[Path]:
    """Write the CSVs (AlgoPerf's names where AlgoPerf has the file) and ``summary.json``.

    ``time_to_targets.csv``: step 3's medians, submission x workload (variants too),
    ``inf`` = not reached; ``scores.csv``; ``performance_profiles.csv`` (submission x tau);
    ``trial_summary.csv`` (one row per trial, ``chosen`` = the trial its study used);
    ``workload_summary.csv``; ``clock_ranks.csv`` (both clocks); ``pairwise_tests.csv`` and ``speedrun_checks.csv`` with ``--stats``; ``tuning_curve.csv`` with ``--tuning-curve``; ``summary.json`` (:func:`summary_dict`); ``warnings.txt``
    when there were problems. (The figure: :func:`optbench.report.figures.plot_performance_profiles`.)
    """
    out_dir = Path(out_dir)
    check_writable(out_dir)
    files = {
        "time_to_targets.csv": board.medians.to_csv(),
        "scores.csv": board.leaderboard.to_csv(),
        "performance_profiles.csv": board.result.profiles.to_csv(),
        "trial_summary.csv": board.trials.to_csv(index=False),
        "workload_summary.csv": board.workload_summary.to_csv(index=False),
        "summary.json": json.dumps(summary_dict(board, out_dir), indent=2) + "\n",
    }
    if board.clock_ranks is not None:
        files["clock_ranks.csv"] = board.clock_ranks.to_csv()
    if board.stats is not None:
        files["pairwise_tests.csv"] = board.stats.pairs.to_csv(index=False)
        files["speedrun_checks.csv"] = board.stats.speedrun.to_csv(index=False)
    if board.tuning is not None:
        files["tuning_curve.csv"] = board.tuning.table().to_csv(index=False)
    if board.problems:
        files["warnings.txt"] = "".join(f"{p}\n" for p in board.problems)
    written = []
    for name, text in files.items():
        atomic_write_text(out_dir / name, text)
        written.append(out_dir / name)
    return written
