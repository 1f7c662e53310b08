"""The SGD lecture's convergence bounds beside measured SGD (``optbench theory``).

For a convex workload whose dataset records ``L``, ``mu``, ``sigma2`` and ``f_star``
(``logreg`` and ``lls``), run plain mini-batch SGD, x_{k+1} = x_k − α_k ĝ_k with ĝ_k the
mean gradient of B examples drawn uniformly with replacement, from x₀ = 0, in float64
numpy (exact, and fast enough for 10⁵ steps), and plot the measured E[f(x_k)] − f*
(the mean over ``runs`` independent runs) beside the lecture's bounds for an L-smooth,
μ-PL function whose stochastic gradients have second moment σ²:

* constant step α < 1/(2μ):  E[f(x_k) − f*] ≤ (1 − 2αμ)^k (f(x₀) − f*) + Lσ²α/(4μ);
* α_k = (2k+1)/(2μ(k+1)²):   E[f(x_k) − f*] ≤ Lσ²/(2μ²k).

σ² is the dataset's ``sigma2`` (the single-example gradient variance at x*) divided by
B: the variance of a with-replacement mini-batch mean. The lecture assumes the bound on
the second moment holds everywhere; we use its value at the optimum, which is what
the noise floor is made of (far from x* the first term dominates anyway).

Two choices, both printed on the figure:

* the default constant step is α = 1/(2·L_B), with L_B = (1 − 1/B)·L + L_max/B the
  expected smoothness of a with-replacement mini-batch (Gower et al. 2019), the largest
  step their analysis of constant-step SGD allows (``--alpha`` overrides it);
* the decreasing rule starts at α₀ = 1/(2μ), far above the stable 2/L when κ = L/μ is
  large (κ ≈ 1e3 here): taken literally it diverges on ``lls`` in its first steps. By
  default it is therefore capped at the constant α, α_k = min(α, (2k+1)/(2μ(k+1)²)),
  which is Gower et al.'s switching rule; ``cap=False`` runs it literally.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from optbench.errors import OptbenchError
from optbench.spec import WorkloadSpec

REQUIRED = ("f_star", "L", "mu", "sigma2", "L_max", "problem")


@dataclass
class Problem:
    """A finite-sum convex problem in float64: logistic regression or least squares (+ l2/2‖x‖²)."""

    A: np.ndarray
    y: np.ndarray
    kind: str  #: "logistic" or "least_squares"
    l2: float
    f_star: float
    L: float
    mu: float
    sigma2: float
    L_max: float

    def value(self, x: np.ndarray) -> float:
        z = self.A @ x
        if self.kind == "logistic":
            loss = np.logaddexp(0.0, -self.y * z).mean()
        else:
            loss = 0.5 * ((z - self.y) ** 2).mean()
        return float(loss + 0.5 * self.l2 * x @ x)

    def grad(self, x: np.ndarray, idx: np.ndarray) -> np.ndarray:
        A, y = self.A[idx], self.y[idx]
        z = A @ x
        if self.kind == "logistic":
            coeff = -y * 0.5 * (1.0 - np.tanh(0.5 * y * z))  # −y σ(−y z)
        else:
            coeff = z - y
        return A.T @ coeff / len(idx) + self.l2 * x


def load_problem(spec: WorkloadSpec) -> Problem:
    from optbench.workloads.registry import DATASETS

    data = DATASETS.get(spec.dataset.name)(**spec.dataset.params)
    meta = getattr(data, "metadata", {})
    missing = [k for k in REQUIRED if k not in meta]
    if missing or meta.get("problem") not in ("logistic", "least_squares") or "train" not in getattr(data, "data", {}):
        raise OptbenchError(
            f"optbench theory {spec.name}: its dataset does not record {', '.join(missing) or 'a convex problem'}; "
            "theory works for convex finite-sum workloads such as logreg and lls"
        )
    A, y = data.data["train"]
    return Problem(A.double().numpy(), y.double().numpy(), meta["problem"], float(spec.l2), float(meta["f_star"]),
                   float(meta["L"]), float(meta["mu"]), float(meta["sigma2"]), float(meta["L_max"]))


def record_points(steps: int, count: int = 200) -> np.ndarray:
    """0 and about ``count`` log-spaced steps up to ``steps``."""
    return np.unique(np.concatenate([[0], np.round(np.logspace(0, math.log10(max(steps, 1)), count))])).astype(int)


def run_sgd(problem: Problem, steps: int, batch: int, alphas: np.ndarray, seed: int, at: np.ndarray) -> np.ndarray:
    """f(x_k) − f* at the steps ``at`` (NaN once the iterate is no longer finite)."""
    rng = np.random.default_rng(seed)
    x = np.zeros(problem.A.shape[1])
    out = np.full(len(at), np.nan)
    j = 0
    m = len(problem.y)
    for k in range(steps + 1):
        while j < len(at) and at[j] == k:
            out[j] = problem.value(x) - problem.f_star
            j += 1
        if k == steps:
            break
        x = x - alphas[k] * problem.grad(x, rng.integers(0, m, batch))
        if not np.all(np.isfinite(x)) or np.abs(x).max() > 1e50:
            break
    return out


@dataclass
class TheoryResult:
    workload: str
    steps: np.ndarray
    constant_measured: np.ndarray  #: mean over runs of f(x_k) − f*
    constant_bound: np.ndarray
    decreasing_measured: np.ndarray
    decreasing_bound: np.ndarray
    alpha: float
    batch: int
    sigma2_batch: float
    capped: bool
    info: dict[str, Any]
    files: list[Path]


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1)
    except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
        import contextlib

        return contextlib.nullcontext()


def _mean_runs(curves: list[np.ndarray]) -> np.ndarray:
    stacked = np.vstack(curves)
    with np.errstate(invalid="ignore"):
        mean = stacked.mean(axis=0)  # NaN where any run diverged: E[f] is not finite there
    return mean


def theory(spec: WorkloadSpec, out: Path, steps: int = 20000, batch: int | None = None, alpha: float | None = None,
           runs: int = 3, seed: int = 0, cap: bool = True) -> TheoryResult:
    """Run both schedules ``runs`` times, write ``theory_<workload>.png/.svg/.csv`` into ``out``."""
    if steps < 1 or runs < 1:
        raise OptbenchError("optbench theory: --steps and --runs must be at least 1")
    problem = load_problem(spec)
    B = int(batch or spec.batch_size)
    if B < 1:
        raise OptbenchError(f"optbench theory: --batch-size must be at least 1, got {B}")
    L, mu = problem.L, problem.mu
    L_B = (1 - 1 / B) * L + problem.L_max / B
    alpha = float(alpha) if alpha is not None else 1.0 / (2.0 * L_B)
    if not 0 < alpha < 1 / (2 * mu):
        raise OptbenchError(f"optbench theory: the constant step must satisfy 0 < alpha < 1/(2 mu) = {1 / (2 * mu):.4g}, "
                            f"got {alpha:g}")
    sigma2 = problem.sigma2 / B
    at = record_points(steps)
    k = np.arange(steps)
    decreasing = (2 * k + 1) / (2 * mu * (k + 1) ** 2)
    if cap:
        decreasing = np.minimum(decreasing, alpha)
    constant = np.full(steps, alpha)
    gap0 = problem.value(np.zeros(problem.A.shape[1])) - problem.f_star
    with _one_blas_thread():  # tiny mat-vecs: threads only add contention
        const_runs = [run_sgd(problem, steps, B, constant, seed + r, at) for r in range(runs)]
        decr_runs = [run_sgd(problem, steps, B, decreasing, seed + 1000 + r, at) for r in range(runs)]
    const_bound = (1 - 2 * alpha * mu) ** at * gap0 + L * sigma2 * alpha / (4 * mu)
    with np.errstate(divide="ignore"):
        decr_bound = np.where(at > 0, L * sigma2 / (2 * mu**2 * np.maximum(at, 1)), np.nan)
    info = {"L": L, "mu": mu, "kappa": L / mu, "sigma2": problem.sigma2, "L_max": problem.L_max, "L_B": L_B,
            "f_star": problem.f_star, "f0_minus_f_star": gap0, "noise_floor_bound": L * sigma2 * alpha / (4 * mu)}
    result = TheoryResult(spec.name, at, _mean_runs(const_runs), const_bound, _mean_runs(decr_runs), decr_bound,
                          alpha, B, sigma2, cap, info, [])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result.files = _write(result, out, runs, const_runs, decr_runs)
    return result


def _write(r: TheoryResult, out: Path, runs: int, const_runs: list, decr_runs: list) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stem = out / f"theory_{r.workload}"
    with open(f"{stem}.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "constant_measured", "constant_bound", "decreasing_measured", "decreasing_bound"])
        for row in zip(r.steps, r.constant_measured, r.constant_bound, r.decreasing_measured, r.decreasing_bound):
            writer.writerow([int(row[0]), *(f"{v:.6g}" for v in row[1:])])

    info = r.info
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    shown = r.steps > 0  # step 0 has no place on a log axis (its value is in the CSV)
    x = r.steps[shown]
    panels = [
        (axes[0], const_runs, r.constant_measured, r.constant_bound,
         f"constant step α = {r.alpha:.3g}",
         r"$(1-2\alpha\mu)^k\,(f(x_0)-f^*) + L\sigma^2\alpha/(4\mu)$"),
        (axes[1], decr_runs, r.decreasing_measured, r.decreasing_bound,
         r"$\alpha_k = \frac{2k+1}{2\mu(k+1)^2}$" + (f", capped at α = {r.alpha:.3g}" if r.capped else " (literal)"),
         r"$L\sigma^2/(2\mu^2 k)$"),
    ]
    for ax, curves, mean, bound, title, bound_label in panels:
        for curve in curves:
            ax.plot(x, curve[shown], color="tab:blue", alpha=0.25, linewidth=0.8)
        ax.plot(x, mean[shown], color="tab:blue", linewidth=2, label=f"measured E[f(x_k)] − f* ({runs} runs)")
        ax.plot(x, bound[shown], color="tab:red", linestyle="--", linewidth=2, label="bound " + bound_label)
        if np.isnan(mean[shown]).any():
            first = int(x[np.isnan(mean[shown])][0])
            ax.annotate(f"diverged by step {first}", xy=(0.35, 0.5), xycoords="axes fraction", color="tab:blue")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("step k")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    axes[0].set_ylabel("f(x_k) − f*")
    fig.suptitle(f"SGD on {r.workload}: L = {info['L']:.3g}, μ = {info['mu']:.3g} (κ = {info['kappa']:.3g}), "
                 f"σ² = {info['sigma2']:.3g}/B, B = {r.batch}", fontsize=11)
    fig.tight_layout()
    files = [Path(f"{stem}.png"), Path(f"{stem}.svg"), Path(f"{stem}.csv")]
    fig.savefig(files[0], dpi=120)
    fig.savefig(files[1])
    plt.close(fig)
    return files


def theory_command(workload: str, workloads_dir: list[Path], out: Path, console: Any, **options: Any) -> None:
    """``optbench theory`` once its options are parsed: run :func:`theory` on the workload (a name or
    YAML path) with ``options``, print the constants, the last measured and bounded gaps and the files."""
    from rich.markup import escape

    from optbench.workloads import find_workload

    result = theory(find_workload(workload, workloads_dir), out, **options)
    info = result.info
    console.print(f"[bold]{escape(result.workload)}[/]: L = {info['L']:.4g}, mu = {info['mu']:.4g} (kappa {info['kappa']:.4g}), "
                  f"sigma2 = {info['sigma2']:.4g} (per example; /B = {result.sigma2_batch:.4g}), B = {result.batch}, "
                  f"alpha = {result.alpha:.4g}", highlight=False)
    last = -1
    console.print(f"  constant step after {result.steps[last]} steps: measured {result.constant_measured[last]:.3g}, "
                  f"bound {result.constant_bound[last]:.3g}; decreasing: measured "
                  f"{result.decreasing_measured[last]:.3g}, bound {result.decreasing_bound[last]:.3g}", highlight=False)
    for path in result.files:
        console.print(f"  wrote {path}", markup=False)
