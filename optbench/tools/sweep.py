"""``optbench sweep``: a log grid over two declared hyperparameters, run as an ordinary experiment,
and the sensitivity map it gives.

Why: a claim "optimizer A beats B" means little if A only works in a narrow band of learning
rates; the papers ask for the map and for the width of the good region. The grid is the
plan of one external-tuning experiment (one trial per grid point and study, the other
hyperparameters at the submission's defaults), so it runs with the same workers, Ray,
checkpoints and ``optbench run --resume`` as any run. The analysis reads the results folder:

- per grid point, the median over studies of the steps to target (the score clock: steps,
  comparable at any load), or where no study reached the target, the best metric;
- the heat map of it, the target-reaching region outlined;
- the width of the good region: the fraction of the grid within :data:`GOOD_FACTOR` x the
  best steps to target (points that missed count as outside).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optbench.errors import OptbenchError
from optbench.plan import build_plan
from optbench.spec import RunConfig, SubmissionRef, TrialSpec, WorkloadSpec

#: A grid point is "good" within this factor of the best steps to target (the papers' 1.25x).
GOOD_FACTOR = 1.25
SWEEP_FOLDER = "sweep"


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[float, ...]  #: log-spaced, increasing


def parse_grid(text: str) -> tuple[Axis, Axis]:
    """``name=lo:hi:n,name=lo:hi:n`` -> two log grids (``numpy.geomspace``); one clear error otherwise."""
    axes = []
    for part in [p for p in text.split(",") if p.strip()]:
        name, sep, spec = part.partition("=")
        bits = spec.split(":")
        if not sep or not name.strip() or len(bits) != 3:
            raise OptbenchError(f"--grid {part!r}: expected name=low:high:count, e.g. learning_rate=1e-4:1e-1:7")
        try:
            low, high, count = float(bits[0]), float(bits[1]), int(bits[2])
        except ValueError:
            raise OptbenchError(f"--grid {part!r}: low and high must be numbers, count a whole number") from None
        if not (0 < low < high) or count < 2:
            raise OptbenchError(f"--grid {part!r}: a log grid needs 0 < low < high and count >= 2")
        axes.append(Axis(name.strip(), tuple(float(v) for v in np.geomspace(low, high, count))))
    if len(axes) != 2 or axes[0].name == axes[1].name:
        raise OptbenchError(f"--grid {text!r}: give two different hyperparameters, e.g. "
                            "learning_rate=1e-4:1e-1:7,weight_decay=1e-5:1e-1:5")
    return axes[0], axes[1]


def check_declared(axes: tuple[Axis, Axis], declared: set[str], source: str) -> None:
    """Each grid name must be a hyperparameter the submission declares (its search space)."""
    unknown = [a.name for a in axes if a.name not in declared]
    if unknown:
        raise OptbenchError(f"--grid: {', '.join(unknown)} not declared by {source} "
                            f"(declared: {', '.join(sorted(declared)) or 'none'})")


def grid_points(axes: tuple[Axis, Axis]) -> list[dict[str, float]]:
    """Every point of the grid, the first axis slowest."""
    (a, b) = axes
    return [{a.name: x, b.name: y} for x, y in itertools.product(a.values, b.values)]


def sweep_plan(workload: WorkloadSpec, submission: SubmissionRef, axes: tuple[Axis, Axis],
               config: RunConfig) -> list[TrialSpec]:
    """The grid as an experiment's plan: per study, one trial per grid point (external tuning)."""
    points = grid_points(axes)
    return build_plan([workload], [submission], config, lambda ref, wl, study: points)


SWEEP_FILE = "sweep.json"


def prepare(submission: str, workload: str, grid: str, root: Path, *, studies: int = 1, seed: int = 0,
            device: str = "cpu", clock: str | None = None, workers: int = 1, workloads_dir: list[Path] | None = None,
            submissions_dir: list[Path] | None = None) -> tuple[list[TrialSpec], RunConfig]:
    """Everything before the run: the grid checked against the submission's search space, the
    configuration and plan, and ``<root>/sweep.json`` (the axes, for the analysis)."""
    from optbench import experiment, store
    from optbench.submissions import find_submission
    from optbench.tuning.spaces import load_search_space
    from optbench.workloads import resolve_workloads

    axes = parse_grid(grid)
    sub = find_submission(submission, submissions_dir)
    if sub.hparam_names is not None:  # its defaults (or search space) declare its names: "did you mean" on a typo
        sub.check_hparams(tuple(a.name for a in axes), "--grid")
    elif sub.search_space_path is not None:
        check_declared(axes, set(load_search_space(sub.search_space_path).names), str(sub.search_space_path))
    else:
        raise OptbenchError(f"{sub.path}: its hyperparameter names cannot be read without running it "
                            "(no literal DEFAULT_HPARAMS, no search_space.yaml): nothing to sweep")
    (wl,) = resolve_workloads([workload], None, workloads_dir)
    if (root / store.EXPERIMENT_FILE).is_file():
        raise OptbenchError(f"{root} already holds an experiment; continue it with `optbench run --resume {root}`, "
                            "then draw it with `optbench sweep --plot {root}`")
    n = len(axes[0].values) * len(axes[1].values)
    config = experiment.configure(workloads=[wl.name], submissions=[sub.name], suite=None, ruleset="external",
                                  preset=None, studies=studies, trials=n, hparams=None, device=device, seed=seed,
                                  clock=clock, workers=workers)
    ref = SubmissionRef(sub.name, str(Path(sub.path).resolve()), sub.code_hash)
    plan = sweep_plan(wl, ref, axes, config)
    store.check_writable(root)
    store.atomic_write_json(root / SWEEP_FILE, {"submission": sub.name, "workload": wl.name,
                                                "axes": [{"name": a.name, "values": list(a.values)} for a in axes]})
    return plan, config


# ------------------------------------------------------------------------------- the analysis


@dataclass(frozen=True)
class SweepMap:
    """The sensitivity map of one submission on one workload."""

    x: Axis
    y: Axis
    table: pd.DataFrame  #: one row per grid point: x, y, steps (median over studies, inf = missed), best_metric, good
    target: float
    mode: str  #: min or max

    @property
    def reached(self) -> np.ndarray:
        """(len(y), len(x)) booleans: the point reaches the target in more than half of its studies."""
        return np.isfinite(self._grid("steps"))

    def _grid(self, column: str) -> np.ndarray:
        wide = self.table.pivot_table(index="y", columns="x", values=column, aggfunc="first")
        return wide.reindex(index=list(self.y.values), columns=list(self.x.values)).to_numpy(float)

    @property
    def width(self) -> float:
        """Fraction of the grid within :data:`GOOD_FACTOR` x the best steps to target."""
        return float(self.table["good"].mean())


def sweep_map(root: Path) -> SweepMap:
    """Read a sweep's results folder (its experiment.json says which axes)."""
    from optbench import store

    path = Path(root) / SWEEP_FILE
    if not path.is_file():
        raise OptbenchError(f"{root}: not a sweep (no {SWEEP_FILE}; `optbench sweep` writes it)")
    from optbench.schemas import check
    from optbench.tools.sweep_schema import SweepFile

    grid = check(SweepFile, store.read_json(path), str(path))
    x, y = (Axis(a.name, tuple(a.values)) for a in grid.axes)
    trials = store.load_trials(root)
    if trials.empty:
        raise OptbenchError(f"{root}: no finished trials yet")
    trials = trials.assign(x=trials["hparams"].map(lambda h: float(h[x.name])),
                           y=trials["hparams"].map(lambda h: float(h[y.name])))
    steps = pd.to_numeric(trials["steps_to_target"], errors="coerce").where(trials["status"].eq("reached"))
    trials = trials.assign(steps=steps.fillna(np.inf))
    mode = str(trials["target_mode"].iloc[0])
    best = trials.groupby(["x", "y"])["best_metric"].agg("min" if mode == "min" else "max")
    table = pd.DataFrame({"steps": trials.groupby(["x", "y"])["steps"].median(), "best_metric": best}).reset_index()
    fastest = table["steps"].min()
    table["good"] = np.isfinite(table["steps"]) & (table["steps"] <= GOOD_FACTOR * fastest)
    return SweepMap(x, y, table, float(trials["target_value"].iloc[0]), mode)


def heatmap_figure(m: SweepMap, title: str) -> Any:
    """Steps to target where reached (colour), the best metric printed where missed, the
    target-reaching region outlined, the good region (within 1.25x of the best) hatched."""
    from optbench.report.figures import _plt, text

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


def write_sweep(root: Path, title: str) -> tuple[SweepMap, list[Path]]:
    """``<root>/sweep/``: sweep.csv (one row per grid point) and heatmap.png/.svg."""
    from optbench.report.figures import save_figure
    from optbench.store import atomic_write_text, check_writable

    m = sweep_map(root)
    out = Path(root) / SWEEP_FOLDER
    check_writable(out)
    table = m.table.rename(columns={"x": m.x.name, "y": m.y.name})
    atomic_write_text(out / "sweep.csv", table.to_csv(index=False))
    return m, [out / "sweep.csv", *save_figure(heatmap_figure(m, title), out, "heatmap")]


def sweep_command(console: Any, err_console: Any, submission: str, workload: str, grid: str, *, plot: bool,
                  results: Path, name: str | None, **options: Any) -> int:
    """``optbench sweep`` once its options are parsed: run the grid (unless ``plot``: only draw the
    sweep in the results folder ``submission``), write the map, print one line; the exit code
    (a run's: 1 when a trial failed, 130 when interrupted, and then nothing is drawn).
    ``options`` go to :func:`prepare`."""
    from rich.markup import escape

    from optbench import experiment
    from optbench.report.run import execute

    if plot:
        root = Path(submission)
    else:
        if not (submission and workload and grid):
            raise OptbenchError("optbench sweep SUBMISSION --workload W --grid name=lo:hi:n,name=lo:hi:n")
        root = results / (name or experiment.default_experiment_name())
        plan, config = prepare(submission, workload, grid, root, **options)
        code = execute(root, plan, config, console, err_console)
        if code:
            return code
    m, paths = write_sweep(root, root.name)
    console.print(f"good region (within {GOOD_FACTOR}× the best steps to target): {m.width:.0%} of the grid; "
                  f"{int(m.reached.sum())} of {m.reached.size} points reach the target; "
                  f"{', '.join(p.name for p in paths)} in {escape(str(paths[0].parent))}", highlight=False)
    return 0
