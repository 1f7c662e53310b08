"""``optbench sweep``: a log grid over two declared hyperparameters, run as an ordinary experiment,
and the sensitivity map it gives.

Why: a claim "optimizer A beats B" means little if A only works in a narrow band of learning
rates; the papers ask for the map and for the width of the good region. The grid is the
plan of one external-tuning experiment (one trial per grid point and study, the other
hyperparameters at the submission's defaults), so it runs with the same workers, Ray,
checkpoints and ``optbench run --resume`` as any run. The analysis reads the results folder
(:mod:`optbench.scoring.sweep_map`: the map and the width of the good region, so that
``optbench report`` shows it too) and draws the heat map
(:func:`optbench.report.analysis_figures.heatmap_figure`); this module plans the grid and
writes ``<root>/sweep/``.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

from optbench.errors import OptbenchError
from optbench.plan import build_plan
from optbench.report.analysis_figures import heatmap_figure
from optbench.scoring.sweep_map import GOOD_FACTOR, SWEEP_FILE, Axis, SweepMap, sweep_map
from optbench.spec import RunConfig, SubmissionRef, TrialSpec, WorkloadSpec

SWEEP_FOLDER = "sweep"


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
