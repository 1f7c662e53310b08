"""AlgoPerf's ``workload_targets*.json`` files: which workloads are scored, and each one's target.

``optbench score --format algoperf --targets FILE`` reads one (v0.5, v0.6, or a newer one
with ``target_metric_goal``); :mod:`optbench.scoring.algoperf_logs` then reduces each
trial's ``eval_measurements.csv`` against the target of its workload.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optbench import safeio
from optbench.errors import OptbenchError

#: Metric names AlgoPerf minimises (``<=`` target) and maximises (``>=`` target);
#: from ``MIN_EVAL_METRICS`` / ``MAX_EVAL_METRICS`` of ``performance_profile.py``,
#: plus ``ppl`` (the v0.6 ``finewebedu_lm`` workload: perplexity, lower is better).
MINIMIZED_METRICS = frozenset({"loss", "ce_loss", "error_rate", "ctc_loss", "wer", "l1_loss", "ppl"})
MAXIMIZED_METRICS = frozenset({"accuracy", "mean_average_precision", "ssim", "bleu"})


@dataclass(frozen=True)
class WorkloadTarget:
    """One workload's validation target: ``metric`` is the CSV column, e.g. ``validation/ssim``."""

    metric: str
    value: float
    minimize: bool

    def reached(self, values: np.ndarray) -> np.ndarray:
        """Elementwise: does each eval reach the target? NaN never does."""
        with np.errstate(invalid="ignore"):
            return values <= self.value if self.minimize else values >= self.value


@dataclass(frozen=True)
class Targets:
    """A ``workload_targets*.json`` file: which workloads count, and each one's target.

    ``base`` workloads are scored; ``held_out`` ones (v0.5) only gate their base
    workload (:func:`optbench.scoring.rules.held_out`).
    """

    version: str
    base: tuple[str, ...]
    held_out: tuple[str, ...]
    workloads: Mapping[str, WorkloadTarget]
    path: str = ""

    def base_of(self, workload: str) -> str:
        """The base workload of a variant, by AlgoPerf's rule: the first base name the
        variant's name contains (``ogbg_model_size`` -> ``ogbg``)."""
        for base in self.base:
            if base in workload:
                return base
        return workload

    @property
    def variants(self) -> dict[str, str]:
        """``{held-out variant: its base workload}``."""
        return {w: self.base_of(w) for w in self.held_out}

    @property
    def scored_set(self) -> tuple[str, ...]:
        """Every workload whose logs matter: the base workloads, then the held-out ones."""
        return self.base + self.held_out


def metric_is_minimized(metric: str) -> bool:
    """Direction of an AlgoPerf metric name (``wer``, ``validation/ssim`` ...); unknown -> error."""
    name = metric.split("/")[-1]
    if name in MINIMIZED_METRICS:
        return True
    if name in MAXIMIZED_METRICS:
        return False
    raise ValueError(name)


def load_targets(path: str | os.PathLike[str]) -> Targets:
    """Read and check a ``workload_targets*.json`` (v0.5, v0.6, or newer with ``target_metric_goal``) with its
    schema (optbench.scoring.targets_schema)."""
    path = Path(path)
    from optbench.schemas import check
    from optbench.scoring.targets_schema import AlgoPerfTargetsFile

    raw = check(AlgoPerfTargetsFile, safeio.read_json(path, f"--targets {path}", expect=None), f"--targets {path}")
    base, held_out = tuple(raw.base_workloads), tuple(raw.held_out_workloads or ())
    workloads: dict[str, WorkloadTarget] = {}
    for name, entry in raw.workloads.items():
        metric_name, goal = entry.target_metric_name, entry.target_metric_goal
        if goal is not None:
            minimize = goal == "minimize"
        else:
            try:
                minimize = metric_is_minimized(metric_name)
            except ValueError:
                raise OptbenchError(
                    f"--targets {path}: workloads.{name}: metric {metric_name!r} is neither a known "
                    "minimised nor maximised metric; add target_metric_goal: minimize|maximize"
                ) from None
        workloads[name] = WorkloadTarget(f"validation/{metric_name}", entry.validation_target_value, minimize)
    missing = [w for w in base + held_out if w not in workloads]
    if missing:
        raise OptbenchError(f"--targets {path}: base/held-out workloads without a target: {', '.join(missing)}")
    return Targets(str(raw.benchmark_version), base, held_out, workloads, str(path))
