"""``optbench landscape TRIAL_DIR [TRIAL_DIR2]``: the loss around the weights a trial ended with.

Why: "what does the minimum an optimizer found look like, and is it wide?" (the lecture;
Li et al. 2018). A trial run with ``--save-weights`` keeps ``weights_init.pt`` and
``weights_final.pt``; this rebuilds its workload from the experiment's record and the model
from the saved weights, then measures, on the train and the validation split:

* the loss along the line from the initial to the final weights, and beyond (alpha in
  [-0.5, 1.5]; 0 = initial, 1 = final);
* along a random filter-normalised direction through the final weights (alpha in [-1, 1]);
* on a plane through them spanned by two random filter-normalised directions (contours);
* sharpness: the largest Hessian eigenvalue of the training loss (power iteration on
  Hessian-vector products) and the loss increase when each filter moves by rho times its norm
  along the gradient.

Two trials (two submissions' minima on the same workload) share the random seed, so their
directions are drawn alike and scaled to each one's own weights, and are drawn side by side.
Everything goes to ``--out`` (default: ``<first trial>/landscape``): ``landscape.json`` with every
number, ``landscape.png``/``.svg``. The losses are on at most ``max_examples`` examples per split.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from optbench import store
from optbench.errors import OptbenchError
from optbench.tools.landscape import geometry as geo

LINE_ALPHAS = np.linspace(-0.5, 1.5, 41)


@dataclass(frozen=True)
class Settings:
    points: int = 31  #: points of the random 1-D slice
    grid: int = 15  #: the plane is grid x grid
    span: float = 1.0  #: random slices cover [-span, span] (filter-normalised units: 1 = the weights' own size)
    rho: float = 0.05
    max_examples: int = 2048
    power_iterations: int = 100
    seed: int = 0


@dataclass
class TrialLandscape:
    label: str
    folder: str
    workload: str
    workload_hash: str
    line_alphas: list[float]
    line: dict[str, list[float]]  #: split -> loss along init -> final
    random_alphas: list[float]
    random: dict[str, list[float]]  #: split -> loss along a random direction through the final weights
    plane_alphas: list[float]
    plane: dict[str, list[list[float]]]  #: split -> grid (rows: second direction)
    top_eigenvalue: float
    power_iterations: int
    power_converged: bool
    rho: float
    rho_sharpness: float
    final_loss: dict[str, float]


def load_trial(folder: Path) -> tuple[Any, Any, list[str], list, list, dict]:
    """(workload, model in eval mode, parameter names, initial and final parameters, trial.json)."""
    import torch

    from optbench.plan import workload_from_record
    from optbench.workloads.runtime import build_workload

    folder = Path(folder)
    if not (folder / store.TRIAL_FILE).is_file():
        raise OptbenchError(f"{folder}: not a finished trial folder (no {store.TRIAL_FILE})")
    files = {k: folder / store.WEIGHTS_FILE.format(k) for k in ("init", "final")}
    if not all(p.is_file() for p in files.values()):
        raise OptbenchError(f"{folder}: no saved weights; run the experiment with `optbench run --save-weights`")
    trial = store.read_json(folder / store.TRIAL_FILE)
    root = folder.parents[3] if len(folder.parents) > 3 else folder
    experiment = store.read_experiment(root)
    entry = (experiment.get("workloads") or {}).get(trial.get("workload"))
    if entry is None:
        raise OptbenchError(f"{root}/{store.EXPERIMENT_FILE}: no record of workload {trial.get('workload')!r}")
    spec = workload_from_record(trial["workload"], entry)
    workload = build_workload(spec, "cpu", (experiment.get("config") or {}).get("data_dir"))
    model = workload.init_model(int(trial.get("seed", 0)))
    states = {k: torch.load(p, map_location="cpu", weights_only=True) for k, p in files.items()}
    model.load_state_dict(states["final"])
    model.eval()
    names = [n for n, _ in model.named_parameters()]
    init = [states["init"][n].float() for n in names]
    final = [states["final"][n].float() for n in names]
    return workload, model, names, init, final, trial


def split_loss(workload: Any, model: Any, names: list[str], split: str, max_examples: int) -> geo.LossFn:
    """``params -> mean loss over the first max_examples examples of split`` (+ the workload's l2)."""
    from torch.func import functional_call

    batches, count = [], 0
    for inputs, targets in workload.data.eval_batches(split, min(2048, max_examples)):
        batches.append((inputs, targets))
        count += targets.numel()
        if count >= max_examples:
            break
    l2 = workload.spec.l2

    def loss(params: geo.Params):
        mapping = dict(zip(names, params))
        total, n = 0.0, 0
        for inputs, targets in batches:
            values = workload.elementwise_loss(functional_call(model, mapping, (inputs,)), targets)
            total, n = total + values.sum(), n + values.numel()
        mean = total / max(n, 1)
        return mean + 0.5 * l2 * sum(p.pow(2).sum() for p in params) if l2 else mean

    return loss


def measure(folder: Path, settings: Settings) -> TrialLandscape:
    import torch

    workload, model, names, init, final, trial = load_trial(folder)
    splits = [s for s in ("train", "validation") if s in workload.data.splits]
    losses = {s: split_loss(workload, model, names, s, settings.max_examples) for s in splits}
    generator = torch.Generator().manual_seed(settings.seed)
    d1, d2 = geo.random_direction(final, generator), geo.random_direction(final, generator)
    displacement = [f - i for f, i in zip(final, init)]
    rand_alphas = np.linspace(-settings.span, settings.span, settings.points)
    grid = np.linspace(-settings.span, settings.span, settings.grid)
    eig = geo.top_hessian_eigenvalue(losses["train"], final, generator, settings.power_iterations)
    label = f"{trial.get('submission')} (study {trial.get('study')}, trial {trial.get('trial')})"
    return TrialLandscape(
        label=label, folder=str(folder), workload=str(trial.get("workload")),
        workload_hash=str(trial.get("workload_hash")),
        line_alphas=LINE_ALPHAS.tolist(),
        line={s: geo.line(f, init, displacement, LINE_ALPHAS).tolist() for s, f in losses.items()},
        random_alphas=rand_alphas.tolist(),
        random={s: geo.line(f, final, d1, rand_alphas).tolist() for s, f in losses.items()},
        plane_alphas=grid.tolist(),
        plane={s: geo.plane(f, final, d1, d2, grid, grid).tolist() for s, f in losses.items()},
        top_eigenvalue=eig.value, power_iterations=eig.iterations, power_converged=eig.converged,
        rho=settings.rho, rho_sharpness=geo.rho_sharpness(losses["train"], final, settings.rho),
        final_loss={s: float(f(final)) for s, f in losses.items()},
    )


def draw(results: list[TrialLandscape]) -> Any:
    """1-D slices (both trials on shared axes; solid train, dashed validation) and one contour panel
    per trial (train loss, the same log-spaced levels for every trial)."""
    from matplotlib.colors import LogNorm

    from optbench.report.figures import _plt, text

    plt = _plt()
    fig, axes = plt.subplots(1, 2 + len(results), figsize=(3.3 * (2 + len(results)), 3.3), layout="constrained")
    colours = [f"C{i}" for i in range(len(results))]
    for r, colour in zip(results, colours):
        for split, style in (("train", "-"), ("validation", "--")):
            if split in r.line:
                axes[0].plot(r.line_alphas, r.line[split], style, color=colour, label=f"{text(r.label)} {split}")
                axes[1].plot(r.random_alphas, r.random[split], style, color=colour)
    axes[0].set(title="init (0) -> final (1) and beyond", xlabel="alpha", ylabel="loss", yscale="log")
    axes[1].set(title="random filter-normalised direction", xlabel="alpha (x filter norms)", yscale="log")
    axes[0].legend(fontsize="x-small")
    for ax in axes[:2]:
        ax.grid(True, alpha=0.3)
    values = np.concatenate([np.asarray(r.plane["train"]).ravel() for r in results])
    values = values[np.isfinite(values) & (values > 0)]
    levels = np.geomspace(values.min(), values.max(), 16) if len(values) else 10
    for ax, r in zip(axes[2:], results):
        z = np.asarray(r.plane["train"])
        filled = ax.contourf(r.plane_alphas, r.plane_alphas, z, levels=levels, norm=LogNorm(), cmap="viridis")
        ax.contour(r.plane_alphas, r.plane_alphas, z, levels=levels, colors="white", linewidths=0.4)
        ax.plot([0], [0], "r*", markersize=9)
        ax.set(title=f"{text(r.label)}\nlambda_max {r.top_eigenvalue:.3g}, rho-sharpness {r.rho_sharpness:.3g}",
               xlabel="direction 1", ylabel="direction 2", aspect="equal")
        ax.tick_params(labelsize="small")
        ax.title.set_fontsize("small")
    if len(results):
        bar = fig.colorbar(filled, ax=axes[2:].tolist(), label="train loss", shrink=0.85, ticks=levels[::3])
        bar.ax.set_yticklabels([f"{v:.2g}" for v in levels[::3]])
        bar.ax.minorticks_off()
    fig.suptitle(f"loss landscape: {text(results[0].workload)}", fontsize="medium")
    return fig


def landscape(folders: list[Path], out: Path | None, settings: Settings, console: Any) -> list[Path]:
    """Measure each trial, write ``landscape.json`` and the figure; print the sharpness table and the files."""
    from rich.markup import escape
    from rich.table import Table

    from optbench.report.figures import save_figure

    if not 1 <= len(folders) <= 2:
        raise OptbenchError("optbench landscape takes one or two trial folders")
    results = [measure(Path(f), settings) for f in folders]
    if len({r.workload_hash for r in results}) > 1:
        raise OptbenchError("the two trials ran different workloads (hashes differ): their landscapes do not compare")
    out_dir = Path(out) if out else Path(folders[0]) / "landscape"
    store.check_writable(out_dir)
    store.atomic_write_text(out_dir / "landscape.json", json.dumps(
        {"settings": asdict(settings), "trials": [asdict(r) for r in results]}, indent=1))
    written = [out_dir / "landscape.json", *save_figure(draw(results), out_dir, "landscape")]
    table = Table(title=f"sharpness at the final weights ({escape(results[0].workload)})")
    for column in ("trial", "train loss", "val loss", "lambda_max", f"rho={settings.rho} increase"):
        table.add_column(column, justify="left" if column == "trial" else "right")
    for r in results:
        table.add_row(escape(r.label), f"{r.final_loss.get('train', float('nan')):.4g}",
                      f"{r.final_loss.get('validation', float('nan')):.4g}",
                      f"{r.top_eigenvalue:.4g}" + ("" if r.power_converged else " (not converged)"),
                      f"{r.rho_sharpness:.4g}")
    console.print(table)
    for path in written:
        console.print(f"  wrote {escape(str(path))}")
    return written
