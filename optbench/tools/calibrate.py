"""Calibrating a workload's target and budget the AlgoPerf way (``optbench calibrate``).

AlgoPerf sets each workload's validation target from its *target-setting* baselines:
tune them with quasi-random search under a fixed step budget, take the best
configuration, re-run it with several seeds and use the median of the best validation
value those runs reach; the runtime budget is then a multiple of the time that
baseline needs. This module does the same, on this machine, in four steps:

1. **search** — each of ``submissions`` gets ``trials`` points of its own search space
   (:func:`optbench.tuning.study_points`, seeded scrambled Halton, study 0). Every trial
   trains for ``max_steps`` steps (default: the workload's ``step_hint``), which is also the
   ``step_hint`` its schedule sees and the one proposed for the workload, with
   ``stop_at_target=False``; ``budget_seconds`` is only a
   safety cap on submission time. Trial ``i`` of every submission gets the same seed.
2. **best configuration** — the trial whose best eval of the target metric (within the
   run) is best; ties go to the one that got there in fewer steps.
3. **target** — that configuration re-runs with ``seeds`` new seeds (same step
   horizon); the target is the **median over those seeds of each run's best value**
   (for an even count the worse of the two middle values), rounded to 3 significant
   digits *toward the easier side* (down for ``mode: max``, up for ``mode: min``), so
   more than half of the re-runs reach it. ``target=`` fixes the target instead
   (used for the convex workloads, whose best value only depends on how long one runs).
4. **budget** — for each seed run the submission time at the first eval that hits the
   target; the budget is ``budget_factor`` (default 2.5) × the median of those times
   (a run that never hits counts as infinite), rounded up to 2 significant digits, and at
   least ``min_budget`` (1 s, so that first-step start-up costs cannot decide). A
   factor of 2.5 puts the tuned baseline's time-to-target at 40 % of the budget, so it
   stays under 60 % even on a machine 50 % slower than the one that calibrated.

Steps-to-target are deterministic (``eval.every_steps``); times are what this machine
measured, with one torch thread per trial unless told otherwise (the mini workloads gain
nothing from a second thread, and on a shared machine a second, spinning OpenMP thread
made mnist1d_cnn 7-50x slower in our measurements). :func:`write_calibration` puts the numbers, the command and the date into the
workload's YAML (``notes.calibration``) and bumps its ``version`` when the target, the
budget or the step hint changed.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import statistics
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable

import yaml

from optbench import tuning
from optbench.errors import OptbenchError
from optbench.plan import trial_seed
from optbench.spec import Budget, TrialSpec, WorkloadSpec

TARGET_DIGITS = 3
BUDGET_DIGITS = 2
DEFAULT_BUDGET_FACTOR = 2.5
MIN_BUDGET = 1.0  #: seconds: below this, start-up costs and timer noise would dominate the budget
RULE = ("target = median over {seeds} seed(s) of the best {metric} that the best tuned configuration reaches "
        "in {horizon} steps, rounded to 3 significant digits toward the easier side; budget = {factor} x the "
        "median submission time those runs need to reach the target, rounded up to 2 significant digits, "
        "at least {minimum:g} s")
RULE_FIXED = ("target fixed by hand (--target); budget = {factor} x the median submission time the best tuned "
              "configuration's {seeds} seed(s) need to reach it in {horizon}-step runs, rounded up to 2 "
              "significant digits, at least {minimum:g} s")


@dataclass
class Run:
    """One calibration trial, reduced to what the proposal needs."""

    submission: str
    hparams: dict[str, Any]
    seed: int
    status: str
    best: float | None
    best_step: int | None  #: first step at which ``best`` was seen
    steps: int
    submission_time: float
    curve: list[tuple[int, float, float]] = field(default_factory=list)  #: (step, submission time, metric)
    error: str | None = None

    def first_hit(self, spec: WorkloadSpec, target: float) -> tuple[int, float] | None:
        """(steps, seconds) at the first eval that reaches ``target``, or None."""
        goal = dataclasses.replace(spec.target, value=target)
        for step, seconds, value in self.curve:
            if goal.is_hit(value):
                return step, seconds
        return None


@dataclass
class Proposal:
    workload: str
    metric: str
    mode: str
    target: float
    budget_seconds: float
    step_hint: int
    budget_factor: float
    best: Run
    seed_runs: list[Run]
    search: list[Run]
    times: list[float | None]
    steps: list[int | None]
    median_time: float
    median_steps: float
    rule: str
    fixed_target: bool
    machine: dict[str, Any] = field(default_factory=dict)

    def notes(self, command: str, when: str) -> dict[str, Any]:
        """The ``notes.calibration`` mapping written into the workload YAML."""
        by_sub: dict[str, float] = {}
        for run in self.search:
            if run.best is not None and (run.submission not in by_sub or _better(self.mode, run.best, by_sub[run.submission])):
                by_sub[run.submission] = run.best
        return {
            "date": when,
            "command": command,
            "rule": self.rule,
            "search": {"submissions": sorted({r.submission for r in self.search}),
                       "trials_per_submission": max(sum(r.submission == s for r in self.search) for s in by_sub)
                       if by_sub else 0,
                       "horizon_steps": self.step_hint,
                       "best_value_per_submission": {k: _sig(v, 4) for k, v in sorted(by_sub.items())}},
            "best": {"submission": self.best.submission, "hparams": _plain(self.best.hparams),
                     "best_value": _sig(self.best.best, 4)},
            "seeds": {"best_values": [_sig(r.best, 4) for r in self.seed_runs],
                      "steps_to_target": self.steps,
                      "time_to_target_s": [None if t is None else round(t, 3) for t in self.times]},
            "target": self.target,
            "budget_seconds": self.budget_seconds,
            "median_time_to_target_s": round(self.median_time, 3),
            "median_steps_to_target": int(self.median_steps),
            "budget_factor": self.budget_factor,
            "machine": self.machine,
        }


def machine_info(threads: int | None) -> dict[str, Any]:
    """Where the times were measured: cores, load (others' processes slow a shared machine), torch threads."""
    import platform

    info: dict[str, Any] = {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                            "torch_threads_per_trial": threads}
    if hasattr(os, "getloadavg"):
        info["load_average_1min_at_start"] = round(os.getloadavg()[0], 2)
    if os.environ.get("OMP_WAIT_POLICY"):
        info["OMP_WAIT_POLICY"] = os.environ["OMP_WAIT_POLICY"]
    return info


def _better(mode: str, a: float, b: float) -> bool:
    return a < b if mode == "min" else a > b


def _sig(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value) or value == 0:
        return value
    return float(f"{value:.{digits}g}")


def _plain(hparams: dict[str, Any]) -> dict[str, Any]:
    return {k: (_sig(v, 4) if isinstance(v, float) else v) for k, v in hparams.items()}


def round_target(value: float, mode: str, digits: int = TARGET_DIGITS) -> float:
    """Round to ``digits`` significant digits toward the easier side (down for max, up for min)."""
    if value == 0 or not math.isfinite(value):
        return value
    scale = 10 ** (math.floor(math.log10(abs(value))) - digits + 1)
    steps = value / scale
    steps = math.floor(steps + 1e-9) if mode == "max" else math.ceil(steps - 1e-9)
    return float(f"{steps * scale:.{digits}g}")


def round_up(value: float, digits: int = BUDGET_DIGITS) -> float:
    """Round a positive number up to ``digits`` significant digits."""
    scale = 10 ** (math.floor(math.log10(value)) - digits + 1)
    return float(f"{math.ceil(value / scale - 1e-9) * scale:.{digits}g}")


def median_toward_easier(values: list[float], mode: str) -> float:
    """The median; for an even count the worse of the two middle values, so that more than
    half of the runs reach it."""
    ordered = sorted(values, reverse=(mode == "max"))  # best first
    return float(ordered[len(ordered) // 2])


def median_with_inf(values: list[float | None]) -> float:
    """The median, counting None (never reached) as infinity, as scoring does."""
    return float(statistics.median([math.inf if v is None else v for v in values]))


def _to_run(spec: TrialSpec, result: Any, evals: list[dict]) -> Run:
    metric = spec.workload.target.metric
    curve = [(int(r["step"]), float(r["submission_time"]), float(r[metric])) for r in evals
             if r.get(metric) is not None and math.isfinite(r[metric]) and r["submission_time"] <= spec.budget_seconds]
    best, best_step = None, None
    for step, _, value in curve:
        if best is None or _better(spec.workload.target.mode, value, best):
            best, best_step = value, step
    return Run(spec.submission, dict(spec.hparams), spec.seed, result.status, best, best_step, result.steps,
               result.submission_time, curve, result.error)


def calibrate(
    spec: WorkloadSpec,
    submissions: list[Any],
    trials: int = 20,
    seeds: int = 3,
    max_steps: int | None = None,
    budget_seconds: float | None = None,
    budget_factor: float = DEFAULT_BUDGET_FACTOR,
    target: float | None = None,
    min_budget: float = MIN_BUDGET,
    base_seed: int = 0,
    workers: int = 1,
    threads: int | None = None,
    executor: Any = None,
    on_run: Callable[[str, Run], None] | None = None,
    seed_executor: Any = None,
) -> Proposal:
    """Search, pick, re-run, propose (see the module docstring). ``submissions`` are
    :class:`~optbench.submissions.Submission` objects (read, not loaded). ``executor`` runs
    the search (``workers`` at a time); ``seed_executor`` the timed re-runs (default: the
    same executor)."""
    from optbench.executors.local import LocalExecutor

    if trials < 1 or seeds < 1:
        raise OptbenchError("calibrate: --trials and --seeds must be at least 1")
    if budget_factor <= 1:
        raise OptbenchError(f"calibrate: --budget-factor must be > 1, got {budget_factor}")
    machine = machine_info(threads or getattr(executor, "threads", None))
    horizon = max_steps or spec.budget.step_hint
    cap = budget_seconds or 5 * spec.budget.seconds
    # the horizon is both the step hint the baselines' schedules see and where every trial stops
    work = dataclasses.replace(spec, budget=Budget(cap, horizon, max_steps=horizon))
    executor = executor or LocalExecutor(workers=workers, threads_per_worker=threads)

    def run_all(specs: list[TrialSpec], phase: str, runner: Any) -> list[Run]:
        runs: dict[int, Run] = {}

        def done(finished: Any) -> None:
            run = _to_run(finished.spec, finished.result, finished.evals)
            runs[id(finished.spec)] = run
            if on_run:
                on_run(phase, run)

        runner.run(specs, on_finished=done)
        return [runs[id(s)] for s in specs if id(s) in runs]

    def trial(sub: Any, hparams: dict[str, Any], seed: int, index: int) -> TrialSpec:
        return TrialSpec(work, sub.name, str(sub.path), dict(hparams), seed=seed, trial=index, ruleset="external",
                         stop_at_target=False, submission_hash=sub.code_hash)

    specs = []
    for sub in submissions:
        if sub.search_space_path is None:
            raise OptbenchError(f"{sub.path}: no search_space.yaml to calibrate with")
        space = tuning.load_search_space(sub.search_space_path)
        points = tuning.study_points(space, trials, base_seed, 0, source=str(sub.search_space_path))
        specs += [trial(sub, p, trial_seed(base_seed, spec.name, 0, i), i) for i, p in enumerate(points)]
    search = run_all(specs, "search", executor)
    finished = [r for r in search if r.best is not None]
    if not finished:
        errors = "; ".join(sorted({r.error or r.status for r in search}))[:300]
        raise OptbenchError(f"calibrate {spec.name}: no search trial produced a finite {spec.target.metric} ({errors})")
    sign = 1.0 if spec.target.mode == "min" else -1.0
    best = min(finished, key=lambda r: (sign * r.best, r.best_step))

    by_name = {s.name: s for s in submissions}
    seed_specs = [trial(by_name[best.submission], best.hparams, trial_seed(base_seed, spec.name, 1 + k, 0), k)
                  for k in range(seeds)]
    seed_runs = run_all(seed_specs, "seeds", seed_executor or executor)
    values = [r.best for r in seed_runs if r.best is not None]
    if not values:
        raise OptbenchError(f"calibrate {spec.name}: the best configuration ({best.submission} {best.hparams}) "
                            "failed on every re-run seed")
    if target is None:
        chosen = round_target(median_toward_easier(values, spec.target.mode), spec.target.mode)
    else:
        chosen = float(target)
    hits = [r.first_hit(spec, chosen) for r in seed_runs]
    times = [h[1] if h else None for h in hits]
    steps = [h[0] if h else None for h in hits]
    median_time = median_with_inf(times)
    if not math.isfinite(median_time):
        raise OptbenchError(f"calibrate {spec.name}: most re-runs of the best configuration never reach "
                            f"{spec.target.metric} {chosen:g} within {horizon} steps; raise --max-steps or the target")
    rule = (RULE_FIXED if target is not None else RULE).format(
        seeds=seeds, metric=spec.target.metric, horizon=horizon, factor=budget_factor, minimum=min_budget)
    return Proposal(
        workload=spec.name, metric=spec.target.metric, mode=spec.target.mode, target=chosen,
        budget_seconds=max(round_up(budget_factor * median_time), min_budget), step_hint=horizon, budget_factor=budget_factor,
        best=best, seed_runs=seed_runs, search=search, times=times, steps=steps, median_time=median_time,
        median_steps=median_with_inf([float(s) if s is not None else None for s in steps]), rule=rule,
        fixed_target=target is not None, machine=machine,
    )


# ------------------------------------------------------------------------- writing


def _flow(mapping: dict[str, Any]) -> str:
    return yaml.safe_dump(mapping, default_flow_style=True, sort_keys=False, width=10**6).strip()


def write_calibration(path: Path, proposal: Proposal, command: str, when: str | None = None) -> bool:
    """Write the proposal into the workload YAML: ``target.value``, ``budget.seconds``,
    ``budget.step_hint``, ``notes.calibration``; bump ``version`` when the first three
    changed. Comments elsewhere in the file are kept. Returns whether the version changed."""
    path = Path(path)
    text = path.read_text()
    data = yaml.safe_load(text)
    when = when or date.today().isoformat()
    target = {**data["target"], "value": proposal.target}
    budget = {**data["budget"], "seconds": proposal.budget_seconds, "step_hint": proposal.step_hint}
    changed = target != data["target"] or budget != data["budget"]
    notes = {**(data.get("notes") or {}), "calibration": proposal.notes(command, when)}
    lines = text.splitlines()

    def replace_line(key: str, value: str) -> None:
        for i, line in enumerate(lines):
            if re.match(rf"{key}:\s", line):
                if yaml.safe_load(line).get(key) is None or (i + 1 < len(lines) and lines[i + 1].startswith(" ")):
                    break  # block style: fall through to the full rewrite
                lines[i] = f"{key}: {value}"
                return
        raise ValueError(key)

    try:
        replace_line("target", _flow(target))
        replace_line("budget", _flow(budget))
        if changed:
            replace_line("version", str(int(data["version"]) + 1))
    except ValueError:  # not the one-line layout our YAMLs use: rewrite the whole file
        data.update(target=target, budget=budget, notes=notes)
        if changed:
            data["version"] = int(data["version"]) + 1
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))
        return changed
    # drop the old top-level notes block, append the new one
    kept, skipping = [], False
    for line in lines:
        if re.match(r"notes:", line):
            skipping = True
            continue
        if skipping and line and not line.startswith((" ", "#")):
            skipping = False
        if not skipping:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    block = yaml.safe_dump({"notes": notes}, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None)
    path.write_text("\n".join(kept) + "\n" + block)
    return changed
