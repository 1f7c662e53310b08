"""Expanding workloads × submissions × studies × trials into :class:`TrialSpec`s.

Seeds are derived from (base seed, workload, study, trial), *not* from the
submission: every submission sees the same initial weights and the same batch
order for a given study and trial, so comparisons are paired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from optbench.spec import TrialSpec, WorkloadSpec, stable_hash


@dataclass(frozen=True)
class SubmissionRef:
    """What the plan needs of a submission (no code is imported to plan)."""

    name: str
    path: str
    code_hash: str


#: (submission, workload, study) -> the hyperparameter points of that study's trials, in order.
HparamsFor = Callable[[SubmissionRef, WorkloadSpec, int], list[dict[str, Any]]]


def trial_seed(base_seed: int, workload: str, study: int, trial: int) -> int:
    """A 31-bit seed that depends only on its inputs (not on Python's hash seed)."""
    return int(stable_hash([base_seed, workload, study, trial]), 16) % (2**31 - 1)


def build_plan(
    workloads: list[WorkloadSpec],
    submissions: list[SubmissionRef],
    studies: int,
    hparams_for: HparamsFor,
    *,
    ruleset: str = "external",
    budget_multiplier: float = 1.0,
    base_seed: int = 0,
    device: str = "cpu",
    stop_at_target: bool = True,
    data_dir: str | None = None,
) -> list[TrialSpec]:
    specs = []
    for study in range(studies):
        for workload in workloads:
            for sub in submissions:
                for trial, hparams in enumerate(hparams_for(sub, workload, study)):
                    specs.append(TrialSpec(
                        workload=workload, submission=sub.name, submission_path=sub.path, hparams=dict(hparams),
                        seed=trial_seed(base_seed, workload.name, study, trial), study=study, trial=trial,
                        ruleset=ruleset, budget_multiplier=budget_multiplier, device=device,
                        stop_at_target=stop_at_target, submission_hash=sub.code_hash, data_dir=data_dir,
                    ))
    return specs
