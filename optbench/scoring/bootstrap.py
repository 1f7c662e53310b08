"""Bootstrap intervals over studies: one resampling convention for ``score --bootstrap`` and ``compare``.

The convention: a study is the unit that is repeated (its own seeds, its own search
points), so studies are what is resampled. A cell (one submission on one workload)
with k studies draws k of them with replacement (:func:`draw_studies`), n times,
from a seeded :class:`numpy.random.Generator` (:func:`generator`); each draw gives
the median over the drawn studies (:func:`resampled_medians`), ``inf`` (not reached)
included, as step 3 of the rules does. Intervals are percentiles of the replicates
(:func:`percentile_interval`).

- :func:`bootstrap_scores` (``optbench score --bootstrap N``) resamples every cell, in
  sorted order from one generator, and recomputes steps 4-7 on every replicate for all
  submissions together (a score depends on the others' times);
- :func:`bootstrap_ratio` (``optbench compare``) resamples the two sides of one cell
  from a generator of its own (:func:`generator` with the cell's names, so that one
  pair's interval does not change when other pairs come and go), with the *same* draw
  on both sides when they hold the same studies (paired by seed).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from optbench.scoring.rules import Rules, steps_4_to_7
from optbench.spec import stable_hash

#: Replicates per vectorised pass of :func:`bootstrap_scores`: keeps the (n, S, W, T) boolean array small.
CHUNK = 250


def generator(seed: int, *names: str) -> np.random.Generator:
    """The seeded generator: from ``seed`` alone, or from ``seed`` and ``names`` (one stream per cell)."""
    if not names:
        return np.random.default_rng(seed)
    return np.random.default_rng([seed, int(stable_hash(list(names)), 16)])


def draw_studies(n_studies: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of ``n_studies`` study positions with replacement: shape (n, n_studies)."""
    return rng.integers(0, n_studies, size=(n, n_studies))


def resampled_medians(values: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """The median over the drawn studies, one per draw (``inf`` stays in, as in step 3)."""
    return np.median(values[draws], axis=1)


def percentile_interval(
    samples: np.ndarray, level: float = 0.95, outward: bool = False, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The central ``level`` percentile interval of ``samples`` along ``axis``.

    ``outward``: the order statistics just outside the interval instead of linear
    interpolation between them, so that an interval of times touching ``inf`` is ``inf``
    and never NaN (``inf - inf``).
    """
    alpha = (1 - level) / 2
    low, high = ("lower", "higher") if outward else ("linear", "linear")
    return (np.quantile(samples, alpha, axis=axis, method=low),
            np.quantile(samples, 1 - alpha, axis=axis, method=high))


# ============================================================================ score --bootstrap


def resample_medians(
    studies: pd.DataFrame, submissions: Sequence[str], workloads: Sequence[str], n: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` bootstrap replicates of step 3's medians: shape (n, submissions, workloads).

    Cells without studies stay ``inf``. Cells are visited in sorted order, so a seed
    gives the same numbers on every machine.
    """
    out = np.full((n, len(submissions), len(workloads)), np.inf)
    s_index = {s: i for i, s in enumerate(submissions)}
    w_index = {w: i for i, w in enumerate(workloads)}
    for (sub, wl), values in studies.groupby(["submission", "workload"], sort=True)["time"]:
        if sub in s_index and wl in w_index:
            v = values.to_numpy(float)
            out[:, s_index[sub], w_index[wl]] = resampled_medians(v, draw_studies(len(v), n, rng))
    return out


def bootstrap_scores(
    studies: pd.DataFrame,
    medians: pd.DataFrame,
    n: int,
    seed: int = 0,
    rules: Rules = Rules(),
    level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Intervals from resampling studies: (score interval per submission, median-time
    interval per submission x workload).

    Returns ``score_lo/score_hi`` (percentiles, linear) and, long, ``median_lo/median_hi``
    (outward: ``inf`` never turns into NaN).
    """
    submissions, workloads = list(medians.index), list(medians.columns)
    at = rules.on(submissions, workloads)
    resampled = resample_medians(studies, submissions, workloads, n, generator(seed))
    scores = np.empty((n, len(submissions)))
    for start in range(0, n, CHUNK):
        scores[start : start + CHUNK] = steps_4_to_7(resampled[start : start + CHUNK], at)[3]
    score_lo, score_hi = percentile_interval(scores, level)
    score_ci = pd.DataFrame({"score_lo": score_lo, "score_hi": score_hi},
                            index=pd.Index(submissions, name="submission"))
    lo, hi = percentile_interval(resampled, level, outward=True)
    median_ci = pd.concat(
        {"median_lo": _long(lo, submissions, workloads), "median_hi": _long(hi, submissions, workloads)}, axis=1
    ).reset_index()
    return score_ci, median_ci


def _long(values: np.ndarray, submissions: Sequence[str], workloads: Sequence[str]) -> pd.Series:
    frame = pd.DataFrame(values, index=pd.Index(submissions, name="submission"),
                         columns=pd.Index(workloads, name="workload"))
    return frame.stack()


# ============================================================================ compare


def bootstrap_ratio(
    base: pd.Series, cand: pd.Series, n: int, rng: np.random.Generator, level: float = 0.95
) -> tuple[tuple[float, float] | None, bool]:
    """Percentile interval (outward) of median(candidate) / median(baseline) over resampled studies.

    ``base``/``cand``: per-study times indexed by study number. When both sides hold the
    same studies, the resampling is *paired*: study j ran with the same seeds on both
    sides (seeds derive from the base seed, workload, study and trial), so the same draw
    of study numbers is used for both, which removes the seed-to-seed spread that both
    share. Otherwise each side is resampled on its own. Ratios inf/inf are dropped.
    Returns (interval or None, paired).
    """
    b, c = base.sort_index(), cand.sort_index()
    paired = list(b.index) == list(c.index)
    bv, cv = b.to_numpy(float), c.to_numpy(float)
    b_draw = draw_studies(len(bv), n, rng)
    c_draw = b_draw if paired else draw_studies(len(cv), n, rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = resampled_medians(cv, c_draw) / resampled_medians(bv, b_draw)
    ratio = ratio[~np.isnan(ratio)]
    if ratio.size == 0:
        return None, paired
    low, high = percentile_interval(ratio, level, outward=True)
    return (float(low), float(high)), paired
