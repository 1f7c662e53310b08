"""The figures of the analyses beyond the leaderboard: tuning-cost curves and the profiles on
both clocks (matplotlib, Agg; the helpers and colours of :mod:`optbench.report.figures`).

Kept apart from :mod:`optbench.report.figures` so that each file has one job: that one draws
what a run shows (profiles, training curves), this one what the analyses compute from it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from optbench.report.figures import _plt, save_figure, submission_styles, text
from optbench.scoring.rules import CLOCK_UNITS

if TYPE_CHECKING:
    from optbench.scoring.scoreboard import Scoreboard
    from optbench.scoring.tuning_curve import TuningCurves


def _finite(values: Any) -> np.ndarray:
    """inf (not reached) as NaN: matplotlib leaves a gap instead of stretching the axis."""
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v), v, np.nan)


def tuning_figure(curves: TuningCurves, clock: str = "wall", order: list[str] | None = None) -> Any:
    """Score against trials per study (first panel), then per workload the median over studies
    of the median best-of-k time to target, the band spanning the studies (log axis)."""
    plt = _plt()
    subs = order or list(curves.scores.index)
    styles = submission_styles(subs)
    workloads = sorted(curves.per_workload["workload"].unique())
    panels = 1 + len(workloads)
    cols = min(panels, 3)
    rows = math.ceil(panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), layout="constrained", squeeze=False)
    ks = curves.scores.columns.to_numpy(int)
    ax = axes[0][0]
    for sub in subs:
        color, style = styles[sub]
        ax.plot(ks, curves.scores.loc[sub].to_numpy(float), marker="o", color=color, linestyle=style,
                label=text(sub))
    ax.set_title("score with k trials per study")
    ax.set_xlabel("k: trials a user can afford")
    ax.set_ylabel("score")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(ks)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", frameon=False)
    what = CLOCK_UNITS.get(clock, "time")
    for i, wl in enumerate(workloads, start=1):
        ax = axes[i // cols][i % cols]
        cell = curves.per_workload[curves.per_workload["workload"] == wl]
        drawn = False
        for sub in subs:
            line = cell[cell["submission"] == sub].sort_values("k")
            if line.empty:
                continue
            color, style = styles[sub]
            y = _finite(line["median_time"])
            ax.plot(line["k"], y, marker="o", color=color, linestyle=style, label=text(sub))
            ax.fill_between(line["k"], _finite(line["time_lo"]), _finite(line["time_hi"]), color=color, alpha=0.15)
            drawn |= bool(np.isfinite(y).any())
        if drawn:
            ax.set_yscale("log")
        else:
            ax.text(0.5, 0.5, "target not reached", transform=ax.transAxes, ha="center", va="center", color="0.3")
        ax.set_title(text(wl))
        ax.set_xlabel("k")
        ax.set_ylabel(f"median best {what} to target")
        ax.set_xticks(ks)
        ax.grid(alpha=0.3)
    for j in range(panels, rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    return fig


def plot_tuning_curves(board: Scoreboard, out_dir: Path, name: str = "tuning_curve") -> list[Path]:
    """``optbench score --tuning-curve``'s figure: ``<out_dir>/<name>.png`` and ``.svg``."""
    assert board.tuning is not None
    order = [str(s) for s in board.leaderboard.index]
    return save_figure(tuning_figure(board.tuning, board.clock, order), Path(out_dir), name)


def clocks_figure(boards: dict[str, Scoreboard]) -> Any:
    """The performance profiles of the same trials on each clock, side by side (one row); a
    submission has the same colour in every panel."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(boards), figsize=(6.5 * len(boards), 4.5), layout="constrained", squeeze=False)
    first = next(iter(boards.values()))
    styles = submission_styles([str(s) for s in first.leaderboard.index])
    for ax, (clock, board) in zip(axes[0], boards.items()):
        profiles, scores = board.result.profiles, board.result.scores
        taus = profiles.columns.to_numpy(float)
        for sub in scores.sort_values(ascending=False, kind="stable").index:
            color, style = styles.get(str(sub), ("C0", "-"))
            ax.step(taus, profiles.loc[sub].to_numpy(float), where="post", color=color, linestyle=style,
                    linewidth=2, label=f"{text(sub)} ({scores[sub]:.3f})")
        ax.set_xlabel(f"τ: ratio of {CLOCK_UNITS.get(clock, clock)} to target to the best")
        ax.set_ylabel("ρ(τ): fraction of workloads")
        ax.set_xlim(taus[0], taus[-1])
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.set_title(f"on {CLOCK_UNITS.get(clock, clock)} (legend: score)")
        ax.legend(fontsize="small", frameon=False, loc="lower right")
    return fig
