"""The performance-profile figure: rho_s(tau) for every submission, tau from 1 to tau_max.

Drawn with matplotlib's non-interactive Agg backend (no display is needed on a
cluster node or in CI) and saved as PNG (for the README / HTML report) and SVG (for
papers). Lines are drawn as steps: rho is a step function of tau, and the linear
interpolation of AlgoPerf's plot suggests values that no submission has.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

#: Distinguishable on screen and in greyscale print: colour cycles with line styles.
_STYLES = ("-", "--", "-.", ":")


def plot_performance_profiles(
    profiles: pd.DataFrame,
    scores: pd.Series | None,
    out_dir: Path,
    clock: str = "seconds",
    reference: str | None = None,
    name: str = "performance_profile",
) -> list[Path]:
    """Draw ``profiles`` (index submission, columns tau) to ``<out_dir>/<name>.png`` and ``.svg``.

    The legend lists submissions best first, with their score. Returns the paths written.
    """
    import matplotlib.pyplot as plt

    fig = draw_performance_profiles(profiles, scores, clock, reference)
    out_dir = Path(out_dir)
    paths = [out_dir / f"{name}.png", out_dir / f"{name}.svg"]
    fig.savefig(paths[0], dpi=120)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths


def draw_performance_profiles(
    profiles: pd.DataFrame, scores: pd.Series | None, clock: str = "seconds", reference: str | None = None
):
    """The figure of :func:`plot_performance_profiles`, not saved (the HTML report inlines it)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    taus = profiles.columns.to_numpy(float)
    order = list(profiles.index)
    if scores is not None:
        order = list(scores.sort_values(ascending=False, kind="stable").index)
    fig, ax = plt.subplots(figsize=(9, 5.5), layout="constrained")
    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    for i, sub in enumerate(order):
        name = str(sub).replace("$", r"\$")  # a '$' in a name must not start matplotlib's mathtext
        label = f"{name} ({scores[sub]:.3f})" if scores is not None else name
        ax.step(taus, profiles.loc[sub].to_numpy(float), where="post", label=label,
                color=cycle[i % len(cycle)], linestyle=_STYLES[(i // len(cycle)) % len(_STYLES)], linewidth=2)
    what = "steps" if clock == "steps" else "time"
    against = f"{reference}'s" if reference else "the best"
    ax.set_xlabel(f"τ: ratio of {what} to target to {against}")
    ax.set_ylabel("ρ(τ): fraction of workloads")
    ax.set_xlim(taus[0], taus[-1])
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.set_title("Performance profiles (legend: score)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize="small")
    return fig
