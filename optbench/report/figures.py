"""Every figure optbench draws (matplotlib, Agg backend): the performance profile and, per
workload, the target metric against submission time and against steps.

Drawn with the non-interactive Agg backend (no display is needed on a cluster node or in
CI). Used three times: ``optbench score`` saves the profile (:func:`plot_performance_profiles`),
:mod:`optbench.report.html` inlines every figure as base64 SVG, and ``optbench plot``
(:func:`write_plots`) saves each as PNG (for the README / HTML report) and SVG (for papers).
matplotlib is imported only inside the functions, so importing this module stays cheap.

The profile: rho_s(tau) for every submission, tau from 1 to tau_max, drawn as steps: rho
is a step function of tau, and the linear interpolation of AlgoPerf's plot suggests values
that no submission has.

Per workload: one line per submission, the median over studies of the metric of each
study's chosen trial, drawn as a step function (the metric is known only at evals),
with the min-max band over studies shaded; the target as a dashed horizontal line;
the time budget as a dotted vertical line on the time panel and the workload's
``step_hint`` on the steps panel (a budget counted in seconds has no position in steps).
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from optbench.scoring.rules import CLOCK_UNITS

if TYPE_CHECKING:
    import pandas as pd

    from optbench.report.collect import Curve, ReportData, WorkloadInfo

#: Distinguishable on screen and in greyscale print: colour cycles with line styles.
_STYLES = ("-", "--", "-.", ":")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def text(value: object) -> str:
    """A user string as matplotlib text: a '$' must not start mathtext."""
    return str(value).replace("$", r"\$")


def submission_styles(submissions: list[str]) -> dict[str, tuple[str, str]]:
    """One (colour, line style) per submission, the same in every figure of a report."""
    plt = _plt()
    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    return {s: (cycle[i % len(cycle)], _STYLES[(i // len(cycle)) % len(_STYLES)]) for i, s in enumerate(submissions)}


def draw_performance_profiles(
    profiles: pd.DataFrame, scores: pd.Series | None, clock: str = "wall", reference: str | None = None
) -> Any:
    """The performance-profile figure (index submission, columns tau); the legend lists
    submissions best first, with their score."""
    plt = _plt()
    taus = profiles.columns.to_numpy(float)
    order = list(profiles.index)
    if scores is not None:
        order = list(scores.sort_values(ascending=False, kind="stable").index)
    styles = submission_styles(order)
    fig, ax = plt.subplots(figsize=(9, 5.5), layout="constrained")
    for sub in order:
        label = f"{text(sub)} ({scores[sub]:.3f})" if scores is not None else text(sub)
        color, style = styles[sub]
        ax.step(taus, profiles.loc[sub].to_numpy(float), where="post", label=label, color=color, linestyle=style,
                linewidth=2)
    what = CLOCK_UNITS.get(clock, "time")
    against = f"{reference}'s" if reference else "the best"
    ax.set_xlabel(f"τ: ratio of {what} to target to {against}")
    if not np.isfinite(profiles.to_numpy(float)).any() or not profiles.to_numpy(float).any():
        ax.text(0.5, 0.5, "no submission reached any target", transform=ax.transAxes, ha="center", va="center",
                color="0.3", fontsize="large")
    ax.set_ylabel("ρ(τ): fraction of workloads")
    ax.set_xlim(taus[0], taus[-1])
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title("Performance profiles (legend: score)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize="small")
    return fig


def plot_performance_profiles(board: Any, out_dir: Path, name: str = "performance_profile") -> list[Path]:
    """``optbench score``'s figure of a :class:`~optbench.scoring.scoreboard.Scoreboard`:
    ``<out_dir>/<name>.png`` and ``.svg``. Returns the paths written."""
    return save_figure(profile_figure(board), Path(out_dir), name)


def profile_figure(board: Any | None) -> Any | None:
    """The performance-profile figure of a scoreboard, or None when there is none (the folder cannot be scored)."""
    if board is None:
        return None
    return draw_performance_profiles(board.result.profiles, board.result.scores, board.clock, board.reference)


def _draw(ax: Any, curves: list[Curve], styles: dict[str, tuple[str, str]]) -> None:
    for c in curves:
        color, style = styles.get(c.submission, ("C0", "-"))
        label = f"{text(c.submission)} ({c.studies} {'study' if c.studies == 1 else 'studies'})"
        ax.step(c.x, c.median, where="post", color=color, linestyle=style, linewidth=1.8, label=label)
        if c.studies > 1:
            ax.fill_between(c.x, c.low, c.high, step="post", color=color, alpha=0.18, linewidth=0)


def _curve_values(info: WorkloadInfo) -> Any:
    values = np.concatenate([c.median for c in info.by_time + info.by_step] or [np.array([])])
    return values[np.isfinite(values)]


def log_scale(info: WorkloadInfo) -> bool:
    """Log y for a minimised, positive metric (a loss, a suboptimality) that spans more than two
    decades, or whose target lies below every curve: on a linear axis a target of 1e-5 sits on 0
    and one cannot see how far a run is from it."""
    if info.mode != "min":
        return False
    values = _curve_values(info)
    if not values.size or not (values > 0).all():
        return False
    below = info.target is not None and 0 < info.target < values.min()
    return bool(values.max() / values.min() > 100 or below)


def _show_target(ax: Any, info: WorkloadInfo, log: bool) -> None:
    """Widen the y range so that the target line is always in view."""
    if info.target is None or not _curve_values(info).size:
        return
    low, high = ax.get_ylim()
    if info.target < low:
        low = info.target / 2 if log else info.target - 0.05 * (high - info.target)
    elif info.target > high:
        high = info.target * 2 if log else info.target + 0.05 * (info.target - low)
    ax.set_ylim(low, high)


def workload_figure(info: WorkloadInfo, styles: dict[str, tuple[str, str]], clock: str = "wall") -> Any:
    """Two panels: the target metric vs submission time (on ``clock``'s seconds), and vs steps.
    Each study is drawn by its chosen trial: the fastest to the target, or the closest to it."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained", sharey=True)
    op = "≤" if info.mode == "min" else "≥"
    seconds = CLOCK_UNITS.get(clock, "seconds") if clock != "steps" else "seconds"
    step_limit = (info.budget_steps, "budget {:g} steps") if clock == "steps" and info.budget_steps else \
        (info.step_hint, "step hint {:g}")
    time_limit = (None, "") if clock == "steps" else (info.budget_seconds, "budget {:g} s")
    panels = ((axes[0], info.by_time, f"submission time ({seconds})", *time_limit),
              (axes[1], info.by_step, "steps", *step_limit))
    for ax, curves, xlabel, limit, limit_label in panels:
        _draw(ax, curves, styles)
        if info.target is not None:
            ax.axhline(info.target, color="black", linestyle="--", linewidth=1, label=f"target {op} {info.target:g}")
        if limit is not None:
            ax.axvline(limit, color="0.35", linestyle=":", linewidth=1.5, label=limit_label.format(limit))
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        if not curves:
            ax.text(0.5, 0.5, "no evals to draw", transform=ax.transAxes, ha="center", va="center", color="0.4")
    axes[0].set_ylabel(text(info.metric))
    log = log_scale(info)
    if log:
        axes[0].set_yscale("log")
    _show_target(axes[0], info, log)
    fig.suptitle(f"{text(info.name)}: {text(info.metric)} — median over studies (each its best trial), "
                 f"band min–max; clock: {clock}")
    legend: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            legend.setdefault(label, handle)
    handles, labels = list(legend.values()), list(legend)
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(handles), 5), frameon=False,
                   fontsize="small")
    return fig


def figures(data: ReportData) -> dict[str, Any]:
    """Every figure of the report, by file stem: ``performance_profile``, ``curves_<workload>``."""
    subs = sorted({str(s) for s in data.trials["submission"]}) if not data.trials.empty else []
    if data.board is not None:  # leaderboard order: the best first, the same colours as the profile
        subs = [str(s) for s in data.board.leaderboard.index] + [s for s in subs if s not in data.board.leaderboard.index]
    styles = submission_styles(subs)
    out: dict[str, Any] = {}
    profile = profile_figure(data.board)
    if profile is not None:
        out["performance_profile"] = profile
    for info in data.workloads:
        out[f"curves_{file_stem(info.name)}"] = workload_figure(info, styles, data.clock)
    return out


def file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".") or "workload"


def svg_data_uri(fig: Any) -> str:
    """The figure as an ``<img src=...>`` value: base64 SVG, so nothing is fetched and the
    figure's ids cannot clash with the page's."""
    buf = io.BytesIO()
    fig.savefig(buf, format="svg")
    _plt().close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def save_figure(fig: Any, out_dir: Path, stem: str) -> list[Path]:
    """``<stem>.png`` (120 dpi) and ``<stem>.svg`` in ``out_dir``, each written whole or not at all;
    the figure is closed."""
    written = []
    for suffix, kw in ((".png", {"dpi": 120}), (".svg", {})):
        path = out_dir / f"{stem}{suffix}"
        tmp = path.with_name(f".{path.name}.tmp")
        fig.savefig(tmp, format=suffix[1:], **kw)
        tmp.replace(path)
        written.append(path)
    _plt().close(fig)
    return written


def write_plots(data: ReportData, out_dir: Path) -> list[Path]:
    """``optbench plot``: every figure as ``<stem>.png`` and ``<stem>.svg`` in ``out_dir``."""
    from optbench.store import check_writable

    out_dir = Path(out_dir)
    check_writable(out_dir)
    written = []
    for stem, fig in figures(data).items():
        written += save_figure(fig, out_dir, stem)
    return written
