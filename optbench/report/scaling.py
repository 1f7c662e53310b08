"""``optbench scaling RESULTS``: speed-up over a reference submission against model size.

Draws, per ladder, two panels (steps to target, seconds to target): for each submission the
median speed-up over the reference (``reference time / its time``, paired by study) against the
rung's parameter count, with the min-max band over studies shaded; 1 (the reference) dashed. A
speed-up that is infinite (the reference never reached the target) or zero (the submission
never did) cannot be drawn: the table printed and ``scaling.csv`` keep it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optbench.report.figures import _plt, save_figure, submission_styles, text
from optbench.scoring.scaling import rung_table, speedups

MEASURES = {"steps": "steps to target", "seconds": "seconds to target"}


def draw_scaling(table: pd.DataFrame, ladder: str, reference: str, seconds_clock: str = "") -> Any:
    """The figure of one ladder from :func:`optbench.scoring.scaling.speedups` rows."""
    plt = _plt()
    from matplotlib.ticker import FormatStrFormatter

    rows = table[table["ladder"] == ladder]
    subs = list(dict.fromkeys(rows["submission"]))
    styles = submission_styles(subs)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained", sharey=True)
    for ax, (measure, title) in zip(axes, MEASURES.items()):
        for sub in subs:
            part = rows[(rows["submission"] == sub) & (rows["measure"] == measure)].sort_values("num_params")
            x = part["num_params"].to_numpy(float)
            y, lo, hi = (part[c].to_numpy(float) for c in ("median", "low", "high"))
            ok = np.isfinite(y) & (y > 0) & np.isfinite(x)
            colour, style = styles[sub]
            ax.plot(x[ok], y[ok], style, marker="o", color=colour, label=text(sub), linewidth=1.8)
            band = ok & np.isfinite(lo) & np.isfinite(hi) & (lo > 0)
            if band.any():
                ax.fill_between(x[band], lo[band], hi[band], color=colour, alpha=0.15, linewidth=0)
        ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
        unit = f" ({seconds_clock})" if measure == "seconds" and seconds_clock else ""
        ax.set(xscale="log", yscale="log", xlabel="parameters", title=f"{title}{unit}")
        for axis in (ax.yaxis,):
            axis.set_major_formatter(FormatStrFormatter("%.2g"))
            axis.set_minor_formatter(FormatStrFormatter("%.2g"))
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel(f"speed-up over {text(reference)} (>1: faster)")
    axes[0].legend(fontsize="small")
    axis = rows["axis"].iloc[0] if len(rows) else ""
    fig.suptitle(f"{text(ladder)}: does the speed-up survive scale? ({axis} ladder, median and min-max over studies)",
                 fontsize="medium")
    return fig


def scaling(results: Path, reference: str, out: Path | None, console: Any) -> list[Path]:
    """Compute, write ``scaling.csv`` and ``scaling_<ladder>.png/.svg``; print the table and the files."""
    from rich.markup import escape
    from rich.table import Table

    from optbench import store

    rungs = rung_table(results)
    table = speedups(rungs, reference)
    out_dir = Path(out) if out else Path(results) / "plots"
    store.check_writable(out_dir)
    store.atomic_write_text(out_dir / "scaling.csv", table.to_csv(index=False))
    written = [out_dir / "scaling.csv"]
    for ladder in dict.fromkeys(table["ladder"]):
        fig = draw_scaling(table, ladder, reference, rungs.attrs.get("seconds_clock", ""))
        written += save_figure(fig, out_dir, f"scaling_{ladder}")
    for ladder, rows in table.groupby("ladder", sort=True):
        shown = Table(title=escape(f"{ladder}: speed-up over {reference}, median over studies [min, max]"))
        for column in ("rung", "params", "submission", "steps", "seconds"):
            shown.add_column(column, justify="right" if column in ("params", "steps", "seconds") else "left")
        for (axis, value, sub), part in rows.groupby(["axis", "value", "submission"], sort=True):
            cells = {r.measure: escape(f"{r.median:.3g} [{r.low:.3g}, {r.high:.3g}]") for r in part.itertuples()}
            shown.add_row(f"{axis} {value}", f"{part['num_params'].iloc[0]:,.0f}", escape(str(sub)),
                          cells.get("steps", "-"), cells.get("seconds", "-"))
        console.print(shown)
    for path in written:
        console.print(f"  wrote {escape(str(path))}")
    return written
