"""How sure is a claim? Paired tests of time to target, and the NanoGPT-speedrun check.

1. :func:`pairwise_tests` -- per workload and pair of submissions, "A reaches the target
   faster than B" as a one-sided paired permutation test over studies (scipy's
   ``permutation_test``, exact when 2^n <= :data:`RESAMPLES`). Study j of A and study j of B
   ran with the same seeds, so they are paired. A miss is ``inf``, which no difference of
   seconds can hold, so the test is on ranks: the 2n times are ranked together (misses tie
   for last), and the statistic is the mean over studies of rank(A_j) - rank(B_j). Swapping
   A_j and B_j is what the null hypothesis allows. Identical trials give every swap the
   same statistic, so p = 1; A faster in all n studies gives p = 2^-n (n = 7 studies for
   p < 0.01). The direction tested is the one the medians point to (the faster median is A):
   double a p-value to read it two-sided.
2. :func:`speedrun_checks` -- per submission and workload, the NanoGPT speedrun's rule for a
   record: a one-sided one-sample t-test (scipy's ``ttest_1samp``) that the mean final metric
   over studies beats the target, and the number of runs that would give p < 0.01 at the
   observed mean and spread. The final metric of a study is its chosen trial's best eval
   metric within budget (``best_metric``; a trial that stops at the target ends there).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

#: Resamples of the permutation test beyond the exact range (2^n sign swaps).
RESAMPLES = 20_000
#: The speedrun's threshold for a record.
ALPHA = 0.01
#: Runs needed beyond this are reported as "more than".
MAX_RUNS = 100_000


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x - y, axis=axis)


def paired_rank_test(a: np.ndarray, b: np.ndarray, seed: int = 0) -> float:
    """p-value of "a is faster than b" (one-sided), pairs (a_j, b_j); ``inf`` = missed."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ranks = stats.rankdata(np.concatenate([a, b]))
    ra, rb = ranks[: len(a)], ranks[len(a):]
    if np.all(ra == rb):
        return 1.0
    if len(a) == 1:  # the two signs of one difference (scipy wants two pairs or more)
        return 0.5 if ra[0] < rb[0] else 1.0
    result = stats.permutation_test((ra, rb), _mean_difference, permutation_type="samples", alternative="less",
                                    n_resamples=RESAMPLES, vectorized=True, rng=np.random.default_rng(seed))
    return float(result.pvalue)


def pairwise_tests(studies: pd.DataFrame, order: list[str] | None = None, seed: int = 0) -> pd.DataFrame:
    """Every workload x pair of submissions that share studies: ``workload, faster, slower,
    studies, wins, losses, ties, median_faster, median_slower, p_value`` (H1: ``faster`` reaches
    the target sooner than ``slower``; ``faster`` is the one with the smaller median, ties by
    ``order``). ``studies``: step 2's table (``submission, workload, study, time``)."""
    rows = []
    rank_of = {s: i for i, s in enumerate(order or sorted(studies["submission"].unique()))}
    for wl, cell in studies.groupby("workload", sort=True):
        wide = cell.pivot_table(index="study", columns="submission", values="time", aggfunc="first")
        subs = sorted(wide.columns, key=lambda s: rank_of.get(s, len(rank_of)))
        for x, y in combinations(subs, 2):
            pair = wide[[x, y]].dropna()
            if pair.empty:
                continue
            mx, my = float(np.median(pair[x])), float(np.median(pair[y]))
            a, b = (x, y) if not my < mx else (y, x)
            ta, tb = pair[a].to_numpy(float), pair[b].to_numpy(float)
            with np.errstate(invalid="ignore"):
                wins, losses = int(np.sum(ta < tb)), int(np.sum(ta > tb))
            rows.append((wl, a, b, len(pair), wins, losses, len(pair) - wins - losses, float(np.median(ta)),
                         float(np.median(tb)), paired_rank_test(ta, tb, seed)))
    return pd.DataFrame(rows, columns=["workload", "faster", "slower", "studies", "wins", "losses", "ties",
                                       "median_faster", "median_slower", "p_value"])


@dataclass(frozen=True)
class Speedrun:
    """The speedrun check of one submission on one workload."""

    runs: int
    mean: float
    std: float
    target: float
    p_value: float  #: one-sided: the mean beats the target
    runs_needed: int | None  #: for p < ALPHA at this mean and spread (None: the mean does not beat the target)


def speedrun_check(values: np.ndarray, target: float, minimize: bool) -> Speedrun:
    """One-sided t-test that the mean of ``values`` beats ``target`` (below it when
    ``minimize``), and the runs that would make p < :data:`ALPHA` at the same mean and spread."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    n = len(v)
    mean = float(np.mean(v)) if n else float("nan")
    std = float(np.std(v, ddof=1)) if n > 1 else float("nan")
    margin = (target - mean) if minimize else (mean - target)
    if n < 2 or not np.isfinite(margin):
        return Speedrun(n, mean, std, target, float("nan"), None)
    if std <= 1e-12 * max(1.0, abs(mean)):  # no spread (up to rounding): the sign of the margin decides
        return Speedrun(n, mean, std, target, 0.0 if margin > 0 else 1.0, 2 if margin > 0 else None)
    p = float(stats.ttest_1samp(v, target, alternative="less" if minimize else "greater").pvalue)
    needed = None
    if margin > 0:
        effect = margin / std
        needed = next((m for m in range(2, MAX_RUNS + 1)
                       if stats.t.sf(effect * np.sqrt(m), m - 1) < ALPHA), MAX_RUNS + 1)
    return Speedrun(n, mean, std, target, p, needed)


def speedrun_checks(chosen: pd.DataFrame) -> pd.DataFrame:
    """Per submission x workload over the studies' chosen trials (``best_metric``,
    ``target_value``, ``target_mode``): runs, mean, std, target, p_value, runs_needed."""
    rows = []
    for (sub, wl), cell in chosen.groupby(["submission", "workload"], sort=True):
        target = pd.to_numeric(cell["target_value"], errors="coerce").dropna()
        if target.empty:
            continue
        check = speedrun_check(pd.to_numeric(cell["best_metric"], errors="coerce").to_numpy(float),
                               float(target.iloc[0]), str(cell["target_mode"].iloc[0]) == "min")
        rows.append((sub, wl, check.runs, check.mean, check.std, check.target, check.p_value, check.runs_needed))
    return pd.DataFrame(rows, columns=["submission", "workload", "runs", "mean_metric", "std_metric", "target",
                                       "p_value", "runs_needed"])


@dataclass(frozen=True)
class Significance:
    """``optbench score --stats``: the pairwise tests and the speedrun checks."""

    pairs: pd.DataFrame
    speedrun: pd.DataFrame
