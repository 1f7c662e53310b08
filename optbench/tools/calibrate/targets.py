"""A workload's target and budgets from the reference submissions' tuned trials (see the package docstring)."""

from __future__ import annotations

import dataclasses
import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from optbench.errors import OptbenchError
from optbench.plan import trial_seed
from optbench.spec import Budget, Clock, Executor, Target, TrialSpec, WorkloadSpec
from optbench.tools.calibrate.common import (
    DEFAULT_HEADROOM,
    DEFAULT_QUANTILE,
    STUDY_TRIALS,
    Run,
    accuracy_standard_error,
    machine_info,
    plain,
    round_target,
    round_up,
    run_all,
    sig,
)
from optbench.tuning.points import study_points
from optbench.tuning.spaces import load_search_space
from optbench.workloads.runtime import build_workload

RULE = ("target = the easiest, over the reference submissions ({references}), of the value that {quantile:.0%} of "
        "each one's {trials} tuned trials reach within {horizon} steps (an accuracy: less one binomial standard "
        "error of the validation split, sqrt(p(1-p)/n)), rounded to 3 significant digits toward the "
        "easier side; budget: {horizon} steps, and {headroom:g} x {horizon} x the CPU seconds per step of the slower "
        "reference submission, rounded up to 2 significant digits")
RULE_FIXED = ("target fixed by hand (--target); budget: {horizon} steps, and {headroom:g} x {horizon} x the CPU "
              "seconds per step of the slower reference submission ({references}), rounded up to 2 significant digits")


def quantile_target(bests: Sequence[float | None], mode: str, quantile: float) -> float | None:
    """The value that a fraction ``quantile`` of the trials reaches or beats: the
    ``ceil(quantile × n)``-th best of their best values (None: reached nothing). None when
    fewer trials than that produced a value."""
    if not 0 < quantile <= 1:
        raise OptbenchError(f"calibrate: --quantile must be in (0, 1], got {quantile}")
    values = sorted((b for b in bests if b is not None and math.isfinite(b)), reverse=(mode == "max"))
    k = math.ceil(quantile * len(bests))
    return float(values[k - 1]) if 0 < k <= len(values) else None


def reach_fraction(runs: Sequence[Run], target: Target) -> float:
    """The fraction of ``runs`` whose curve reaches ``target``."""
    return sum(r.first_hit(target) is not None for r in runs) / len(runs) if runs else 0.0


def is_accuracy(target: Target) -> bool:
    """An accuracy target (a fraction of examples classified right): the margin of the rule applies."""
    return target.mode == "max" and target.metric.rsplit("/", 1)[-1] == "accuracy"


def evaluated_examples(spec: WorkloadSpec, split: str) -> int:
    """How many examples the workload's ``split`` evaluates on (the n of an accuracy)."""
    data = build_workload(spec).data
    return sum(len(y) for _, y in data.eval_batches(split, 4096))


def study_success(fraction: float, trials: int = STUDY_TRIALS) -> float:
    """The chance that at least one of ``trials`` independent trials succeeds."""
    return 1.0 - (1.0 - fraction) ** trials


# ---------------------------------------------------------------------------------- targets


@dataclass
class TargetProposal:
    workload: str
    target: Target  #: the proposed target (metric and mode as the workload's)
    horizon: int
    budget_seconds: float
    quantile: float
    headroom: float
    cpu_per_step: dict[str, float]  #: median CPU seconds per step, per reference submission
    quantile_values: dict[str, float | None]  #: per reference submission
    reach: dict[str, float]  #: fraction of each submission's search trials that reach the target
    best: Run
    search: list[Run]
    seed_runs: list[Run]
    seed_steps: list[int | None]
    rule: str
    fixed_target: bool
    machine: dict[str, Any] = field(default_factory=dict)
    margin: dict[str, Any] | None = None  #: an accuracy's margin: validation examples, standard error, value before

    def notes(self, command: str, when: str) -> dict[str, Any]:
        """The ``notes.calibration`` mapping written into the workload YAML."""
        subs = sorted({r.submission for r in self.search})
        best_by_sub = {}
        for sub in subs:
            values = [r.best for r in self.search if r.submission == sub and r.best is not None]
            if values:
                best_by_sub[sub] = sig(min(values) if self.target.mode == "min" else max(values), 4)
        return {
            "date": when,
            "command": command,
            "rule": self.rule,
            "clock": "steps (search and seeds); CPU seconds recorded",
            "search": {"submissions": subs, "trials_per_submission": len(self.search) // max(len(subs), 1),
                       "horizon_steps": self.horizon,
                       "best_value_per_submission": best_by_sub,
                       "quantile": self.quantile,
                       "quantile_value_per_submission": {k: sig(v, 4) for k, v in self.quantile_values.items()},
                       "reach_fraction_per_submission": {k: round(v, 3) for k, v in self.reach.items()},
                       "study_success_5_trials": {k: round(study_success(v), 3) for k, v in self.reach.items()},
                       "cpu_seconds_per_step": {k: sig(v, 3) for k, v in self.cpu_per_step.items()}},
            "best": {"submission": self.best.submission, "hparams": plain(self.best.hparams),
                     "best_value": sig(self.best.best, 4)},
            "seeds": {"best_values": [sig(r.best, 4) for r in self.seed_runs],
                      "steps_to_target": self.seed_steps},
            **({"accuracy_margin": self.margin} if self.margin else {}),
            "target": self.target.value,
            "budget_steps": self.horizon,
            "budget_seconds": self.budget_seconds,
            "headroom": self.headroom,
            "machine": self.machine,
        }


def calibration_spec(spec: WorkloadSpec, horizon: int) -> WorkloadSpec:
    """The workload as calibration trains it: ``horizon`` steps on the steps clock (the seconds
    budget, 5x the current one, only sizes the hang limit)."""
    return dataclasses.replace(spec, budget=Budget(spec.budget.seconds * 5, horizon, max_steps=horizon, steps=horizon))


def calibrate_target(
    spec: WorkloadSpec,
    submissions: list[Any],
    executor: Executor,
    trials: int = 20,
    seeds: int = 2,
    horizon: int | None = None,
    quantile: float = DEFAULT_QUANTILE,
    headroom: float = DEFAULT_HEADROOM,
    target: float | None = None,
    base_seed: int = 0,
    on_run: Callable[[str, Run], None] | None = None,
) -> TargetProposal:
    """Search, choose the target, size the budgets, re-run the best (see the module docstring).
    ``submissions`` are :class:`~optbench.submissions.SubmissionFolder` objects."""
    if trials < 1 or seeds < 0:
        raise OptbenchError("calibrate: --trials must be at least 1 and --seeds at least 0")
    if headroom < 1:
        raise OptbenchError(f"calibrate: --headroom must be at least 1, got {headroom}")
    machine = machine_info(getattr(executor, "threads", None))
    horizon = horizon or spec.budget.step_hint
    work = calibration_spec(spec, horizon)

    def trial(sub: Any, hparams: dict[str, Any], seed: int, index: int) -> TrialSpec:
        return TrialSpec(work, sub.name, str(sub.path), dict(hparams), seed=seed, trial=index, ruleset="external",
                         stop_at_target=False, submission_hash=sub.code_hash, clock=Clock.STEPS)

    specs = []
    for sub in submissions:
        if sub.search_space_path is None:
            raise OptbenchError(f"{sub.path}: no search_space.yaml to calibrate with")
        space = load_search_space(sub.search_space_path)
        points = study_points(space, trials, base_seed, 0, source=str(sub.search_space_path))
        specs += [trial(sub, p, trial_seed(base_seed, spec.name, 0, i), i) for i, p in enumerate(points)]
    search = run_all(specs, executor, "search", on_run)
    by_sub = {s.name: [r for r in search if r.submission == s.name] for s in submissions}
    if not any(r.best is not None for r in search):
        errors = "; ".join(sorted({r.error or r.status for r in search}))[:300]
        raise OptbenchError(f"calibrate {spec.name}: no search trial produced a finite {spec.target.metric} ({errors})")

    margin = None
    quantile_values = {name: quantile_target([r.best for r in runs], spec.target.mode, quantile)
                       for name, runs in by_sub.items()}
    if target is None:
        usable = [v for v in quantile_values.values() if v is not None]
        if len(usable) < len(quantile_values):
            missing = [n for n, v in quantile_values.items() if v is None]
            raise OptbenchError(f"calibrate {spec.name}: fewer than {quantile:.0%} of the trials of {', '.join(missing)} "
                                f"produced a finite {spec.target.metric}; widen the horizon or fix --target")
        easiest = max(usable) if spec.target.mode == "min" else min(usable)
        if is_accuracy(spec.target):
            split = spec.target.metric.split("/", 1)[0]
            examples = evaluated_examples(spec, split)
            error = accuracy_standard_error(easiest, examples)
            margin = {"split": split, "examples": examples, "before_margin": sig(easiest, 4),
                      "standard_error": sig(error, 3)}
            easiest -= error
        chosen = dataclasses.replace(spec.target, value=round_target(easiest, spec.target.mode))
    else:
        chosen = dataclasses.replace(spec.target, value=float(target))
    per_step = {name: statistics.median([r.cpu_per_step for r in runs if r.cpu_per_step])
                for name, runs in by_sub.items() if any(r.cpu_per_step for r in runs)}
    budget_seconds = round_up(headroom * horizon * max(per_step.values()))

    sign = 1.0 if spec.target.mode == "min" else -1.0
    finished = [r for r in search if r.best is not None]
    best = min(finished, key=lambda r: (sign * r.best, r.first_hit(chosen) or math.inf))
    subs_by_name = {s.name: s for s in submissions}
    seed_specs = [trial(subs_by_name[best.submission], best.hparams, trial_seed(base_seed, spec.name, 1 + k, 0), k)
                  for k in range(seeds)]
    seed_runs = run_all(seed_specs, executor, "seeds", on_run)
    names = ", ".join(by_sub)
    rule = (RULE_FIXED if target is not None else RULE).format(
        references=names, quantile=quantile, trials=trials, horizon=horizon, headroom=headroom)
    return TargetProposal(
        workload=spec.name, target=chosen, horizon=horizon, budget_seconds=budget_seconds, quantile=quantile,
        headroom=headroom, cpu_per_step=per_step, quantile_values=quantile_values,
        reach={name: reach_fraction(runs, chosen) for name, runs in by_sub.items()}, best=best, search=search,
        seed_runs=seed_runs, seed_steps=[r.first_hit(chosen) for r in seed_runs], rule=rule,
        fixed_target=target is not None, machine=machine, margin=margin)
