"""Hand-made results folders for the analysis tests (tuning curves, both clocks, significance):
real trial.json files written by :func:`optbench.store.write_trial`, with times, steps and
final metrics chosen so that the answers are known."""

from __future__ import annotations

from pathlib import Path

from optbench import store
from optbench.spec import (
    Budget,
    Clock,
    ComponentRef,
    EvalPolicy,
    Target,
    TrialResult,
    TrialSpec,
    WorkloadSpec,
)


def workload(name: str, target: float = 0.9) -> WorkloadSpec:
    return WorkloadSpec(
        name=name, version=1, description="", dataset=ComponentRef("mnist1d"), model=ComponentRef("mlp"),
        loss=ComponentRef("cross_entropy"), target=Target("validation/accuracy", target, "max"),
        budget=Budget(100.0, 1000), eval=EvalPolicy(every_steps=10), batch_size=32,
    )


def write(root: Path, trials: dict, ruleset: str = "external", clock: str = "wall") -> Path:
    """trials: {(submission, workload, study, trial): (seconds, steps, final_metric[, hparams])}, seconds
    None = missed the target (then steps is ignored); hparams default {"lr": 0.1}. The target is
    accuracy 0.9."""
    for (sub, wl, study, trial), (seconds, steps, metric, *hparams) in trials.items():
        spec = TrialSpec(workload=workload(wl), submission=sub, submission_path=".",
                         hparams=hparams[0] if hparams else {"lr": 0.1},
                         seed=study * 10 + trial, study=study, trial=trial, ruleset=ruleset,
                         clock=Clock(clock))
        reached = seconds is not None
        result = TrialResult(
            status="reached" if reached else "budget_exhausted",
            time_to_target=seconds, wall_time_to_target=seconds, steps_to_target=steps if reached else None,
            steps=steps or 1000, submission_time=seconds or 100.0, best_metric=metric,
        )
        evals = [{"step": 10, "submission_time": 1.0, "eval_time": 0.1, "total_time": 1.2,
                  "validation/accuracy": metric}]
        store.write_trial(root, spec, result, evals)
    return root
