"""Scoring (DESIGN.md §6): time-to-target per trial -> per workload -> performance profiles -> scores.

The steps, each a function below, tested on its own:

1. :func:`trial_time_to_target` -- per trial: time (or steps) to target, ``inf`` if not reached;
2. :func:`study_times` -- per study: external tuning -> the best of its trials; self-tuning ->
   its one trial. (``choose="first_hit"`` is AlgoPerf's rule: the trial that reaches the
   target at the smallest *eval index*, which is not always the smallest time);
3. :func:`workload_times` -- per workload: the median over studies, ``inf`` included, so a
   submission must reach the target in more than half of its studies to get a finite time;
4. :func:`cut_above_tau` -- a time above ``tau_max`` x the best submission's becomes ``inf``
   (AlgoPerf v0.5: :func:`apply_held_out_rule` wraps this step with the held-out rule);
5. :func:`ratios_to_best` -- r = t / best t (or / the ``reference`` submission's t);
6. :func:`performance_profiles` -- rho_s(tau) = share of workloads with r <= tau, on
   :func:`tau_grid` = ``linspace(1, tau_max, 100)``;
7. :func:`scores_from_profiles` -- score = trapezoid area under rho_s / (tau_max - 1), in [0, 1].

Missing data is ``inf`` throughout (never NaN): a submission with no logs for a
workload did not reach its target. The array versions (``_cut`` ...) take any
leading batch axes, so :func:`bootstrap_scores` resamples studies 1000 times in one
vectorised pass.

Two inputs feed the same steps: our results folder (:func:`load_optbench_trials`,
DESIGN.md §5) and AlgoPerf's log tree (:func:`load_algoperf_trials`, read by
:mod:`optbench.algoperf_logs`). :func:`score_folder` runs the whole thing;
:func:`write_outputs` writes the CSVs and the figure.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from optbench.algoperf_logs import Problem, Targets
from optbench.errors import OptbenchError

Clock = Literal["seconds", "steps"]
Ruleset = Literal["external", "self"]
Choose = Literal["time", "first_hit"]

DEFAULT_TAU_MAX = 4.0
NUM_TAUS = 100
#: AlgoPerf's scorer cuts at 4 x the best time whatever ``max_tau`` it integrates to.
ALGOPERF_CUT_FACTOR = 4.0
STUDY_KEY = ["submission", "workload", "study"]
#: Columns of the per-trial table that both loaders produce.
TRIAL_COLUMNS = [
    "submission", "study", "workload", "trial", "status", "time_to_target", "steps_to_target",
    "best_metric", "path",
]


# ============================================================================ the steps


def trial_time_to_target(trials: pd.DataFrame, clock: Clock = "seconds") -> pd.Series:
    """Step 1: one number per trial, its time (``clock="steps"``: steps) to target, else ``inf``.

    Only ``status == "reached"`` counts: a diverged or failed trial that logged a time
    anyway did not reach the target.
    """
    column = "steps_to_target" if clock == "steps" else "time_to_target"
    values = pd.to_numeric(trials[column], errors="coerce").astype(float)
    reached = trials["status"].eq("reached") & np.isfinite(values)
    return values.where(reached, np.inf).rename("time")


def study_times(trials: pd.DataFrame, choose: Choose = "time") -> pd.DataFrame:
    """Step 2: one time per (submission, workload, study), and which trial gave it.

    ``trials`` needs ``submission, workload, study, time`` (and ``hit_index`` for
    ``choose="first_hit"``). ``choose="time"``: the smallest time (external tuning:
    the best of the study's trials; self-tuning: its one trial). ``"first_hit"``:
    AlgoPerf's rule, the trial whose *first eval reaching the target* has the smallest
    index; its time is taken even when another trial reached it sooner in seconds.
    Ties go to the earlier row (rows come sorted by folder, then trial number).

    Returns columns ``submission, workload, study, time, row`` (``row``: the index label
    of the chosen trial in ``trials``).
    """
    if choose == "first_hit":
        hit = pd.to_numeric(trials["hit_index"]).astype(float)
        order = hit.where(hit >= 0, np.inf).to_numpy()
    else:
        order = trials["time"].to_numpy(dtype=float)
    ranked = trials.assign(_order=order, _pos=np.arange(len(trials)), row=trials.index)
    ranked = ranked.sort_values([*STUDY_KEY, "_order", "_pos"], kind="stable")
    chosen = ranked.groupby(STUDY_KEY, sort=False).head(1)
    return chosen[[*STUDY_KEY, "time", "row"]].reset_index(drop=True)


def workload_times(
    studies: pd.DataFrame,
    submissions: Sequence[str] | None = None,
    workloads: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Step 3: the median over studies per (submission, workload), ``inf`` included.

    Wide: index = submission, columns = workload. A (submission, workload) with no
    studies at all is ``inf``. With an even number of studies the median is the mean of
    the middle two, so one ``inf`` among them makes it ``inf`` (as ``np.median`` does).
    """
    medians = studies.groupby(["submission", "workload"])["time"].median().unstack("workload")
    submissions = sorted(studies["submission"].unique()) if submissions is None else list(submissions)
    workloads = sorted(studies["workload"].unique()) if workloads is None else list(workloads)
    medians = medians.reindex(index=submissions, columns=workloads).astype(float).fillna(np.inf)
    medians.index.name, medians.columns.name = "submission", "workload"
    return medians


def _cut(times: np.ndarray, factor: float) -> np.ndarray:
    """Array version of :func:`cut_above_tau`; axis -2 = submissions, -1 = workloads."""
    best = times.min(axis=-2, keepdims=True)
    with np.errstate(invalid="ignore"):
        return np.where(times > factor * best, np.inf, times)


def cut_above_tau(times: pd.DataFrame, factor: float = DEFAULT_TAU_MAX) -> pd.DataFrame:
    """Step 4: a time more than ``factor`` x the workload's best time becomes ``inf``.

    Why: beyond ``tau_max`` the profile no longer looks, so such a time must not count
    as reached anywhere else (the held-out rule, the 'reached' column).
    """
    return pd.DataFrame(_cut(times.to_numpy(float), factor), index=times.index, columns=times.columns)


def _held_out(times: np.ndarray, pairs: Sequence[tuple[int, int]], factor: float) -> np.ndarray:
    """Array version of :func:`apply_held_out_rule` (all columns kept; ``pairs`` = (variant, base))."""
    times = times.copy()
    for variant, base in pairs:  # a variant only counts where its base was reached
        times[..., variant] = np.where(np.isfinite(times[..., base]), times[..., variant], np.inf)
    times = _cut(times, factor)
    for variant, base in pairs:  # a base only counts where its variant was reached
        times[..., base] = np.where(np.isfinite(times[..., variant]), times[..., base], np.inf)
    return times


def apply_held_out_rule(
    times: pd.DataFrame, variants: Mapping[str, str], factor: float = ALGOPERF_CUT_FACTOR
) -> pd.DataFrame:
    """Step 4 with AlgoPerf v0.5's held-out rule; returns the base workloads only.

    In AlgoPerf's order: (a) a variant becomes ``inf`` where its base is ``inf``;
    (b) the ``factor`` x best cut, on every column (variants included, so (a) can move a
    variant's best); (c) a base becomes ``inf`` where its variant is ``inf``. Variant
    columns are then dropped: they gate their base workload but are never scored.
    """
    columns = list(times.columns)
    pairs = [(columns.index(v), columns.index(b)) for v, b in variants.items() if v in columns and b in columns]
    out = pd.DataFrame(_held_out(times.to_numpy(float), pairs, factor), index=times.index, columns=columns)
    return out[[c for c in columns if c not in variants]]


def _ratios(times: np.ndarray, reference: int | None = None) -> np.ndarray:
    """Array version of :func:`ratios_to_best`."""
    denominator = times.min(axis=-2, keepdims=True) if reference is None else times[..., reference : reference + 1, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        return times / denominator


def ratios_to_best(times: pd.DataFrame, reference: str | None = None) -> pd.DataFrame:
    """Step 5: r = t / (best t on that workload), or t / (the ``reference`` submission's t).

    ``inf / inf`` (nobody reached it) is NaN and never counts as r <= tau. With a
    reference that missed a workload, a submission that reached it gets r = 0 (it
    counts at every tau: it did better than the reference).
    """
    ref = None if reference is None else list(times.index).index(reference)
    return pd.DataFrame(_ratios(times.to_numpy(float), ref), index=times.index, columns=times.columns)


def tau_grid(tau_max: float = DEFAULT_TAU_MAX, num: int = NUM_TAUS) -> np.ndarray:
    """The taus at which profiles are evaluated: ``linspace(1, tau_max, num)``, as AlgoPerf."""
    if not tau_max > 1:
        raise OptbenchError(f"--tau-max must be greater than 1 (got {tau_max})")
    return np.linspace(1.0, float(tau_max), num)


def _profiles(ratios: np.ndarray, taus: np.ndarray, n_workloads: int) -> np.ndarray:
    """Array version of :func:`performance_profiles`: (..., S, W) -> (..., S, T)."""
    with np.errstate(invalid="ignore"):
        within = ratios[..., None] <= taus
    return within.sum(axis=-2) / n_workloads


def performance_profiles(ratios: pd.DataFrame, taus: np.ndarray, n_workloads: int | None = None) -> pd.DataFrame:
    """Step 6: rho_s(tau) = (number of workloads with r <= tau) / ``n_workloads``.

    ``n_workloads`` defaults to the number of columns; AlgoPerf divides by the number
    of base workloads of the benchmark version, whether or not they appear in the logs.
    Index = submission, columns = taus (AlgoPerf's layout).
    """
    n = ratios.shape[1] if n_workloads is None else n_workloads
    rho = _profiles(ratios.to_numpy(float), np.asarray(taus, float), max(n, 1))
    return pd.DataFrame(rho, index=ratios.index, columns=pd.Index(taus, name="tau"))


def _areas(profiles: np.ndarray, taus: np.ndarray) -> np.ndarray:
    return np.trapezoid(profiles, taus, axis=-1) / (taus[-1] - taus[0])


def scores_from_profiles(profiles: pd.DataFrame) -> pd.Series:
    """Step 7: the area under each profile divided by (tau_max - 1): 1 = best everywhere."""
    taus = profiles.columns.to_numpy(float)
    return pd.Series(_areas(profiles.to_numpy(float), taus), index=profiles.index, name="score")


@dataclass
class ProfileResult:
    """Steps 4-7 on one table of workload times."""

    times: pd.DataFrame  #: after the cut (and the held-out rule): the times that are scored
    ratios: pd.DataFrame
    taus: np.ndarray
    profiles: pd.DataFrame
    scores: pd.Series


def score_times(
    times: pd.DataFrame,
    tau_max: float = DEFAULT_TAU_MAX,
    reference: str | None = None,
    variants: Mapping[str, str] | None = None,
    cut_factor: float | None = None,
    n_workloads: int | None = None,
) -> ProfileResult:
    """Steps 4-7: workload times (submission x workload, ``inf`` = missed) -> scores.

    ``cut_factor`` defaults to ``tau_max``; ``variants`` (held-out -> base) switches on
    :func:`apply_held_out_rule`.
    """
    taus = tau_grid(tau_max)
    factor = tau_max if cut_factor is None else cut_factor
    if reference is not None and reference not in times.index:
        raise OptbenchError(
            f"--reference {reference}: no such submission (have: {', '.join(map(str, times.index))})"
        )
    cut = apply_held_out_rule(times, variants, factor) if variants else cut_above_tau(times, factor)
    ratios = ratios_to_best(cut, reference)
    profiles = performance_profiles(ratios, taus, n_workloads)
    return ProfileResult(cut, ratios, taus, profiles, scores_from_profiles(profiles))


# ============================================================================ bootstrap


def resample_medians(
    studies: pd.DataFrame, submissions: Sequence[str], workloads: Sequence[str], n: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` bootstrap replicates of :func:`workload_times`: shape (n, submissions, workloads).

    Each (submission, workload) resamples its own studies with replacement, as many as
    it has; cells without studies stay ``inf``. Cells are visited in sorted order, so a
    seed gives the same numbers on every machine.
    """
    out = np.full((n, len(submissions), len(workloads)), np.inf)
    s_index = {s: i for i, s in enumerate(submissions)}
    w_index = {w: i for i, w in enumerate(workloads)}
    for (sub, wl), values in studies.groupby(["submission", "workload"], sort=True)["time"]:
        if sub in s_index and wl in w_index:
            v = values.to_numpy(float)
            draws = rng.integers(0, len(v), size=(n, len(v)))
            out[:, s_index[sub], w_index[wl]] = np.median(v[draws], axis=1)
    return out


def bootstrap_scores(
    studies: pd.DataFrame,
    medians: pd.DataFrame,
    n: int,
    seed: int = 0,
    tau_max: float = DEFAULT_TAU_MAX,
    reference: str | None = None,
    variants: Mapping[str, str] | None = None,
    cut_factor: float | None = None,
    n_workloads: int | None = None,
    level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Intervals from resampling studies: (score interval per submission, median-time
    interval per submission x workload).

    The whole of steps 4-7 is recomputed on every replicate, for all submissions
    together (a score depends on the others' times). Returns ``score_lo/score_hi``
    (percentiles, linear) and, long, ``median_lo/median_hi`` (the order statistics
    just outside the interval, so that ``inf`` never turns into NaN).
    """
    submissions, workloads = list(medians.index), list(medians.columns)
    rng = np.random.default_rng(seed)
    resampled = resample_medians(studies, submissions, workloads, n, rng)
    taus = tau_grid(tau_max)
    factor = tau_max if cut_factor is None else cut_factor
    pairs = [(workloads.index(v), workloads.index(b)) for v, b in (variants or {}).items()
             if v in workloads and b in workloads]
    keep = [i for i, w in enumerate(workloads) if w not in (variants or {})]
    ref = None if reference is None else submissions.index(reference)
    scores = np.empty((n, len(submissions)))
    for start in range(0, n, 250):  # chunks keep the (n, S, W, T) boolean array small
        block = resampled[start : start + 250]
        block = _held_out(block, pairs, factor) if pairs else _cut(block, factor)
        block = block[..., keep]
        rho = _profiles(_ratios(block, ref), taus, n_workloads or len(keep))
        scores[start : start + 250] = _areas(rho, taus)
    alpha = (1 - level) / 2
    score_ci = pd.DataFrame(
        {"score_lo": np.quantile(scores, alpha, axis=0), "score_hi": np.quantile(scores, 1 - alpha, axis=0)},
        index=pd.Index(submissions, name="submission"),
    )
    lo = np.quantile(resampled, alpha, axis=0, method="lower")
    hi = np.quantile(resampled, 1 - alpha, axis=0, method="higher")
    median_ci = pd.concat(
        {"median_lo": _long(lo, submissions, workloads), "median_hi": _long(hi, submissions, workloads)}, axis=1
    ).reset_index()
    return score_ci, median_ci


def _long(values: np.ndarray, submissions: Sequence[str], workloads: Sequence[str]) -> pd.Series:
    frame = pd.DataFrame(values, index=pd.Index(submissions, name="submission"),
                         columns=pd.Index(workloads, name="workload"))
    return frame.stack()


# ============================================================================ checks


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


# ============================================================================ inputs


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
    """Our results folder (DESIGN.md §5) as trials to score.

    The ruleset comes from each trial.json; a folder holding both needs ``--ruleset``
    to pick one. Scores are never mixed across workload hashes: a workload that appears
    with two different hashes (its YAML changed between trials) is an error, naming the
    hashes and the submissions behind each, because no choice between them is right.
    """
    from optbench import store

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
    for column in ("time_to_target", "steps_to_target", "best_metric"):
        if column not in frame:
            frame[column] = np.nan
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

    known = frame["status"].isin(["reached", "budget_exhausted", "diverged", "failed", "timeout"])
    for path, status in frame.loc[~known, ["path", "status"]].itertuples(index=False):
        problems.append(Problem(path, f"unknown status {status!r}: counted as not reached"))
    time_missing = frame["status"].eq("reached") & frame["time_to_target"].isna()
    for path in frame.loc[time_missing, "path"]:
        problems.append(Problem(path, "status reached but no time_to_target: counted as not reached"))

    frame["study"] = frame["study"].astype(int)
    frame["trial"] = frame["trial"].astype(int)
    frame = frame.sort_values(["submission", "study", "workload", "trial"], kind="stable").reset_index(drop=True)
    trials = frame[TRIAL_COLUMNS].copy()
    paths = {s: str(root / s) for s in sorted(trials["submission"].unique())}
    return ScoringInput(trials, sorted(trials["workload"].unique()), ruleset, paths, problems)


def load_algoperf_trials(
    root: Path,
    targets: Targets,
    ruleset: Ruleset = "external",
    exclude: Sequence[Path] = (),
) -> ScoringInput:
    """AlgoPerf's log tree as trials to score, with AlgoPerf's rules switched on.

    Rules reproduced: the trial chosen per study by the first eval index reaching the
    target; the v0.5 held-out rule (when the targets file lists held-out workloads);
    the cut at 4 x the best time; the profile divided by the number of base workloads.
    Unlike AlgoPerf's script (which raises, or silently drops a trial), unusable input
    is reported: unknown workloads and workloads outside the version's scored set are
    ignored, trials without a readable log are dropped (as AlgoPerf drops a trial with
    no CSV), a truncated CSV keeps its complete rows.
    """
    from optbench import algoperf_logs as logs

    root = Path(root)
    if not root.is_dir():
        raise OptbenchError(f"{root}: no such folder")
    found, problems = logs.find_trial_logs(root, exclude)
    if not found:
        raise OptbenchError(
            f"{root}: no AlgoPerf trial folders (<submission>/study_<j>/<workload>_<jax|pytorch>/trial_<i>/)"
        )
    found.sort(key=lambda t: (t.submission, t.study, t.workload, t.experiment, t.trial))
    scored = set(targets.scored_set)
    usable, reported = [], set()
    for log in found:
        if log.workload in scored:
            usable.append(log)
            continue
        key = (log.submission, log.workload)
        if key not in reported:
            reported.add(key)
            folder = str(Path(log.path).parent)
            if log.workload in targets.workloads:
                problems.append(Problem(folder, f"workload {log.workload} is not scored in benchmark "
                                                f"v{targets.version} ({targets.path}): ignored"))
            else:
                problems.append(Problem(folder, f"unknown workload {log.workload} (not in {targets.path}): ignored"))
    reads = logs.read_trials([(t.path, targets.workloads[t.workload]) for t in usable])
    rows = []
    for log, read in zip(usable, reads):
        if not read.ok:  # no usable log at all: dropped, as AlgoPerf drops a trial without a CSV
            problems.append(Problem(log.path, f"{'; '.join(read.problems)}: trial dropped"))
            continue
        problems.extend(Problem(log.path, message) for message in read.problems)
        reached = read.hit_index >= 0
        rows.append({
            "submission": log.submission, "study": log.study, "workload": log.workload, "trial": log.trial,
            "status": "reached" if reached else "not_reached",
            "time_to_target": read.time if reached else np.nan,
            "steps_to_target": read.steps if reached else np.nan,
            "best_metric": read.best_metric, "path": log.path,
            "hit_index": read.hit_index, "n_evals": read.n_evals, "last_time": read.last_time,
        })
    columns = [*TRIAL_COLUMNS, "hit_index", "n_evals", "last_time"]
    trials = pd.DataFrame.from_records(rows, columns=columns)
    paths: dict[str, str] = {}
    for log in found:
        paths.setdefault(log.submission, log.experiment)
    return ScoringInput(
        trials, list(targets.scored_set), ruleset, paths, problems, choose="first_hit",
        variants=targets.variants, cut_factor=ALGOPERF_CUT_FACTOR, n_workloads=len(targets.base),
        targets=targets,
    )


# ============================================================================ scoreboard


@dataclass
class Scoreboard:
    """Everything one ``optbench score`` computed, ready to print or write."""

    format: str
    ruleset: Ruleset
    clock: Clock
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


def build_scoreboard(
    data: ScoringInput,
    fmt: str,
    clock: Clock = "seconds",
    tau_max: float = DEFAULT_TAU_MAX,
    reference: str | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    expect_studies: int | None = None,
    expect_trials: int | None = None,
) -> Scoreboard:
    """Steps 1-7 (and the bootstrap) on the trials of either format."""
    trials = data.trials.reset_index(drop=True)
    problems = list(data.problems)
    problems += check_counts(trials, data.workloads, data.ruleset, data.submission_paths,
                             expect_studies, expect_trials)
    submissions = sorted(data.submission_paths)
    trials = trials.assign(time=trial_time_to_target(trials, clock))
    studies = study_times(trials, data.choose)
    trials["chosen"] = False
    trials.loc[studies["row"], "chosen"] = True
    medians = workload_times(studies, submissions, data.workloads)
    result = score_times(medians, tau_max, reference, data.variants or None, data.cut_factor, data.n_workloads)
    score_ci, median_ci = (None, None)
    if bootstrap > 0:
        score_ci, median_ci = bootstrap_scores(
            studies, medians, bootstrap, seed, tau_max, reference, data.variants or None, data.cut_factor,
            data.n_workloads,
        )
    summary = _workload_summary(studies, medians, result, median_ci)
    return Scoreboard(fmt, data.ruleset, clock, tau_max, reference, trials.drop(columns="time"), medians,
                      result, summary, problems, score_ci, bootstrap, seed, data.targets)


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
    clock: Clock = "seconds",
    tau_max: float = DEFAULT_TAU_MAX,
    reference: str | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    expect_studies: int | None = None,
    expect_trials: int | None = None,
    exclude: Sequence[Path] = (),
) -> Scoreboard:
    """Read a folder of either format and score it (what ``optbench score`` does)."""
    tau_grid(tau_max)  # reject bad settings before reading anything
    if clock not in ("seconds", "steps"):
        raise OptbenchError(f"--clock {clock}: expected seconds or steps")
    if ruleset not in (None, "external", "self"):
        raise OptbenchError(f"--ruleset {ruleset}: expected external or self")
    if bootstrap < 0:
        raise OptbenchError(f"--bootstrap must be 0 or more (got {bootstrap})")
    if fmt == "algoperf":
        if targets is None:
            raise OptbenchError("--format algoperf needs --targets (AlgoPerf's workload_targets_v05.json or _v06.json)")
        from optbench.algoperf_logs import load_targets

        data = load_algoperf_trials(Path(results), load_targets(targets), ruleset or "external", exclude)
    elif fmt == "optbench":
        if targets is not None:
            raise OptbenchError("--targets is for --format algoperf; our results carry their targets in trial.json")
        data = load_optbench_trials(Path(results), ruleset)
    else:
        raise OptbenchError(f"--format {fmt}: expected optbench or algoperf")
    return build_scoreboard(data, fmt, clock, tau_max, reference, bootstrap, seed, expect_studies, expect_trials)


# ============================================================================ outputs


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def summary_dict(board: Scoreboard, out_dir: Path | None = None) -> dict[str, Any]:
    """The JSON summary (``--json``): settings, workloads, per-submission numbers, problems.
    ``null`` stands for inf (not reached): JSON has no infinity."""
    lb = board.leaderboard
    subs = []
    for sub, row in lb.iterrows():
        entry = {
            "submission": sub, "rank": int(row["rank"]), "score": float(row["score"]),
            "workloads_reached": int(row["workloads_reached"]),
            "time_to_target": {w: _finite_or_none(board.medians.loc[sub, w]) for w in board.medians.columns},
            "ratio": {w: _finite_or_none(board.result.ratios.loc[sub, w]) for w in board.workloads},
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


def write_outputs(board: Scoreboard, out_dir: Path, figure: bool = True) -> list[Path]:
    """Write the CSVs (AlgoPerf's names where AlgoPerf has the file) and the figure.

    ``time_to_targets.csv``: step 3's medians, submission x workload (variants too),
    ``inf`` = not reached; ``scores.csv``; ``performance_profiles.csv`` (submission x tau);
    ``trial_summary.csv`` (one row per trial, ``chosen`` = the trial its study used);
    ``workload_summary.csv``; ``warnings.txt`` when there were problems;
    ``performance_profile.png`` and ``.svg``.
    """
    from optbench.store import atomic_write_text, check_writable

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
    if board.problems:
        files["warnings.txt"] = "".join(f"{p}\n" for p in board.problems)
    written = []
    for name, text in files.items():
        atomic_write_text(out_dir / name, text)
        written.append(out_dir / name)
    if figure:
        from optbench.report.profiles import plot_performance_profiles

        written += plot_performance_profiles(
            board.result.profiles, board.result.scores, out_dir, clock=board.clock, reference=board.reference
        )
    return written


def _duration(value: float, clock: Clock) -> str:
    """Short enough for a table cell: ``12,345`` steps; ``42.0s``, ``12.5m``, ``3.2h``."""
    if clock == "steps":
        return f"{value:,.0f}"
    if value >= 3600:
        return f"{value / 3600:.1f}h"
    return f"{value / 60:.1f}m" if value >= 60 else f"{value:.1f}s"


def _cell(time: float, ratio: float, clock: Clock) -> str:
    """A workload cell: the median time to target over the ratio to the best that was scored
    (``—``: not reached; ``cut``: reached, but beyond tau_max x the best or by the held-out rule)."""
    if not math.isfinite(time):
        return "[dim]—[/dim]"
    return f"{_duration(time, clock)}\n" + (f"×{ratio:.2f}" if math.isfinite(ratio) else "[dim]cut[/dim]")


def leaderboard_table(board: Scoreboard) -> Any:
    """The rich table: rank, submission, score (and interval), workloads reached, then per
    workload the median time to target and its ratio to the best (— = not reached).

    Borderless, and only the workload columns may fold, so that it stays readable in an
    80-column terminal with AlgoPerf's eight workloads."""
    from rich import box
    from rich.table import Table

    lb = board.leaderboard
    clock = "steps" if board.clock == "steps" else "time"
    title = (f"optbench score — {board.format} logs, {board.ruleset} tuning, {clock} to target, "
             f"τmax={board.tau_max:g}" + (f", ratios to {board.reference}" if board.reference else ""))
    table = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1),
                  caption="cells: median over studies of the time to target, ×ratio to the best "
                          "(— not reached; cut: beyond τmax × the best, or the held-out rule)")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("submission", style="bold", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("reached", justify="right", no_wrap=True)
    for w in board.workloads:
        table.add_column(w, justify="right", overflow="fold", min_width=5)
    for row in lb.itertuples():
        score = f"{row.score:.4f}"
        if board.score_ci is not None:
            score += f"\n[dim]{row.score_lo:.2f}–{row.score_hi:.2f}[/dim]"
        cells = [_cell(board.medians.loc[row.Index, w], board.result.ratios.loc[row.Index, w], board.clock)
                 for w in board.workloads]
        table.add_row(str(row.rank), str(row.Index), score, f"{row.workloads_reached}/{row.workloads}", *cells)
    return table


def print_leaderboard(board: Scoreboard, console: Any) -> None:
    """Print :func:`leaderboard_table` whole: on a console narrower than the table's
    minimum width (a pipe is 80 columns) rich would crop workload columns, so it is
    rendered at its minimum width instead (a terminal then wraps its lines)."""
    from rich.measure import Measurement

    table = leaderboard_table(board)
    needed = Measurement.get(console, console.options, table).minimum
    console.print(table, width=max(console.width, needed), crop=False)
