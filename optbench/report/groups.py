"""``optbench plot --groups``: the training loss per class-frequency group (the ``group_loss`` metric kind).

Why: the lecture's claim (Kunstner et al. 2024) is that on heavy-tailed labels SGD stalls on
the rare classes while Adam does not. One figure per workload that logged ``group_loss``:
one panel per submission, one line per group (group 0 = the most frequent classes, dark;
the last = the rarest, light), the median over studies of each study's chosen trial
against steps, so two optimizers' rare groups can be compared at a glance on shared axes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optbench.report.collect import Curve, ReportData, _curves, _read_evals
from optbench.report.figures import _plt, save_figure, text

GROUP_COLUMN = re.compile(r"^(?P<split>train|validation|test)/group_loss_(?P<g>\d+)$")


@dataclass(frozen=True)
class GroupCurves:
    """One workload: per submission, one curve (against steps) per frequency group."""

    workload: str
    split: str
    by_submission: dict[str, list[Curve]]  #: curves in group order (0 = most frequent)


def group_curves(data: ReportData, split: str = "train") -> list[GroupCurves]:
    """Every workload of ``data`` whose chosen trials logged ``<split>/group_loss_<g>``."""
    out = []
    if data.trials.empty:
        return out
    chosen = data.trials[data.trials["chosen"]] if "chosen" in data.trials else data.trials
    for wl, rows in chosen.groupby("workload", sort=True):
        runs: dict[str, list[Any]] = {}
        for row in rows.itertuples():
            evals = _read_evals(Path(row.path) / "evals.csv")
            if evals is not None and not evals.empty:
                runs.setdefault(str(row.submission), []).append(evals)
        columns = {c for frames in runs.values() for f in frames for c in f.columns}
        groups = sorted(int(m["g"]) for c in columns if (m := GROUP_COLUMN.match(c)) and m["split"] == split)
        if not groups:
            continue
        by_submission = {}
        for sub, frames in runs.items():
            curves = []
            for g in groups:
                with_g = {sub: [f for f in frames if f"{split}/group_loss_{g}" in f]}
                found = _curves(with_g, "step", f"{split}/group_loss_{g}")
                curves.append(found[0] if found else None)
            by_submission[sub] = [c for c in curves if c is not None]
        out.append(GroupCurves(str(wl), split, by_submission))
    return out


def draw_group_losses(curves: GroupCurves) -> Any:
    """One panel per submission (shared y axis, log scale), one line per group, dark = frequent."""
    plt = _plt()
    subs = sorted(curves.by_submission)
    fig, axes = plt.subplots(1, len(subs), figsize=(4.2 * len(subs) + 1.2, 3.8), sharey=True, squeeze=False,
                             layout="constrained")
    n = max(len(c) for c in curves.by_submission.values())
    colours = plt.get_cmap("viridis")
    for ax, sub in zip(axes[0], subs):
        for g, curve in enumerate(curves.by_submission[sub]):
            colour = colours(g / max(n - 1, 1))
            ax.step(curve.x, curve.median, where="post", color=colour, linewidth=1.6, label=f"group {g}")
            if curve.studies > 1:
                ax.fill_between(curve.x, curve.low, curve.high, step="post", color=colour, alpha=0.15, linewidth=0)
        ax.set_title(text(sub))
        ax.set_xlabel("steps")
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel(f"{curves.split} loss of the group")
    handles, labels = axes[0][0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right center", fontsize="small",
                   title="0: most frequent\nclasses", title_fontsize="small")
    fig.suptitle(f"{text(curves.workload)}: {curves.split} loss per class-frequency group (~10% of examples each)",
                 fontsize="medium")
    return fig


def write_group_plots(data: ReportData, out_dir: Path) -> list[Path]:
    """``group_loss_<workload>.png/.svg`` in ``out_dir`` for every workload that logged group losses."""
    from optbench.store import check_writable

    out_dir = Path(out_dir)
    check_writable(out_dir)
    written = []
    for curves in group_curves(data):
        written += save_figure(draw_group_losses(curves), out_dir, f"group_loss_{curves.workload}")
    return written
