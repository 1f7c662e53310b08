"""What the rules score: trials from either input format, as one :class:`ScoringInput`.

:func:`load_optbench_trials` reads our results folder (docs/design.md §5);
:func:`optbench.scoring.algoperf_logs.load_algoperf_trials` reads AlgoPerf's log tree into
the same shape. Whatever in the input is wrong but can be worked around becomes a
:class:`Problem` (a warning; ``--strict`` makes it an error), and :func:`check_counts`
adds the missing workloads and odd study/trial counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from optbench import store
from optbench.errors import OptbenchError
from optbench.scoring.algoperf_targets import Targets
from optbench.scoring.rules import STUDY_KEY, Choose, Ruleset
from optbench.spec import TrialStatus

#: Columns of the per-trial table that both loaders produce.
TRIAL_COLUMNS = [
    "submission", "study", "workload", "trial", "status", "time_to_target", "steps_to_target",
    "best_metric", "path",
]
#: Our results' columns beyond those: the clock the budget counted and the time to target on each
#: clock (absent from results older than the clocks, and from AlgoPerf's logs: wall seconds), and
#: the target's direction (a study that missed it is represented by the trial that came closest).
EXTRA_COLUMNS = ["clock", "wall_time_to_target", "cpu_time_to_target", "target_mode", "target_value"]


@dataclass(frozen=True)
class Problem:
    """Something wrong with the input that scoring can work around: where, and what.

    Shared by both input formats. The CLI prints each as ``warning: <path>: <message>``;
    with ``--strict`` any problem becomes an error exit.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class ScoringInput:
    """Trials from either format, and how the scoring rules apply to them."""

    trials: pd.DataFrame  #: TRIAL_COLUMNS (+ ``hit_index``, ``n_evals`` for AlgoPerf logs)
    workloads: list[str]  #: every workload whose times are computed (held-out variants included)
    ruleset: Ruleset
    submission_paths: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    choose: Choose = "time"
    variants: dict[str, str] = field(default_factory=dict)  #: held-out variant -> base
    cut_factor: float | None = None  #: None: tau_max
    n_workloads: int | None = None  #: the profile's denominator; None: the scored workloads
    targets: Targets | None = None


def load_optbench_trials(root: Path, ruleset: Ruleset | None = None) -> ScoringInput:
    """Our results folder (docs/design.md §5) as trials to score.

    The ruleset comes from each trial.json; a folder holding both needs ``--ruleset``
    to pick one. Scores are never mixed across workload hashes: a workload that appears
    with two different hashes (its YAML changed between trials) is an error, naming the
    hashes and the submissions behind each, because no choice between them is right.
    """
    root = Path(root)
    if not root.is_dir():
        raise OptbenchError(f"{root}: no such results folder")
    problems = [
        Problem(str(d), "no complete trial.json (unfinished, killed or damaged; `optbench run --resume` "
                        "re-runs it): ignored")
        for d in sorted(root.glob("*/study_*/*/trial_*"))
        if d.is_dir() and not store.is_trial_complete(d)
    ]
    frame = store.load_trials(root)
    if frame.empty:
        hint = ""
        if next(root.glob("**/eval_measurements.csv"), None) is not None:
            hint = " (it holds AlgoPerf logs: add --format algoperf --targets workload_targets_v05.json)"
        raise OptbenchError(f"{root}: no finished trials (no */study_*/*/trial_*/trial.json){hint}")
    required = ["submission", "study", "workload", "trial", "status", "workload_hash", "ruleset"]
    for column in required:
        if column not in frame:
            frame[column] = None
    for column in ("time_to_target", "steps_to_target", "best_metric", "wall_time_to_target", "cpu_time_to_target",
                   "target_value"):
        if column not in frame:
            frame[column] = np.nan
    frame["clock"] = frame["clock"].fillna("wall") if "clock" in frame else "wall"
    if "target_mode" not in frame:
        frame["target_mode"] = None
    incomplete = frame[required].isna().any(axis=1)
    for path in frame.loc[incomplete, "path"]:
        problems.append(Problem(path, f"trial.json lacks one of {', '.join(required)}: ignored"))
    frame = frame[~incomplete].copy()
    if frame.empty:
        raise OptbenchError(f"{root}: no usable trial.json")

    present = sorted(frame["ruleset"].unique())
    if ruleset is None:
        if len(present) > 1:
            raise OptbenchError(f"{root} holds trials of rulesets {', '.join(present)}: choose one with --ruleset")
        ruleset = present[0]
    if ruleset not in ("external", "self"):
        raise OptbenchError(f"{root}: unknown ruleset {ruleset!r} in trial.json (expected external or self)")
    frame = frame[frame["ruleset"] == ruleset]
    if frame.empty:
        raise OptbenchError(f"{root}: no trials of ruleset {ruleset} (have: {', '.join(present)})")

    hashes = frame.groupby("workload")["workload_hash"].unique()
    mixed = hashes[hashes.map(len) > 1]
    if len(mixed):
        wl = mixed.index[0]
        who = "; ".join(
            f"{h}: {', '.join(sorted(frame.loc[(frame.workload == wl) & (frame.workload_hash == h), 'submission'].unique()))}"
            for h in mixed[wl]
        )
        raise OptbenchError(
            f"{root}: workload {wl} was run with {len(mixed[wl])} different definitions (hashes {who}); "
            "scores are never mixed across workload hashes: re-run the stale trials or score them apart"
        )

    known = frame["status"].isin([s.value for s in TrialStatus])
    for path, status in frame.loc[~known, ["path", "status"]].itertuples(index=False):
        problems.append(Problem(path, f"unknown status {status!r}: counted as not reached"))
    time_missing = frame["status"].eq(TrialStatus.REACHED.value) & frame["time_to_target"].isna()
    for path in frame.loc[time_missing, "path"]:
        problems.append(Problem(path, "status reached but no time_to_target: counted as not reached"))

    frame["study"] = frame["study"].astype(int)
    frame["trial"] = frame["trial"].astype(int)
    frame = frame.sort_values(["submission", "study", "workload", "trial"], kind="stable").reset_index(drop=True)
    trials = frame[TRIAL_COLUMNS + EXTRA_COLUMNS].copy()
    paths = {s: str(root / s) for s in sorted(trials["submission"].unique())}
    return ScoringInput(trials, sorted(trials["workload"].unique()), ruleset, paths, problems)


def _mode(counts: pd.Series) -> int:
    """The most common count (ties: the larger), the expectation when none is given."""
    return int(counts.mode().max()) if len(counts) else 0


def check_counts(
    trials: pd.DataFrame,
    workloads: Sequence[str],
    ruleset: Ruleset,
    submission_paths: Mapping[str, str],
    expect_studies: int | None = None,
    expect_trials: int | None = None,
) -> list[Problem]:
    """Missing workloads, and studies per workload / trials per study that differ from
    what is expected (given, or else the most common count; self-tuning: one trial).

    Why warn rather than fail: a missing study makes a median over fewer studies, which
    may or may not be acceptable; the user decides (``--strict`` makes it an error).
    """
    problems: list[Problem] = []
    present = trials.groupby("submission")["workload"].unique()
    for sub in sorted(submission_paths):
        have = set(present.get(sub, ()))
        missing = [w for w in workloads if w not in have]
        if missing:
            problems.append(Problem(submission_paths[sub], f"no trials for workload(s) {', '.join(missing)}: "
                                                          "scored as not reached"))
    studies = trials.groupby(["submission", "workload"])["study"].nunique()
    want = expect_studies or _mode(studies)
    for (sub, wl), count in studies[studies != want].items():
        problems.append(Problem(submission_paths.get(sub, sub), f"{wl}: {count} studies, expected {want}"))
    per_study = trials.groupby(STUDY_KEY).size()
    want = 1 if ruleset == "self" else (expect_trials or _mode(per_study))
    for (sub, wl, study), count in per_study[per_study != want].items():
        problems.append(Problem(f"{submission_paths.get(sub, sub)}/study_{study}",
                                f"{wl}: {count} trials, expected {want}"))
    return problems
