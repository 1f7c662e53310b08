"""The report's analysis sections (tuning-cost curves, both clocks, significance): what the
template ``analyses.html.j2`` shows, from the scoreboard :mod:`optbench.report.collect` built.

A section appears only when its data exists: tuning curves when a study has more than one
trial, both clocks when the trials carry steps and seconds, the tests when a pair of
submissions shares studies. Each has a two-line "how to read this" caption in the template.
"""

from __future__ import annotations

import math
from typing import Any

from optbench.report.format import EM_DASH, duration
from optbench.scoring.rules import CLOCK_UNITS


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
    return {"figure": svg_data_uri(tuning_figure(board.tuning, board.clock, order)), "ks": ks, "rows": rows}


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


def context(board: Any | None) -> dict[str, Any]:
    """The template's ``analyses``: ``tuning``, ``clocks``, ``stats`` (each None when there is nothing to show)."""
    if board is None:
        return {"tuning": None, "clocks": None, "stats": None, "any": False}
    out = {"tuning": _tuning(board), "clocks": _clocks(board), "stats": _stats(board)}
    return out | {"any": any(v is not None for v in out.values())}
