"""The report's analysis sections (tuning-cost curves, both clocks, significance, the trials
over their most important hyperparameters, a sweep's map): what the template
``analyses.html.j2`` shows, from what :mod:`optbench.report.collect` built.

A section appears only when its data exists: tuning curves when a study has more than one
trial, both clocks when the trials carry steps and seconds, the tests when a pair of
submissions shares studies, the scatter under external tuning with more than one trial per
study, the heat map when the folder is a sweep. Each has a two-line "how to read this"
caption in the template.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from optbench.report.format import EM_DASH, duration
from optbench.scoring.importance import SHOWN, Importance
from optbench.scoring.rules import CLOCK_UNITS
from optbench.scoring.sweep_map import GOOD_FACTOR, SweepMap


def _p(p: float) -> dict[str, Any]:
    if p != p:
        return {"text": EM_DASH, "strong": False}
    return {"text": f"{p:.2g}" if p >= 0.001 else f"{p:.0e}", "strong": p < 0.01}


def _time(value: float, clock: str) -> str:
    return duration(value, clock) if math.isfinite(value) else EM_DASH


def _tuning(board: Any) -> dict[str, Any] | None:
    from optbench.report.analysis_figures import tuning_figure
    from optbench.report.figures import svg_data_uri

    if board.tuning is None or board.tuning.scores.shape[1] < 2:
        return None
    order = [str(s) for s in board.leaderboard.index]
    scores = board.tuning.scores
    ks = [int(k) for k in scores.columns]
    rows = [{"submission": sub, "scores": [f"{scores.loc[sub, k]:.3f}" for k in ks]} for sub in order]
    return {"figure": svg_data_uri(tuning_figure(board.tuning, board.clock, order, board.workloads)), "ks": ks, "rows": rows}


def _clocks(board: Any) -> dict[str, Any] | None:
    from optbench.report.analysis_figures import clocks_figure
    from optbench.report.figures import svg_data_uri
    from optbench.scoring.clock_ranks import changed

    ranks = board.clock_ranks
    if ranks is None:
        return None
    first, second = list(board.boards)
    rows = [{"submission": str(sub), "rank_a": int(r[f"rank_{first}"]), "score_a": f"{r[f'score_{first}']:.3f}",
             "rank_b": int(r[f"rank_{second}"]), "score_b": f"{r[f'score_{second}']:.3f}", "change": int(r["change"])}
            for sub, r in ranks.iterrows()]
    return {"figure": svg_data_uri(clocks_figure(board.boards)), "first": CLOCK_UNITS[first],
            "second": CLOCK_UNITS[second], "rows": rows, "changed": changed(ranks), "total": len(ranks)}


def _stats(board: Any) -> dict[str, Any] | None:
    if board.stats is None or (board.stats.pairs.empty and board.stats.speedrun.empty):
        return None
    pairs = [{"workload": str(r.workload), "faster": str(r.faster), "slower": str(r.slower),
              "median_faster": _time(r.median_faster, board.clock), "median_slower": _time(r.median_slower, board.clock),
              "wlt": f"{r.wins}/{r.losses}/{r.ties}", "p": _p(r.p_value)} for r in board.stats.pairs.itertuples()]
    runs = []
    for r in board.stats.speedrun.itertuples():
        needed = r.runs_needed
        runs.append({"submission": str(r.submission), "workload": str(r.workload), "n": int(r.runs),
                     "mean": f"{r.mean_metric:.4g}", "std": f"{r.std_metric:.2g}" if r.std_metric == r.std_metric
                     else EM_DASH, "target": f"{r.target:g}", "p": _p(r.p_value),
                     "needed": "never" if needed is None or needed != needed else str(int(needed))})
    return {"pairs": pairs, "speedrun": runs}


def _scatter(items: Sequence[Importance], clock: str) -> list[dict[str, Any]] | None:
    """One figure per workload (a panel per submission) and the ranking of every hyperparameter."""
    from optbench.report.analysis_figures import scatter_figure
    from optbench.report.figures import svg_data_uri

    if not items:
        return None
    out = []
    for wl in sorted({i.workload for i in items}):
        mine = [i for i in items if i.workload == wl]
        rows = [{"submission": i.submission, "ranking": [
            {"name": str(r.hyperparameter), "rho": f"{r.rho:+.2f}" if r.rho == r.rho else EM_DASH,
             "p": _p(r.p_value), "shown": k < SHOWN} for k, r in enumerate(i.ranking.itertuples())]} for i in mine]
        out.append({"workload": wl, "figure": svg_data_uri(scatter_figure(mine, clock)), "rows": rows})
    return out


def _sweep(sweep: SweepMap | None, title: str) -> dict[str, Any] | None:
    from optbench.report.analysis_figures import heatmap_figure
    from optbench.report.figures import svg_data_uri

    if sweep is None:
        return None
    return {"figure": svg_data_uri(heatmap_figure(sweep, title)), "width": f"{sweep.width:.0%}",
            "reached": int(sweep.reached.sum()), "points": int(sweep.reached.size), "x": sweep.x.name,
            "y": sweep.y.name, "factor": f"{GOOD_FACTOR:g}"}


def context(board: Any | None, importance: Sequence[Importance] = (), sweep: SweepMap | None = None,
            title: str = "") -> dict[str, Any]:
    """The template's ``analyses``: ``tuning``, ``clocks``, ``stats``, ``scatter``, ``sweep`` (each
    None when there is nothing to show); ``title`` names the sweep's map."""
    out: dict[str, Any] = {"tuning": None, "clocks": None, "stats": None}
    if board is not None:
        out = {"tuning": _tuning(board), "clocks": _clocks(board), "stats": _stats(board)}
    out["scatter"] = _scatter(importance, board.clock if board is not None else "steps")
    out["sweep"] = _sweep(sweep, title)
    return out | {"any": any(v is not None for v in out.values())}
