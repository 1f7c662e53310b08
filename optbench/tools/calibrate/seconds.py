"""The seconds budget alone, re-measured in a quiet moment (``--seconds-only``; see the package docstring)."""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from optbench.errors import OptbenchError
from optbench.spec import Budget, Clock, Executor, TrialSpec, WorkloadSpec
from optbench.tools.calibrate.common import DEFAULT_HEADROOM, Run, machine_info, round_up, run_all, sig
from optbench.tools.calibrate.yaml_writer import rewrite


@dataclass
class SecondsProposal:
    workload: str
    budget_steps: int
    budget_seconds: float
    headroom: float
    cpu_per_step: dict[str, float]  #: median over rounds, per reference submission
    samples: dict[str, list[float]]
    machine: dict[str, Any] = field(default_factory=dict)

    def notes(self, command: str, when: str) -> dict[str, Any]:
        return {"date": when, "command": command, "budget_seconds": self.budget_seconds,
                "rule": f"{self.headroom:g} x {self.budget_steps} steps x the slower reference submission's median "
                        "CPU seconds per step",
                "cpu_seconds_per_step": {k: sig(v, 3) for k, v in self.cpu_per_step.items()},
                "samples": {k: [sig(x, 3) for x in v] for k, v in self.samples.items()},
                "machine": self.machine}


def calibrate_seconds(spec: WorkloadSpec, submissions: list[Any], executor: Executor, steps: int = 300,
                      rounds: int = 3, headroom: float = DEFAULT_HEADROOM,
                      on_run: Callable[[str, Run], None] | None = None) -> SecondsProposal:
    """Re-measure the seconds budget only (see the module docstring); run it with one worker."""
    machine = machine_info(getattr(executor, "threads", None))
    work = dataclasses.replace(spec, budget=Budget(spec.budget.seconds * 5, spec.budget.step_hint, max_steps=steps,
                                                   steps=steps))
    samples: dict[str, list[float]] = {s.name: [] for s in submissions}
    for r in range(rounds):
        specs = [TrialSpec(work, s.name, str(s.path), {}, seed=r, trial=r, ruleset="self", stop_at_target=False,
                           submission_hash=s.code_hash, clock=Clock.STEPS) for s in submissions]
        for run in run_all(specs, executor, f"round {r + 1}", on_run):
            if run.cpu_per_step:
                samples[run.submission].append(run.cpu_per_step)
    per_step = {k: statistics.median(v) for k, v in samples.items() if v}
    if not per_step:
        raise OptbenchError(f"calibrate {spec.name}: no reference submission completed a timed run")
    return SecondsProposal(spec.name, spec.budget.step_budget, round_up(headroom * spec.budget.step_budget *
                                                                           max(per_step.values())),
                           headroom, per_step, samples, machine)


def write_seconds(path: Path, proposal: SecondsProposal, command: str, when: str) -> bool:
    """Write a re-measured seconds budget into the workload YAML (notes.calibration.seconds_budget);
    bump ``version`` when it changed. Returns whether it did."""
    def change(data: Any) -> bool:
        changed = data["budget"].get("seconds") != proposal.budget_seconds
        data["budget"]["seconds"] = proposal.budget_seconds
        notes = data.get("notes") or {}
        calibration = notes.get("calibration") or {}
        calibration["budget_seconds"] = proposal.budget_seconds
        calibration["seconds_budget"] = proposal.notes(command, when)
        notes["calibration"] = calibration
        data["notes"] = notes
        return changed

    return rewrite(path, change)


