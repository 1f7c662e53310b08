"""The figures of the analyses beyond the leaderboard: tuning-cost curves, the profiles on
both clocks, the trials over their most important hyperparameters, a sweep's heat map
(matplotlib, Agg; the helpers and colours of :mod:`optbench.report.figures`).

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
from optbench.scoring.sweep_map import GOOD_FACTOR

if TYPE_CHECKING:
    from optbench.report.collect import ReportData
    from optbench.scoring.importance import Importance
    from optbench.scoring.scoreboard import Scoreboard
    from optbench.scoring.sweep_map import SweepMap
    from optbench.scoring.tuning_curve import TuningCurves


def _finite(values: Any) -> np.ndarray:
    """inf (not reached) as NaN: matplotlib leaves a gap instead of stretching the axis."""
    v = np.asarray(values, dtype=float)
    return np.where(np.isfinite(v), v, np.nan)


def tuning_figure(curves: TuningCurves, clock: str = "wall", order: list[str] | None = None,
                  workloads: list[str] | None = None) -> Any:
    """Score against trials per study (first panel), then per workload (``workloads``: the
    scored ones; default all) the median over studies of the median best-of-k time to target,
    the band spanning the studies (log axis).

    Laid out by hand (``subplots_adjust``), not by matplotlib's constrained layout: on
    AlgoPerf's nine panels that layout cost more than scoring the logs."""
    plt = _plt()
    subs = order or list(curves.scores.index)
    styles = submission_styles(subs)
    workloads = sorted(curves.per_workload["workload"].unique()) if workloads is None else list(workloads)
    panels = 1 + len(workloads)
    cols = min(panels, 3)
    rows = math.ceil(panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.4 * rows), squeeze=False)
    fig.subplots_adjust(left=0.08 if cols > 1 else 0.15, right=0.98, bottom=0.12 / rows + 0.02, top=1 - 0.1 / rows,
                        wspace=0.32, hspace=0.55)
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
    ax.legend(fontsize="x-small" if len(subs) > 4 else "small", framealpha=0.85, loc="best")
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
    return save_figure(tuning_figure(board.tuning, board.clock, order, board.workloads), Path(out_dir), name)


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


def scatter_figure(items: list[Importance], clock: str = "wall") -> Any:
    """One panel per item (a submission on a workload): every trial over its two most
    important hyperparameters (:mod:`optbench.scoring.importance`; one hyperparameter: against
    the outcome rank). Circles reached the target, coloured by time to target; crosses missed,
    grey (coloured by the best metric when no trial reached); a black ring marks each study's
    best trial. Log axes where the search space says log."""
    from matplotlib.colors import LogNorm, Normalize

    plt = _plt()
    cols = min(len(items), 3)
    rows = math.ceil(len(items) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False, layout="constrained")
    what = CLOCK_UNITS.get(clock, "time")
    for n, item in enumerate(items):
        ax = axes[n // cols][n % cols]
        t = item.trials
        top = item.top
        x = t[top[0]].to_numpy(float)
        y = t[top[1]].to_numpy(float) if len(top) > 1 else t["outcome"].to_numpy(float)
        reached = t["reached"].to_numpy(bool)
        if reached.any():
            times = t["time"].to_numpy(float)[reached]
            wide = times.min() > 0 and times.max() / times.min() > 10
            norm = LogNorm(times.min(), times.max()) if wide else Normalize(times.min(), times.max())
            dots = ax.scatter(x[reached], y[reached], c=times, cmap="viridis_r", norm=norm, s=46, marker="o",
                              edgecolors="0.2", linewidths=0.5, label="reached", zorder=3)
            fig.colorbar(dots, ax=ax, label=f"{what} to target", shrink=0.85)
            ax.scatter(x[~reached], y[~reached], color="0.55", marker="x", s=40, label="missed", zorder=2)
        else:
            metric = t["best_metric"].to_numpy(float)
            shown = np.isfinite(metric)
            if shown.any():
                dots = ax.scatter(x[shown], y[shown], c=metric[shown], cmap="viridis" if item.mode == "max"
                                  else "viridis_r", marker="x", s=46, label="missed (colour: best metric)", zorder=2)
                fig.colorbar(dots, ax=ax, label=f"best {text(item.metric or 'metric')}", shrink=0.85)
            ax.scatter(x[~shown], y[~shown], color="0.55", marker="x", s=40, label="no metric", zorder=2)
        best = t["chosen"].to_numpy(bool)
        ax.scatter(x[best], y[best], facecolors="none", edgecolors="black", s=190, linewidths=1.6,
                   label="each study's best trial", zorder=4)
        rho = item.ranking.set_index("hyperparameter")["rho"]
        ax.set_xlabel(f"{text(top[0])} (ρ = {rho[top[0]]:+.2f})")
        if item.is_log(top[0]):
            ax.set_xscale("log")
        if len(top) > 1:
            ax.set_ylabel(f"{text(top[1])} (ρ = {rho[top[1]]:+.2f})")
            if item.is_log(top[1]):
                ax.set_yscale("log")
        else:
            ax.set_ylabel("outcome rank (1 = best)")
        ax.set_title(f"{text(item.submission)} on {text(item.workload)}: {int(reached.sum())}/{len(t)} reached",
                     fontsize="medium")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", framealpha=0.85, loc="best")
    for j in range(len(items), rows * cols):
        axes[j // cols][j % cols].set_visible(False)
    return fig


def heatmap_figure(m: SweepMap, title: str) -> Any:
    """Steps to target where reached (colour), the best metric printed where missed, the
    target-reaching region outlined, the good region (within 1.25x of the best) hatched."""
    plt = _plt()
    steps, metric, good = m._grid("steps"), m._grid("best_metric"), m._grid("good") > 0
    fig, ax = plt.subplots(figsize=(1.1 * len(m.x.values) + 3, 0.8 * len(m.y.values) + 2), layout="constrained")
    shown = np.where(np.isfinite(steps), steps, np.nan)
    image = ax.imshow(shown, origin="lower", cmap="viridis_r", aspect="auto")
    fig.colorbar(image, ax=ax, label="steps to target (median over studies)")
    reached = np.isfinite(steps)
    rows, cols = reached.shape
    for (i, j), ok in np.ndenumerate(reached):  # outline: every edge between a reaching cell and one that is not
        if not ok:
            continue
        for di, dj, xs, ys in ((-1, 0, (j - .5, j + .5), (i - .5, i - .5)), (1, 0, (j - .5, j + .5), (i + .5, i + .5)),
                               (0, -1, (j - .5, j - .5), (i - .5, i + .5)), (0, 1, (j + .5, j + .5), (i - .5, i + .5))):
            ni, nj = i + di, j + dj
            if not (0 <= ni < rows and 0 <= nj < cols and reached[ni, nj]):
                ax.plot(xs, ys, color="red", linewidth=2.5, solid_capstyle="projecting")
    for (i, j), ok in np.ndenumerate(good):
        if ok:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="//", edgecolor="white", lw=0))
    for (i, j), s in np.ndenumerate(steps):
        label = f"{s:.0f}" if np.isfinite(s) else (f"{metric[i, j]:.3g}" if np.isfinite(metric[i, j]) else "—")
        ax.text(j, i, label, ha="center", va="center", fontsize="x-small", style="normal" if np.isfinite(s) else "italic",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.7, "linewidth": 0})
    ax.set_xticks(range(len(m.x.values)), [f"{v:.2g}" for v in m.x.values])
    ax.set_yticks(range(len(m.y.values)), [f"{v:.2g}" for v in m.y.values])
    ax.set_xlabel(text(m.x.name))
    ax.set_ylabel(text(m.y.name))
    ax.set_title(f"{text(title)}: width of the good region {m.width:.0%} (hatched: within {GOOD_FACTOR}× the best; "
                 f"red: reaches the target; italic: best metric where missed)", fontsize="small", wrap=True)
    return fig


def write_analysis_plots(data: ReportData, out_dir: Path) -> list[Path]:
    """``optbench plot``'s analyses beyond :func:`optbench.report.figures.write_plots`: per workload
    ``hparam_scatter_<workload>`` (external tuning), and ``sweep_heatmap`` for a sweep."""
    from optbench.report.figures import file_stem
    from optbench.store import check_writable

    check_writable(Path(out_dir))
    written = []
    clock = data.board.clock if data.board is not None else data.clock
    for wl in sorted({i.workload for i in data.importance}):
        fig = scatter_figure([i for i in data.importance if i.workload == wl], clock)
        written += save_figure(fig, Path(out_dir), f"hparam_scatter_{file_stem(wl)}")
    if data.sweep is not None:
        written += save_figure(heatmap_figure(data.sweep, data.root.name), Path(out_dir), "sweep_heatmap")
    return written
