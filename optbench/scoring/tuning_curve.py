"""Tuning-cost curves: what a submission scores when a user can afford only k of a study's N trials.

AlgoPerf fixes the tuning budget (5 trials) and reports one number; a submission that wins
only because one of its five search points is lucky looks as good as one that wins with any
of them. The curve makes the difference visible (Dodge et al. 2019, Lourie et al. 2023).

The estimator is exact, no resampling: draw k of a study's N trials without replacement,
every subset equally likely. Step 2 of the rules orders the study's trials best first
(:func:`optbench.scoring.rules.rank_trials`: the smallest time, or AlgoPerf's first eval
index), and the best of the k drawn is the drawn trial that comes first in that order. So
the i-th trial (0-based) is the best of the k exactly when it is drawn and none of the i
before it is:

    P(best of k = trial i) = C(N - 1 - i, k - 1) / C(N, k)          (:func:`best_of_k_weights`)

From that distribution, per study and k: the expected best time (``inf`` as soon as a draw
of k trials can miss the target: misses are ``inf``), its median (what the curve draws, and
finite once more than half of the draws reach the target), and the chance that at least one
of the k reaches the target. At k = N every draw is the whole study, so each of these is the
study's own time, and the score at k = N is the leaderboard's.

Per submission and workload the studies' medians go through step 3 (median over studies)
and the band is their range (min to max over studies). The score at k runs steps 3-7 on
every study's median best-of-k time, all submissions at the same k (a score depends on the
others' times).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import comb

import numpy as np
import pandas as pd

from optbench.scoring.rules import STUDY_KEY, Choose, Rules, rank_trials, score_times, workload_times

CURVE_KEY = ["submission", "workload", "k"]


def best_of_k_weights(n: int, k: int) -> np.ndarray:
    """P(the best of k trials drawn without replacement from n is the i-th in step 2's order), i = 0..n-1.

    Sums to 1 for 1 <= k <= n; all the weight is on i = 0 at k = n.
    """
    if not 1 <= k <= n:
        raise ValueError(f"k must be in 1..{n} (got {k})")
    total = comb(n, k)
    return np.array([comb(n - 1 - i, k - 1) / total for i in range(n)])


@dataclass(frozen=True)
class BestOfK:
    """The best of k drawn trials of one study, from the exact distribution."""

    expected: float  #: expected time; inf when some draw of k misses the target
    median: float  #: the smallest time t with P(best <= t) >= 1/2
    p_reach: float  #: P(at least one of the k reaches the target)


def best_of_k(ranked_times: Sequence[float], k: int) -> BestOfK:
    """The best of ``k`` of a study's trials; ``ranked_times``: the trials' times in step 2's
    order (best first), ``inf`` = missed."""
    times = np.asarray(ranked_times, dtype=float)
    weights = best_of_k_weights(len(times), k)
    finite = np.isfinite(times)
    on = weights > 0
    expected = float(np.sum(weights[finite] * times[finite])) if not np.any(on & ~finite) else np.inf
    by_time = np.argsort(times, kind="stable")
    cumulative = np.cumsum(weights[by_time])
    median = float(times[by_time][np.searchsorted(cumulative, 0.5 - 1e-12)])
    misses = int(np.sum(~finite))  # all k drawn among the misses: C(misses, k) of C(N, k) draws
    return BestOfK(expected, median, 1.0 - comb(misses, k) / comb(len(times), k))


def study_curves(trials: pd.DataFrame, choose: Choose = "time") -> pd.DataFrame:
    """Per study and k = 1..N (its own N): ``expected_time, median_time, p_reach``.

    ``trials`` needs the columns step 2 needs (``submission, workload, study, time``, and
    ``hit_index`` for ``choose="first_hit"``).
    """
    rows = []
    for (sub, wl, study), group in rank_trials(trials, choose).groupby(STUDY_KEY, sort=True):
        times = group["time"].to_numpy(float)
        for k in range(1, len(times) + 1):
            b = best_of_k(times, k)
            rows.append((sub, wl, study, k, len(times), b.expected, b.median, b.p_reach))
    return pd.DataFrame(rows, columns=[*STUDY_KEY, "k", "n_trials", "expected_time", "median_time", "p_reach"])


def _extend(per_study: pd.DataFrame) -> pd.DataFrame:
    """Every study to the largest k of all: a study with fewer trials keeps its value at its
    own N (it cannot afford more), so all studies and submissions are compared at every k."""
    if per_study.empty:
        return per_study
    top = int(per_study["k"].max())
    out = [study.set_index("k").reindex(range(1, top + 1)).ffill().rename_axis("k").reset_index()
           for _, study in per_study.groupby(STUDY_KEY, sort=True)]
    return pd.concat(out, ignore_index=True)


@dataclass(frozen=True)
class TuningCurves:
    """``optbench score --tuning-curve``: per study, per workload, and the score, against k."""

    per_study: pd.DataFrame  #: :func:`study_curves`
    per_workload: pd.DataFrame  #: CURVE_KEY + expected_time, median_time, time_lo, time_hi, p_reach, studies
    scores: pd.DataFrame  #: submission x k (columns 1..K): the score with k trials per study

    def table(self) -> pd.DataFrame:
        """One long table for the CSV: per_workload, plus the score at each (submission, k)."""
        score = self.scores.stack().rename("score").reset_index()
        return self.per_workload.merge(score, on=["submission", "k"], how="left")


def tuning_curves(
    trials: pd.DataFrame,
    choose: Choose,
    submissions: Sequence[str],
    workloads: Sequence[str],
    rules: Rules = Rules(),
) -> TuningCurves:
    """The curves of every submission on every workload, and the score at each k."""
    per_study = _extend(study_curves(trials, choose))
    grouped = per_study.groupby(CURVE_KEY, sort=True)
    per_workload = pd.DataFrame({
        "expected_time": grouped["expected_time"].median(),
        "median_time": grouped["median_time"].median(),
        "time_lo": grouped["median_time"].min(),
        "time_hi": grouped["median_time"].max(),
        "p_reach": grouped["p_reach"].mean(),
        "studies": grouped.size(),
    }).reset_index()
    top = int(per_study["k"].max()) if len(per_study) else 0
    scores = {}
    for k in range(1, top + 1):
        at_k = per_study[per_study["k"] == k].rename(columns={"median_time": "time"})
        scores[k] = score_times(workload_times(at_k, submissions, workloads), rules).scores
    frame = pd.DataFrame(scores, index=pd.Index(list(submissions), name="submission"))
    frame.columns.name = "k"
    return TuningCurves(per_study, per_workload, frame)
