"""What every calibration shares: a calibration trial reduced to what proposals need, running a list of
trials, the machine they ran on, and rounding (targets toward the easier side, budgets up)."""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass, field
from typing import Any, Callable

from optbench.spec import Executor, Target, TrialSpec

TARGET_DIGITS = 3
BUDGET_DIGITS = 2
DEFAULT_QUANTILE = 0.4
DEFAULT_HEADROOM = 1.5
DEFAULT_REFERENCES = ("nadamw", "adamw")
STUDY_TRIALS = 5  #: AlgoPerf's external-tuning trials per study, for the reported study success rate


@dataclass
class Run:
    """One calibration trial, reduced to what the proposals need."""

    submission: str
    hparams: dict[str, Any]
    seed: int
    status: str
    best: float | None
    steps: int
    cpu_seconds: float
    curve: list[tuple[int, float]] = field(default_factory=list)  #: (step, metric) at every eval within budget
    error: str | None = None
    workload: str = ""
    steps_to_target: int | None = None  #: as the trial recorded it (trials that stop at the target)

    @property
    def cpu_per_step(self) -> float | None:
        return self.cpu_seconds / self.steps if self.steps else None

    def first_hit(self, target: Target) -> int | None:
        """The step of the first eval that reaches ``target``, or None."""
        return next((step for step, value in self.curve if target.is_hit(value)), None)


def machine_info(threads: int | None) -> dict[str, Any]:
    """Where the times were measured: cores, load (others' processes slow a shared machine), torch threads."""
    from optbench.executors.base import available_cores

    info: dict[str, Any] = {"cpus": os.cpu_count(), "available_cores": available_cores(),
                            "processor": platform.processor() or platform.machine(),
                            "torch_threads_per_trial": threads}
    if hasattr(os, "getloadavg"):
        info["load_average_1min_at_start"] = round(os.getloadavg()[0], 2)
    return info


def sig(value: float | None, digits: int) -> float | None:
    """``value`` to ``digits`` significant digits (None, 0 and non-finite values as they are)."""
    if value is None or not math.isfinite(value) or value == 0:
        return value
    return float(f"{value:.{digits}g}")


def plain(hparams: dict[str, Any]) -> dict[str, Any]:
    return {k: (sig(v, 4) if isinstance(v, float) else v) for k, v in hparams.items()}


def round_target(value: float, mode: str, digits: int = TARGET_DIGITS) -> float:
    """Round to ``digits`` significant digits toward the easier side (down for max, up for min)."""
    if value == 0 or not math.isfinite(value):
        return value
    scale = 10 ** (math.floor(math.log10(abs(value))) - digits + 1)
    nearest = round(value / scale)

    def at(units: int) -> float:
        return float(f"{units * scale:.{digits}g}")

    easier = (lambda x: x <= value) if mode == "max" else (lambda x: x >= value)
    return at(nearest) if easier(at(nearest)) else at(nearest - 1 if mode == "max" else nearest + 1)


def accuracy_standard_error(accuracy: float, examples: int) -> float:
    """The binomial standard error of an accuracy measured on ``examples`` examples.

    One and the same classifier scores differently on different validation splits of this size;
    a target closer than this to what tuned trials reach is decided by which examples the split
    holds (on a plateau, by one image more or less), not by the training algorithm."""
    if examples < 1:
        raise ValueError(f"an accuracy needs at least one example, got {examples}")
    p = min(max(accuracy, 0.0), 1.0)
    return math.sqrt(p * (1.0 - p) / examples)


def round_up(value: float, digits: int = BUDGET_DIGITS) -> float:
    """Round a positive number up to ``digits`` significant digits."""
    scale = 10 ** (math.floor(math.log10(value)) - digits + 1)
    return float(f"{math.ceil(value / scale - 1e-9) * scale:.{digits}g}")


def _to_run(spec: TrialSpec, result: Any, evals: list[dict]) -> Run:
    metric = spec.workload.target.metric
    curve = [(int(r["step"]), float(r[metric])) for r in evals
             if r.get(metric) is not None and math.isfinite(r[metric]) and r["step"] <= spec.budget_steps]
    best = None
    for _, value in curve:
        if best is None or spec.workload.target.better(value, best):
            best = value
    return Run(spec.submission, dict(spec.hparams), spec.seed, str(result.status), best, result.steps,
               result.submission_cpu_time, curve, result.error, spec.workload.name, result.steps_to_target)


def run_all(specs: list[TrialSpec], executor: Executor, phase: str,
            on_run: Callable[[str, Run], None] | None = None) -> list[Run]:
    """Run ``specs`` and return their runs in the order of ``specs``."""
    runs: dict[int, Run] = {}

    def done(finished: Any) -> None:
        run = _to_run(finished.spec, finished.result, finished.evals)
        runs[id(finished.spec)] = run
        if on_run:
            on_run(phase, run)

    executor.run(specs, on_finished=done)
    return [runs[id(s)] for s in specs if id(s) in runs]


