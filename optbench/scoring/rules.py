"""AlgoPerf's scoring rules (docs/design.md §6), one numbered function per step, each tested on its own.

1. :func:`trial_time_to_target` -- per trial: time (or steps) to target, ``inf`` if not reached;
2. :func:`study_times` -- per study: external tuning -> the best of its trials; self-tuning ->
   its one trial. (``choose="first_hit"`` is AlgoPerf's rule: the trial that reaches the
   target at the smallest *eval index*, which is not always the smallest time; trials tied
   on that index go to the smaller time at it);
3. :func:`workload_times` -- per workload: the median over studies, ``inf`` included, so a
   submission must reach the target in more than half of its studies to get a finite time;
4. :func:`cut` -- a time above ``tau_max`` x the best submission's becomes ``inf``
   (AlgoPerf v0.5: :func:`held_out` wraps this step with the held-out rule);
5. :func:`ratios` -- r = t / best t (or / the ``reference`` submission's t);
6. :func:`profiles` -- rho_s(tau) = share of workloads with r <= tau, on
   :func:`tau_grid` = ``linspace(1, tau_max, 100)``;
7. :func:`areas` -- score = trapezoid area under rho_s / (tau_max - 1), in [0, 1].

Steps 1-3 group trials, which is what pandas is for. Steps 4-7 are written once, on
numpy arrays with any leading batch axes (axis -2 = submissions, -1 = workloads), and
:func:`steps_4_to_7` chains them as :class:`Rules` say: :func:`score_times` calls it on
one table of workload times, :func:`optbench.scoring.bootstrap.bootstrap_scores` on a thousand resampled
tables at once. The DataFrame functions (:func:`cut_above_tau`, :func:`ratios_to_best`
...) only put names back on the arrays.

Missing data is ``inf`` throughout (never NaN): a submission with no logs for a
workload did not reach its target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from optbench.errors import OptbenchError
from optbench.spec import TrialStatus

#: What a score compares: ``wall`` or ``cpu`` seconds of submission time to target, or steps to
#: target (see :class:`optbench.spec.Clock`). Scores use the clock the run counted unless told
#: otherwise; ``seconds`` (from the command line) means the run's own seconds, wall or cpu.
ScoreClock = Literal["wall", "cpu", "steps"]
SCORE_CLOCKS: tuple[str, ...] = ("wall", "cpu", "steps")
#: How each clock's quantity reads in tables and on axes.
CLOCK_UNITS = {"wall": "wall seconds", "cpu": "CPU seconds", "steps": "steps"}
Ruleset = Literal["external", "self"]
Choose = Literal["time", "first_hit"]

DEFAULT_TAU_MAX = 4.0
NUM_TAUS = 100
#: AlgoPerf's scorer cuts at 4 x the best time whatever ``max_tau`` it integrates to.
ALGOPERF_CUT_FACTOR = 4.0
STUDY_KEY = ["submission", "workload", "study"]


# ============================================================================ steps 1-3: grouping trials


def recorded_clocks(trials: pd.DataFrame) -> set[str]:
    """The clocks the trials' budgets counted (results older than the clocks, and AlgoPerf's
    logs, counted wall seconds)."""
    if "clock" not in trials or trials.empty:
        return {"wall"}
    return {str(c) for c in trials["clock"].fillna("wall")}


def resolve_clock(requested: str | None, trials: pd.DataFrame) -> ScoreClock:
    """The clock to score on: ``requested``, or the one the run counted (``None``); ``seconds``
    is the run's own seconds, wall or cpu. Trials that counted different time clocks cannot be
    put on one seconds axis without saying which."""
    recorded = recorded_clocks(trials)
    if requested in SCORE_CLOCKS:
        return requested  # type: ignore[return-value]
    if requested not in (None, "seconds"):
        raise OptbenchError(f"--clock {requested}: expected wall, cpu or steps")
    if requested is None and recorded == {"steps"}:
        return "steps"
    seconds = recorded - {"steps"}
    if len(seconds) > 1:
        raise OptbenchError(f"these trials counted different clocks ({', '.join(sorted(recorded))}): pass "
                            "--clock wall, cpu or steps to say which to score")
    return seconds.pop() if seconds else "wall"  # type: ignore[return-value]


def trial_time_to_target(trials: pd.DataFrame, clock: ScoreClock = "wall") -> pd.Series:
    """Step 1: one number per trial, its time (``clock="steps"``: steps) to target, else ``inf``.

    Only ``status == "reached"`` counts: a diverged or failed trial that logged a time
    anyway did not reach the target. ``wall``/``cpu`` read that clock's seconds at the eval
    that hit the target, whichever clock the run's budget counted (results older than the
    clocks have only ``time_to_target``, which is the seconds of the clock they counted).
    """
    if clock == "steps":
        values = pd.to_numeric(trials["steps_to_target"], errors="coerce").astype(float)
    else:
        column = f"{clock}_time_to_target"
        values = pd.to_numeric(trials[column], errors="coerce").astype(float) if column in trials \
            else pd.Series(np.nan, index=trials.index)
        own = trials["clock"].fillna("wall") if "clock" in trials else pd.Series("wall", index=trials.index)
        counted = pd.to_numeric(trials["time_to_target"], errors="coerce").astype(float)
        values = values.fillna(counted.where(own.eq(clock)))
    reached = trials["status"].eq(TrialStatus.REACHED.value) & np.isfinite(values)
    return values.where(reached, np.inf).rename("time")


def study_times(trials: pd.DataFrame, choose: Choose = "time") -> pd.DataFrame:
    """Step 2: one time per (submission, workload, study), and which trial gave it.

    ``trials`` needs ``submission, workload, study, time`` (and ``hit_index`` for
    ``choose="first_hit"``). ``choose="time"``: the smallest time (external tuning:
    the best of the study's trials; self-tuning: its one trial). ``"first_hit"``:
    AlgoPerf's rule, the trial whose *first eval reaching the target* has the smallest
    index; its time is taken even when another trial reached it sooner in seconds.
    Trials that first reach it at the *same* eval index are tied by their time at that eval
    (the faster one wins): AlgoPerf's scorer takes whichever its directory listing returns
    first, which is arbitrary, and the lower trial number is no better a reason.
    A study none of whose trials reached the target chooses the trial that came closest
    (the best ``best_metric`` in the direction of ``target_mode``, when the trials carry
    them): it is the one whose curve the report draws. Other ties go to the earlier row
    (rows come sorted by folder, then trial number).

    Returns columns ``submission, workload, study, time, row`` (``row``: the index label
    of the chosen trial in ``trials``).
    """
    chosen = rank_trials(trials, choose).groupby(STUDY_KEY, sort=False).head(1)
    return chosen[[*STUDY_KEY, "time", "row"]].reset_index(drop=True)


def rank_trials(trials: pd.DataFrame, choose: Choose = "time") -> pd.DataFrame:
    """Step 2's order: ``trials`` sorted by study, then best first by the rule of
    :func:`study_times` (which takes each study's first row), with ``row`` = the index label.

    The whole order, not just its head, is what a tuning curve needs: the best of k trials
    drawn from a study is the drawn trial that comes first here
    (:mod:`optbench.scoring.tuning_curve`).
    """
    if choose == "first_hit":
        hit = pd.to_numeric(trials["hit_index"]).astype(float)
        order = hit.where(hit >= 0, np.inf).to_numpy()
    else:
        order = trials["time"].to_numpy(dtype=float)
    closeness = np.zeros(len(trials))
    if "best_metric" in trials and "target_mode" in trials:
        best = pd.to_numeric(trials["best_metric"], errors="coerce").to_numpy(float)
        sign = np.where(trials["target_mode"].to_numpy() == "max", -1.0, 1.0)
        closeness = np.where(np.isfinite(best), sign * best, np.inf)
    ranked = trials.assign(_order=order, _close=closeness, _pos=np.arange(len(trials)), row=trials.index)
    # the time breaks ties of first_hit (same eval index: the faster trial); under "time" it is the order itself
    ranked = ranked.sort_values([*STUDY_KEY, "_order", "time", "_close", "_pos"], kind="stable")
    return ranked.drop(columns=["_order", "_close", "_pos"])


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


# ============================================================================ steps 4-7 on arrays


def cut(times: np.ndarray, factor: float) -> np.ndarray:
    """Step 4: a time more than ``factor`` x the workload's best time becomes ``inf``.

    Why: beyond ``tau_max`` the profile no longer looks, so such a time must not count
    as reached anywhere else (the held-out rule, the 'reached' column).
    """
    best = times.min(axis=-2, keepdims=True)
    with np.errstate(invalid="ignore"):
        return np.where(times > factor * best, np.inf, times)


def held_out(times: np.ndarray, pairs: Sequence[tuple[int, int]], factor: float) -> np.ndarray:
    """Step 4 with AlgoPerf v0.5's held-out rule; ``pairs`` = (variant column, base column).

    In AlgoPerf's order: (a) a variant becomes ``inf`` where its base is ``inf``;
    (b) the ``factor`` x best cut, on every column (variants included, so (a) can move a
    variant's best); (c) a base becomes ``inf`` where its variant is ``inf``. All columns
    are kept: the caller drops the variants, which gate their base but are never scored.
    """
    times = times.copy()
    for variant, base in pairs:
        times[..., variant] = np.where(np.isfinite(times[..., base]), times[..., variant], np.inf)
    times = cut(times, factor)
    for variant, base in pairs:
        times[..., base] = np.where(np.isfinite(times[..., variant]), times[..., base], np.inf)
    return times


def ratios(times: np.ndarray, reference: int | None = None) -> np.ndarray:
    """Step 5: r = t / (best t on that workload), or t / (the ``reference`` row's t).

    ``inf / inf`` (nobody reached it) is NaN and never counts as r <= tau. With a
    reference that missed a workload, a submission that reached it gets r = 0 (it
    counts at every tau: it did better than the reference).
    """
    denominator = times.min(axis=-2, keepdims=True) if reference is None else times[..., reference : reference + 1, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        return times / denominator


def tau_grid(tau_max: float = DEFAULT_TAU_MAX, num: int = NUM_TAUS) -> np.ndarray:
    """The taus at which profiles are evaluated: ``linspace(1, tau_max, num)``, as AlgoPerf."""
    if not (tau_max > 1 and np.isfinite(tau_max)):
        raise OptbenchError(f"--tau-max must be a finite number greater than 1 (got {tau_max})")
    return np.linspace(1.0, float(tau_max), num)


def profiles(ratios: np.ndarray, taus: np.ndarray, n_workloads: int) -> np.ndarray:
    """Step 6: rho_s(tau) = (number of workloads with r <= tau) / ``n_workloads``: (..., S, W) -> (..., S, T).

    AlgoPerf divides by the number of base workloads of the benchmark version, whether
    or not they appear in the logs; so ``n_workloads`` is a parameter, not the width.
    """
    with np.errstate(invalid="ignore"):
        within = ratios[..., None] <= taus
    return within.sum(axis=-2) / max(n_workloads, 1)


def areas(profiles: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """Step 7: the area under each profile divided by (tau_max - 1): 1 = best everywhere."""
    return np.trapezoid(profiles, taus, axis=-1) / (taus[-1] - taus[0])


@dataclass(frozen=True)
class Rules:
    """Which choices steps 4-7 make, by name: one value for a score and its bootstrap.

    ``cut_factor`` defaults to ``tau_max``; ``variants`` (held-out -> base) switches on
    :func:`held_out` and leaves the variant columns out of the score; ``n_workloads`` is
    the profile's denominator (default: the scored columns). AlgoPerf's logs set the last
    three (:func:`optbench.scoring.algoperf_logs.load_algoperf_trials`).
    """

    tau_max: float = DEFAULT_TAU_MAX
    reference: str | None = None  #: the submission ratios are taken to (None: the best)
    variants: Mapping[str, str] = field(default_factory=dict)
    cut_factor: float | None = None
    n_workloads: int | None = None

    def on(self, submissions: Sequence[str], workloads: Sequence[str]) -> Positions:
        """These rules for a table of ``submissions`` x ``workloads``: names become positions."""
        taus = tau_grid(self.tau_max)
        submissions, workloads = list(submissions), list(workloads)
        if self.reference is not None and self.reference not in submissions:
            raise OptbenchError(f"--reference {self.reference}: no such submission "
                                f"(have: {', '.join(map(str, submissions))})")
        pairs = _pairs(self.variants, workloads)
        keep = tuple(i for i, w in enumerate(workloads) if w not in self.variants) if self.variants else None
        return Positions(taus, self.tau_max if self.cut_factor is None else self.cut_factor, pairs, keep,
                         None if self.reference is None else submissions.index(self.reference), self.n_workloads)


def _pairs(variants: Mapping[str, str], workloads: list[str]) -> tuple[tuple[int, int], ...]:
    """(variant, base) column positions of the held-out pairs that are both in ``workloads``."""
    return tuple((workloads.index(v), workloads.index(b)) for v, b in variants.items()
                 if v in workloads and b in workloads)


@dataclass(frozen=True)
class Positions:
    """:class:`Rules` on one table's rows and columns (positions, not names), for the array steps."""

    taus: np.ndarray
    factor: float  #: the cut: times above factor x the best become inf
    pairs: tuple[tuple[int, int], ...] = ()  #: held-out (variant, base) columns; () = a plain cut
    keep: tuple[int, ...] | None = None  #: the scored columns (None: all)
    reference: int | None = None  #: row the ratios are taken to (None: the best)
    n_workloads: int | None = None  #: the profile's denominator (None: the scored columns)


def steps_4_to_7(times: np.ndarray, at: Positions) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Workload times (..., S, W) -> (scored times, ratios, profiles (..., S, T), scores (..., S)).

    The scored times are after the cut (and the held-out rule), on the kept columns only.
    """
    times = held_out(times, at.pairs, at.factor) if at.pairs else cut(times, at.factor)
    if at.keep is not None:
        times = times[..., list(at.keep)]
    r = ratios(times, at.reference)
    n = times.shape[-1] if at.n_workloads is None else at.n_workloads
    rho = profiles(r, at.taus, n)
    return times, r, rho, areas(rho, at.taus)


# ============================================================================ the same on named tables


def cut_above_tau(times: pd.DataFrame, factor: float = DEFAULT_TAU_MAX) -> pd.DataFrame:
    """:func:`cut` on a named table (submission x workload)."""
    return pd.DataFrame(cut(times.to_numpy(float), factor), index=times.index, columns=times.columns)


def apply_held_out_rule(
    times: pd.DataFrame, variants: Mapping[str, str], factor: float = ALGOPERF_CUT_FACTOR
) -> pd.DataFrame:
    """:func:`held_out` on a named table (``variants``: held-out -> base); returns the base workloads only."""
    columns = list(times.columns)
    out = pd.DataFrame(held_out(times.to_numpy(float), _pairs(variants, columns), factor), index=times.index,
                       columns=columns)
    return out[[c for c in columns if c not in variants]]


def ratios_to_best(times: pd.DataFrame, reference: str | None = None) -> pd.DataFrame:
    """:func:`ratios` on a named table; ``reference``: a submission's name."""
    ref = None if reference is None else list(times.index).index(reference)
    return pd.DataFrame(ratios(times.to_numpy(float), ref), index=times.index, columns=times.columns)


def performance_profiles(ratios: pd.DataFrame, taus: np.ndarray, n_workloads: int | None = None) -> pd.DataFrame:
    """:func:`profiles` on a named table; index = submission, columns = taus (AlgoPerf's layout).
    ``n_workloads`` defaults to the number of columns."""
    n = ratios.shape[1] if n_workloads is None else n_workloads
    return _profile_frame(profiles(ratios.to_numpy(float), np.asarray(taus, float), n), ratios.index, taus)


def scores_from_profiles(profiles: pd.DataFrame) -> pd.Series:
    """:func:`areas` on a named table of profiles (columns = taus)."""
    taus = profiles.columns.to_numpy(float)
    return pd.Series(areas(profiles.to_numpy(float), taus), index=profiles.index, name="score")


def _profile_frame(rho: np.ndarray, submissions: pd.Index, taus: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(rho, index=submissions, columns=pd.Index(taus, name="tau"))


@dataclass
class ProfileResult:
    """Steps 4-7 on one table of workload times."""

    times: pd.DataFrame  #: after the cut (and the held-out rule): the times that are scored
    ratios: pd.DataFrame
    taus: np.ndarray
    profiles: pd.DataFrame
    scores: pd.Series


def score_times(times: pd.DataFrame, rules: Rules = Rules()) -> ProfileResult:
    """Steps 4-7: workload times (submission x workload, ``inf`` = missed) -> scores."""
    at = rules.on(times.index, times.columns)
    scored, r, rho, scores = steps_4_to_7(times.to_numpy(float), at)
    columns = times.columns if at.keep is None else times.columns[list(at.keep)]
    return ProfileResult(
        pd.DataFrame(scored, index=times.index, columns=columns), pd.DataFrame(r, index=times.index, columns=columns),
        at.taus, _profile_frame(rho, times.index, at.taus), pd.Series(scores, index=times.index, name="score"),
    )
