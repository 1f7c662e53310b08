"""Trials per minute with 1 and 2 workers on the same plan, measured side by side.

The plan: the ``default`` suite (logreg, digits_mlp, mnist1d_cnn), one submission under
external tuning, ``--trials`` search points each (1 study). Each round runs the whole plan
once with ``--workers 1`` and once with ``--workers 2`` (alternating which goes first),
each into a fresh results folder, through the same code as ``optbench run``
(:func:`optbench.experiment.run_experiment` with a :class:`LocalExecutor`). Threads are the
executor's default (cores / workers) unless ``--threads`` is given. The forkserver is
warmed up by one throw-away trial first, so its one-time start (importing torch) is not
charged to whichever arm runs first.

Printed: per round, the wall time and trials per minute of each arm; then the medians, the
ratio 2 workers / 1 worker (goal: >= 1.8 on 2 cores), and where the wall time goes
(init per trial, the share of each worker's wall time spent inside trials). A trial that
ends at its budget takes the same wall time whatever the workers, so the ratio measures
how well two run side by side (overheads, memory bandwidth, the load of the machine).

    python benchmarks/trials_per_minute.py [--trials 2] [--rounds 2] [--submission adamw]
        [--budget-scale 0.25] [--threads N] [--suite default]

Not a test: the numbers depend on the machine and on what else runs on it (the load
average is printed beside them).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GOAL = 1.8


def make_plan(suite: str, submission: str, trials: int, budget_scale: float) -> tuple[list, object]:
    from optbench.plan import plan_from_config
    from optbench.spec import Budget, RunConfig
    from optbench.submissions import find_submission
    from optbench.workloads import resolve_workloads

    workloads = [dataclasses.replace(w, budget=Budget(w.budget.seconds * budget_scale, w.budget.step_hint,
                                                      w.budget.max_steps))
                 for w in resolve_workloads([], suite)]
    config = RunConfig(workloads=tuple(w.name for w in workloads), submissions=(submission,), ruleset="external",
                       trials=trials)
    return plan_from_config(workloads, [find_submission(submission)], config), config


def run_arm(workers: int, threads: int | None, plan_args: tuple, base: Path, label: str) -> dict:
    from optbench.executors.local import LocalExecutor
    from optbench.experiment import run_experiment, start_experiment

    specs, config = make_plan(*plan_args)
    root = base / label
    start_experiment(root, specs, dataclasses.replace(config, workers=workers))
    executor = LocalExecutor(workers=workers, threads_per_worker=threads)
    start = time.perf_counter()
    finished = run_experiment(root, specs, executor)
    wall = time.perf_counter() - start
    results = [f.result for f in finished]
    return {"workers": workers, "threads": executor.threads, "wall": wall, "trials": len(results),
            "per_minute": 60 * len(results) / wall, "init": statistics.mean(r.init_time for r in results),
            "steps_per_s": sum(r.steps for r in results) / wall,
            "busy": sum(r.total_time for r in results) / (wall * workers),
            "statuses": sorted(r.status for r in results)}


def warm_up() -> None:
    """One tiny trial, so the forkserver (torch, optbench imported) is up before anything is timed."""
    from optbench.executors.local import LocalExecutor
    from optbench.spec import Budget, TrialSpec
    from optbench.submissions import find_submission
    from optbench.workloads import find_workload

    wl = find_workload("digits_mlp")
    wl = dataclasses.replace(wl, budget=Budget(1.0, wl.budget.step_hint, max_steps=2))
    LocalExecutor().run_one(TrialSpec(wl, "adamw", str(find_submission("adamw").path), {}, seed=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2, help="search points per workload (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of (1 worker, 2 workers), alternating")
    parser.add_argument("--submission", default="adamw")
    parser.add_argument("--suite", default="default")
    parser.add_argument("--budget-scale", type=float, default=0.25,
                        help="multiply every workload's budget (default 0.25: a round takes about a minute)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per worker in both arms "
                        "(default: the executor's, cores / workers)")
    args = parser.parse_args()
    plan_args = (args.suite, args.submission, args.trials, args.budget_scale)
    n = len(make_plan(*plan_args)[0])
    print(f"plan: suite {args.suite}, {args.submission}, external tuning, {args.trials} trials per workload "
          f"= {n} trials; budget x {args.budget_scale:g}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.2f}")
    warm_up()
    arms: dict[int, list[dict]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            order = (1, 2) if round_ % 2 == 0 else (2, 1)
            for workers in order:
                arm = run_arm(workers, args.threads, plan_args, Path(tmp), f"r{round_}_w{workers}")
                arms[workers].append(arm)
                print(f"round {round_ + 1}: {workers} worker(s) x {arm['threads']} thread(s): {arm['wall']:6.1f} s, "
                      f"{arm['per_minute']:5.1f} trials/min, {arm['steps_per_s']:5.0f} steps/s, "
                      f"init {arm['init'] * 1000:.0f} ms/trial, "
                      f"workers busy {arm['busy']:.0%}, load {os.getloadavg()[0]:.2f}", flush=True)
    one = statistics.median(a["per_minute"] for a in arms[1])
    two = statistics.median(a["per_minute"] for a in arms[2])
    print(f"median trials/min: 1 worker {one:.1f}, 2 workers {two:.1f}; ratio {two / one:.2f}x "
          f"(goal >= {GOAL}x) {'ok' if two / one >= GOAL else 'BELOW GOAL'}")
    steps = [statistics.median(a["steps_per_s"] for a in arms[w]) for w in (1, 2)]
    print(f"median steps/s of all workers together: 1 worker {steps[0]:.0f}, 2 workers {steps[1]:.0f}; "
          f"ratio {steps[1] / steps[0]:.2f}x (trials that end at their time budget take the same wall time "
          "at any speed: this is the number that shows contention for the cores)")
    statuses = {w: arms[w][0]["statuses"] for w in arms}
    if statuses[1] != statuses[2]:
        print(f"note: the arms' trials ended differently (speed changed what reached the target): {statuses}")


if __name__ == "__main__":
    main()
