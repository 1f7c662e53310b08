"""Which hyperparameters matter: per submission and workload of an external-tuning run, each
varying hyperparameter's |Spearman rank correlation| with the trials' outcome.

Why this rule: it is simple enough to state in a caption and to check by hand, it needs no
model of the response surface (5 trials per study cannot fit one), and being rank-based it
is the same whether a hyperparameter is read on a log or a linear scale. Its limit, said
where the figure is shown: a dependence that is not monotone (a learning rate with an
optimum inside the searched range) correlates weakly with the outcome; the scatter shows it.

- **The outcome of a trial** is a rank, 1 = best: the trials that reached the target first,
  by time (or steps) to target on the scoring clock; then the ones that missed, by their
  best metric (the closer to the target's direction, the better); then those without a
  metric (diverged, failed). Ties share their average rank (``scipy.stats.rankdata``).
- **A hyperparameter counts** when its value is a number (not a bool) in every trial of the
  group and takes at least two values. Its importance is ``|rho|`` of
  ``scipy.stats.spearmanr(value, outcome rank)`` over every trial of every study (NaN,
  when the outcome is the same for all, counts as 0). The two largest are drawn; ties go
  to the name first in alphabetical order.
- **Log axes** for a hyperparameter the submission's search space declares ``scaling: log``;
  where the space is not readable (or the name is a list of points), a positive
  hyperparameter spanning two decades or more (max/min >= 100) is drawn on log axes.

Nothing here prints or draws (:func:`optbench.report.analysis_figures.scatter_figure` does).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optbench.errors import OptbenchError
from optbench.scoring.rules import STUDY_KEY, ScoreClock, trial_time_to_target
from optbench.spec import SearchSpace

#: Without a search space: a positive hyperparameter spanning this factor or more gets log axes.
LOG_SPAN = 100.0
#: Hyperparameters drawn per scatter.
SHOWN = 2


@dataclass(frozen=True)
class Importance:
    """One submission on one workload: its trials, and its hyperparameters by importance."""

    submission: str
    workload: str
    #: one row per trial: study, trial, one column per ranked hyperparameter, ``time`` (inf =
    #: missed), ``reached``, ``best_metric``, ``outcome`` (rank, 1 = best), ``chosen`` (its study's best)
    trials: pd.DataFrame
    #: most important first: ``hyperparameter``, ``rho``, ``p_value``, ``importance`` (|rho|), ``log``
    ranking: pd.DataFrame
    mode: str  #: the target's direction, min or max (for the best metric of misses)
    metric: str  #: the target metric's name ("" when unknown)

    @property
    def top(self) -> list[str]:
        """The (at most) two most important hyperparameters."""
        return [str(h) for h in self.ranking["hyperparameter"].head(SHOWN)]

    def is_log(self, name: str) -> bool:
        return bool(self.ranking.set_index("hyperparameter").loc[name, "log"])


def outcome_ranks(time: Any, best_metric: Any, mode: str) -> np.ndarray:
    """The trials' outcome as ranks, 1 = best (see the module docstring): reached (finite
    ``time``) by time, then missed by best metric towards ``mode`` (min or max), then no metric."""
    from scipy.stats import rankdata

    time = np.asarray(time, dtype=float)
    metric = np.asarray(best_metric, dtype=float)
    reached = np.isfinite(time)
    has_metric = ~reached & np.isfinite(metric)
    keyed = metric if mode == "min" else -metric
    ranks = np.empty(len(time))
    offset = 0
    for mask, values in ((reached, time), (has_metric, keyed), (~reached & ~has_metric, np.zeros(len(time)))):
        count = int(mask.sum())
        if count:
            ranks[mask] = offset + rankdata(values[mask])
            offset += count
    return ranks


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def numeric_hparams(hparams: pd.Series) -> pd.DataFrame:
    """The hyperparameters (dicts, one per trial) that are a number in every trial and take
    at least two values, as columns."""
    dicts = [h if isinstance(h, Mapping) else {} for h in hparams]
    names = sorted({str(k) for h in dicts for k in h})
    columns = {}
    for name in names:
        values = [_number(h.get(name)) for h in dicts]
        if any(v is None for v in values) or len(set(values)) < 2:
            continue
        columns[name] = values
    return pd.DataFrame(columns, index=hparams.index, dtype=float)


def declared_log(space: SearchSpace | None) -> dict[str, bool]:
    """name -> is it a log range, for every range of the search space (others are not declared)."""
    if space is None:
        return {}
    return {p.name: p.scaling == "log" for p in space.params if p.kind == "range"}


def log_axis(values: Any, declared: bool | None) -> bool:
    """Log axes: as declared; otherwise positive values spanning :data:`LOG_SPAN` or more."""
    if declared is not None:
        return declared
    v = np.asarray(values, dtype=float)
    return bool(len(v) and (v > 0).all() and v.max() / v.min() >= LOG_SPAN)


def rank_hparams(values: pd.DataFrame, outcome: np.ndarray, declared: Mapping[str, bool] | None = None) -> pd.DataFrame:
    """Every column of ``values`` by importance, |Spearman rho| with ``outcome`` (ties: by name)."""
    from scipy.stats import spearmanr

    rows = []
    for name in values.columns:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # constant outcome: scipy warns and returns NaN
            rho, p = spearmanr(values[name].to_numpy(float), outcome)
        rho, p = float(rho), float(p)
        rows.append({"hyperparameter": name, "rho": rho, "p_value": p,
                     "importance": abs(rho) if math.isfinite(rho) else 0.0,
                     "log": log_axis(values[name], (declared or {}).get(name))})
    table = pd.DataFrame(rows, columns=["hyperparameter", "rho", "p_value", "importance", "log"])
    return table.sort_values(["importance", "hyperparameter"], ascending=[False, True], kind="stable") \
        .reset_index(drop=True)


def importances(trials: pd.DataFrame, hparams: pd.Series, clock: ScoreClock,
                spaces: Mapping[str, SearchSpace | None] | None = None) -> list[Importance]:
    """Per (submission, workload) with more than one trial in some study and at least one
    varying numeric hyperparameter: the trials and the ranking.

    ``trials``: a scoreboard's (``submission, workload, study, trial, status``, the
    times to target, ``best_metric``, ``chosen``; ``target_mode`` and ``target_metric``
    when known); ``hparams``: the hyperparameter dict of each trial, on the same index;
    ``spaces``: each submission's search space (for the log axes), None when unreadable."""
    if len(hparams) != len(trials) or not hparams.index.equals(trials.index):
        raise OptbenchError("importances: one hyperparameter dict per trial is needed")
    trials = trials.assign(time=trial_time_to_target(trials, clock), _hparams=hparams)
    per_study = trials.groupby(STUDY_KEY).size()
    out = []
    for (sub, wl), group in trials.groupby(["submission", "workload"], sort=True):
        if per_study.loc[(sub, wl)].max() < 2:
            continue
        values = numeric_hparams(group["_hparams"])
        if values.empty:
            continue
        mode = str(group["target_mode"].dropna().iloc[0]) if "target_mode" in group and \
            group["target_mode"].notna().any() else "max"
        metric = str(group["target_metric"].dropna().iloc[0]) if "target_metric" in group and \
            group["target_metric"].notna().any() else ""
        outcome = outcome_ranks(group["time"], pd.to_numeric(group["best_metric"], errors="coerce"), mode)
        ranking = rank_hparams(values, outcome, declared_log((spaces or {}).get(str(sub))))
        table = pd.concat([group[["study", "trial"]], values[list(ranking["hyperparameter"])]], axis=1).assign(
            time=group["time"].to_numpy(float), reached=np.isfinite(group["time"].to_numpy(float)),
            best_metric=pd.to_numeric(group["best_metric"], errors="coerce").to_numpy(float), outcome=outcome,
            chosen=group["chosen"].to_numpy(bool) if "chosen" in group else False)
        out.append(Importance(str(sub), str(wl), table.reset_index(drop=True), ranking, mode, metric))
    return out


def search_spaces(experiment: Mapping[str, Any] | None) -> dict[str, SearchSpace | None]:
    """Each submission's search space, read from the folder experiment.json recorded (None where
    the folder or its space is gone or unreadable: the axes are then inferred)."""
    from optbench.submissions.folder import SEARCH_SPACE_FILES
    from optbench.tuning.spaces import load_search_space

    subs = (experiment or {}).get("submissions")
    out: dict[str, SearchSpace | None] = {}
    for name, info in (subs.items() if isinstance(subs, Mapping) else ()):
        path = info.get("path") if isinstance(info, Mapping) else None
        out[str(name)] = None
        if not isinstance(path, str):
            continue
        found = next((Path(path) / f for f in SEARCH_SPACE_FILES if (Path(path) / f).is_file()), None)
        if found is None:
            continue
        try:
            out[str(name)] = load_search_space(found)
        except OptbenchError:
            pass
    return out
