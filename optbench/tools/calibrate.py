"""Calibrating workloads and self-tuning defaults the AlgoPerf way, with headroom (``optbench calibrate``).

**A workload's target and budgets** (``optbench calibrate WORKLOAD``). AlgoPerf sets a
target from tuned *target-setting* baselines, and its baselines then reach most targets
under external tuning with 5 trials. Here, in four steps:

1. **search** — each reference submission (default: ``nadamw`` and ``adamw``, AlgoPerf's
   Adam-type baselines) gets ``trials`` points of its own search space (seeded scrambled
   Halton, study 0; trial ``i`` of every submission gets the same seed). Every trial trains
   ``horizon`` steps on the ``steps`` clock (default: the workload's ``step_hint``), with
   evals on the workload's schedule; its CPU seconds are recorded.
2. **target** — for each reference submission, the value that a fraction ``quantile``
   (default 0.4) of its trials reaches or beats within the horizon (a trial that failed or
   diverged reaches nothing); the target is the easiest of these, rounded to 3 significant
   digits toward the easier side. Each reference submission's 5-trial study then reaches it
   with probability at least 1 − (1 − 0.4)^5 ≈ 92 %. ``target=`` fixes it by hand instead.
3. **budgets** — ``steps`` = ``step_hint`` = the horizon; ``seconds`` (the ``cpu`` and ``wall``
   clocks) = ``headroom`` (default 1.5) × the horizon × the CPU seconds per step of the
   slower reference submission (its median over the trials), rounded up to 2 significant
   digits. A trial that reaches the target within the horizon therefore reaches it within
   the seconds budget too, even on a machine that makes each step up to ``headroom`` times
   slower (a busy 2-core machine added 22-43 % CPU time per step in our measurements).
4. **evidence** — the best configuration re-runs on ``seeds`` new seeds; their steps to the
   target go into the notes, with the fraction of search trials that reach it.

**The seconds budget again** (``optbench calibrate WORKLOAD --seconds-only``). CPU seconds per
step depend on the machine and on what else it runs (on a shared 2-core machine we saw the
same step cost 1.7 ms and 16 ms of CPU time), while the target and the step budget do not.
This re-measures only the seconds budget, in a quiet moment: each reference submission runs
its own defaults for ``steps`` steps, ``rounds`` times, one trial at a time; the budget is
``headroom`` × the step budget × the slower submission's median CPU seconds per step.

**Self-tuning defaults** (``optbench calibrate --defaults SUBMISSION --suite mini``).
AlgoPerf's self-tuning baseline is one hyperparameter point chosen to work on every
workload. Here: the submission's current defaults plus ``points`` quasi-random points of its
search space each run every workload of the suite once, self-tuning style (the ``steps``
clock, the step budget × ``multiplier``, stopping at the target); the points are scored
against each other as if they were submissions (AlgoPerf's performance-profile score of
steps to target, then the number of targets reached); the best point re-runs on ``seeds``
new seeds. The result is printed (and saved with ``--out``) for the submission's
``DEFAULT_HPARAMS``.

Every calibration records the machine, the torch threads per trial and the load average at
its start. :func:`write_calibration` writes a proposal into the workload YAML through a
round-trip YAML writer (comments and layout kept) and an atomic write.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import platform
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from optbench import tuning
from optbench.errors import OptbenchError
from optbench.plan import trial_seed
from optbench.spec import Budget, Clock, Executor, Target, TrialSpec, WorkloadSpec

TARGET_DIGITS = 3
BUDGET_DIGITS = 2
DEFAULT_QUANTILE = 0.4
DEFAULT_HEADROOM = 1.5
DEFAULT_REFERENCES = ("nadamw", "adamw")
STUDY_TRIALS = 5  #: AlgoPerf's external-tuning trials per study, for the reported study success rate
RULE = ("target = the easiest, over the reference submissions ({references}), of the value that {quantile:.0%} of "
        "each one's {trials} tuned trials reach within {horizon} steps, rounded to 3 significant digits toward the "
        "easier side; budget: {horizon} steps, and {headroom:g} x {horizon} x the CPU seconds per step of the slower "
        "reference submission, rounded up to 2 significant digits")
RULE_FIXED = ("target fixed by hand (--target); budget: {horizon} steps, and {headroom:g} x {horizon} x the CPU "
              "seconds per step of the slower reference submission ({references}), rounded up to 2 significant digits")


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


def round_up(value: float, digits: int = BUDGET_DIGITS) -> float:
    """Round a positive number up to ``digits`` significant digits."""
    scale = 10 ** (math.floor(math.log10(value)) - digits + 1)
    return float(f"{math.ceil(value / scale - 1e-9) * scale:.{digits}g}")


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


def study_success(fraction: float, trials: int = STUDY_TRIALS) -> float:
    """The chance that at least one of ``trials`` independent trials succeeds."""
    return 1.0 - (1.0 - fraction) ** trials


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
        space = tuning.load_search_space(sub.search_space_path)
        points = tuning.study_points(space, trials, base_seed, 0, source=str(sub.search_space_path))
        specs += [trial(sub, p, trial_seed(base_seed, spec.name, 0, i), i) for i, p in enumerate(points)]
    search = run_all(specs, executor, "search", on_run)
    by_sub = {s.name: [r for r in search if r.submission == s.name] for s in submissions}
    if not any(r.best is not None for r in search):
        errors = "; ".join(sorted({r.error or r.status for r in search}))[:300]
        raise OptbenchError(f"calibrate {spec.name}: no search trial produced a finite {spec.target.metric} ({errors})")

    quantile_values = {name: quantile_target([r.best for r in runs], spec.target.mode, quantile)
                       for name, runs in by_sub.items()}
    if target is None:
        usable = [v for v in quantile_values.values() if v is not None]
        if len(usable) < len(quantile_values):
            missing = [n for n, v in quantile_values.items() if v is None]
            raise OptbenchError(f"calibrate {spec.name}: fewer than {quantile:.0%} of the trials of {', '.join(missing)} "
                                f"produced a finite {spec.target.metric}; widen the horizon or fix --target")
        easiest = max(usable) if spec.target.mode == "min" else min(usable)
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
        fixed_target=target is not None, machine=machine)


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

    return _rewrite(path, change)


# ------------------------------------------------------------------------------ self-tuning defaults


@dataclass
class PointResult:
    """One candidate default point across the suite."""

    hparams: dict[str, Any]
    runs: list[Run]
    score: float = 0.0

    @property
    def reached(self) -> int:
        return sum(r.status == "reached" for r in self.runs)


@dataclass
class DefaultsProposal:
    submission: str
    workloads: list[str]
    points: list[PointResult]
    best: PointResult
    seed_runs: list[list[Run]]  #: the best point on each new seed: one run per workload
    multiplier: float
    machine: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"submission": self.submission, "workloads": self.workloads, "multiplier": self.multiplier,
                "best": {"hparams": plain(self.best.hparams), "score": round(self.best.score, 4),
                         "reached": self.best.reached,
                         "steps_to_target": {r.workload: r.steps_to_target for r in self.best.runs}},
                "seeds_reached": [sum(r.status == "reached" for r in runs) for runs in self.seed_runs],
                "points": [{"hparams": plain(p.hparams), "score": round(p.score, 4), "reached": p.reached}
                           for p in self.points],
                "machine": self.machine}


def calibrate_defaults(
    submission: Any,
    workloads: list[WorkloadSpec],
    executor: Executor,
    points: int = 12,
    seeds: int = 2,
    multiplier: float = 1.5,
    base_seed: int = 0,
    on_run: Callable[[str, Run], None] | None = None,
) -> DefaultsProposal:
    """Choose one hyperparameter point that works on every workload (see the module docstring).
    ``submission`` is a :class:`~optbench.submissions.SubmissionFolder`."""
    import numpy as np
    import pandas as pd

    from optbench.scoring.rules import score_times
    from optbench.submissions import load_folder

    if submission.search_space_path is None:
        raise OptbenchError(f"{submission.path}: no search space to choose defaults from")
    space = tuning.load_search_space(submission.search_space_path)
    current = load_folder(submission).defaults
    candidates = [current] + tuning.study_points(space, points, base_seed, 0, source=str(submission.search_space_path))
    machine = machine_info(getattr(executor, "threads", None))

    def trial(hparams: dict[str, Any], wl: WorkloadSpec, seed_index: int, index: int) -> TrialSpec:
        return TrialSpec(wl, submission.name, str(submission.path), dict(hparams),
                         seed=trial_seed(base_seed, wl.name, seed_index, 0), trial=index, ruleset="self",
                         budget_multiplier=multiplier, submission_hash=submission.code_hash, clock=Clock.STEPS)

    specs = [trial(p, wl, 0, i) for i, p in enumerate(candidates) for wl in workloads]
    runs = run_all(specs, executor, "points", on_run)
    results = [PointResult(p, [r for r, s in zip(runs, specs) if s.trial == i]) for i, p in enumerate(candidates)]
    times = pd.DataFrame(
        [[math.inf if r.steps_to_target is None else float(r.steps_to_target) for r in res.runs] for res in results],
        index=[f"point_{i}" for i in range(len(results))], columns=[wl.name for wl in workloads], dtype=float)
    scores = score_times(times).scores
    for i, res in enumerate(results):
        res.score = float(np.nan_to_num(scores.iloc[i]))
    best = max(results, key=lambda r: (r.score, r.reached))
    seed_runs = []
    for k in range(1, seeds + 1):
        seed_specs = [trial(best.hparams, wl, k, 0) for wl in workloads]
        seed_runs.append(run_all(seed_specs, executor, f"seed {k}", on_run))
    return DefaultsProposal(submission.name, [w.name for w in workloads], results, best, seed_runs, multiplier,
                            machine)


# ------------------------------------------------------------------------------------- writing


def _rewrite(path: Path, change: Callable[[Any], bool]) -> bool:
    """Load ``path`` with a round-trip YAML reader (comments and layout kept), let ``change`` edit it
    (returning whether target or budgets changed: then ``version`` is bumped), write it back atomically."""
    from ruamel.yaml import YAML

    from optbench.store import atomic_write_text

    yaml = YAML()  # round-trip mode
    yaml.width = 110
    path = Path(path)
    data = yaml.load(path.read_text(encoding="utf-8"))
    changed = change(data)
    if changed:
        data["version"] = int(data["version"]) + 1
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    atomic_write_text(path, buffer.getvalue())
    return changed


def write_calibration(path: Path, proposal: TargetProposal, command: str, when: str) -> bool:
    """Write ``proposal`` into the workload YAML: ``target.value``, ``budget.seconds``,
    ``budget.steps``, ``budget.step_hint`` and ``notes.calibration``; bump ``version`` when the
    target or a budget changed. A round-trip YAML writer keeps comments and layout, and the file
    is replaced atomically. Returns whether the version changed."""
    def change(data: Any) -> bool:
        old = (data["target"]["value"], data["budget"].get("seconds"), data["budget"].get("steps"),
               data["budget"].get("step_hint"))
        data["target"]["value"] = proposal.target.value
        data["budget"]["seconds"] = proposal.budget_seconds
        data["budget"]["steps"] = proposal.horizon
        data["budget"]["step_hint"] = proposal.horizon
        notes = data.get("notes") or {}
        notes["calibration"] = proposal.notes(command, when)
        data["notes"] = notes
        return old != (proposal.target.value, proposal.budget_seconds, proposal.horizon, proposal.horizon)

    return _rewrite(path, change)
