"""Trials per minute on the same plan: local executor with 1 and 2 workers, Ray executor with 2 workers.

The plan: a suite (default: ``default`` = logreg, digits_mlp, mnist1d_cnn), one submission under
external tuning, ``--trials`` search points per workload, 1 study; every arm runs the whole plan
into a fresh results folder through :func:`optbench.experiment.run_experiment`, as `optbench run` does.
Rounds alternate the order of the arms. Threads: the local executor's default (cores / workers:
2 workers on 2 cores get 1 thread each); Ray trials reserve 1 CPU each and use 1 thread.

Two numbers per arm, because Ray has a cost per run that the local executor does not:

* **steady**: the plan's wall time once the executor is up. Local: after a throw-away trial has
  started the forkserver (once per process). Ray: after ``ray.init`` and a throw-away trial per
  worker (each Ray worker starts its own forkserver), in the same Ray session (``keep_alive``).
* **start-up**: what a run pays before that. Local: the forkserver's first start. Ray: starting
  Ray, shipping the code, starting the workers and their forkservers, plus shutting Ray down.
  ``end to end`` = steady + start-up, what one `optbench run` of this plan costs.

Printed: per round and arm, wall time and trials/min; then the medians and the ratios
Ray 2 / local 2 (goal: >= 0.9, i.e. within 10 %) and local 2 / local 1.

    python benchmarks/ray_vs_local.py [--trials 4] [--rounds 2] [--suite default] [--budget-scale 1]

Not a test: the numbers depend on the machine and its load (printed beside them).
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from trials_per_minute import make_plan  # noqa: E402  (the same plan as the workers benchmark)

GOAL = 0.9


def throwaway(submission: str, n: int) -> list:
    """``n`` two-step trials: they start whatever an executor starts lazily."""
    from optbench.spec import Budget, TrialSpec
    from optbench.submissions import find_submission
    from optbench.workloads import find_workload

    wl = find_workload("digits_mlp")
    wl = dataclasses.replace(wl, budget=Budget(1.0, wl.budget.step_hint, max_steps=2))
    return [TrialSpec(wl, submission, str(find_submission(submission).path), {}, seed=i) for i in range(n)]


def run_plan(executor, plan_args: tuple, root: Path) -> dict:
    from optbench.experiment import run_experiment, start_experiment

    specs, config = make_plan(*plan_args)
    start_experiment(root, specs, dataclasses.replace(config, workers=executor.workers))
    start = time.perf_counter()
    finished = run_experiment(root, specs, executor)
    wall = time.perf_counter() - start
    results = [f.result for f in finished]
    return {"wall": wall, "trials": len(results), "per_minute": 60 * len(results) / wall,
            "statuses": sorted(r.status for r in results), "failed": [r.error for r in results if r.error]}


def local_arm(workers: int, plan_args: tuple, root: Path) -> dict:
    from optbench.executors.local import LocalExecutor

    arm = run_plan(LocalExecutor(workers=workers), plan_args, root)
    return {**arm, "startup": 0.0}


def ray_arm(workers: int, plan_args: tuple, root: Path) -> dict:
    from optbench.executors.ray import RayExecutor

    start = time.perf_counter()
    executor = RayExecutor(workers=workers, cpus_per_trial=1, keep_alive=True)
    executor.run(throwaway(plan_args[1], workers), on_finished=lambda f: None)
    up = time.perf_counter() - start
    try:
        arm = run_plan(executor, plan_args, root)
    finally:
        start = time.perf_counter()
        executor.close()
        down = time.perf_counter() - start
    return {**arm, "startup": up + down}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4, help="search points per workload (default 4)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the three arms, in rotating order")
    parser.add_argument("--submission", default="adamw")
    parser.add_argument("--suite", default="default")
    parser.add_argument("--budget-scale", type=float, default=1.0, help="multiply every workload's budget")
    args = parser.parse_args()
    plan_args = (args.suite, args.submission, args.trials, args.budget_scale)
    n = len(make_plan(*plan_args)[0])
    import ray

    print(f"plan: suite {args.suite}, {args.submission}, external tuning, {args.trials} trials per workload = "
          f"{n} trials; budget x {args.budget_scale:g}; {os.cpu_count()} CPUs; Ray {ray.__version__}; "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    from optbench.executors.local import LocalExecutor

    start = time.perf_counter()
    LocalExecutor().run(throwaway(args.submission, 1), on_finished=lambda f: None)  # the forkserver, once
    local_startup = time.perf_counter() - start
    print(f"local start-up (the forkserver's first start, once per process): {local_startup:.1f} s", flush=True)

    arms = {"local x1": lambda root: local_arm(1, plan_args, root),
            "local x2": lambda root: local_arm(2, plan_args, root),
            "ray x2": lambda root: ray_arm(2, plan_args, root)}
    seen: dict[str, list[dict]] = {name: [] for name in arms}
    names = list(arms)
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            order = names[round_ % 3:] + names[:round_ % 3]
            for name in order:
                arm = arms[name](Path(tmp) / f"r{round_}_{name.replace(' ', '')}")
                seen[name].append(arm)
                extra = f", start-up + shutdown {arm['startup']:.1f} s" if arm["startup"] else ""
                print(f"round {round_ + 1}: {name}: {arm['wall']:6.1f} s, {arm['per_minute']:5.1f} trials/min"
                      f"{extra}, load {os.getloadavg()[0]:.2f}", flush=True)
                for error in arm["failed"][:3]:
                    print(f"   failed trial: {error}")

    def median(name: str, key: str) -> float:
        return statistics.median(a[key] for a in seen[name])

    steady = {name: median(name, "per_minute") for name in arms}
    startup = {"local x1": local_startup, "local x2": local_startup, "ray x2": median("ray x2", "startup")}
    end_to_end = {name: 60 * n / (60 * n / steady[name] + startup[name]) for name in arms}
    print("\nmedian trials/min   steady   end to end (one run of this plan, start-up included)")
    for name in arms:
        print(f"  {name:9s}        {steady[name]:6.1f}   {end_to_end[name]:6.1f}   (start-up {startup[name]:.1f} s)")
    ratio, e2e = steady["ray x2"] / steady["local x2"], end_to_end["ray x2"] / end_to_end["local x2"]
    print(f"ray x2 / local x2: steady {ratio:.2f}, end to end {e2e:.2f} (goal >= {GOAL}: "
          f"{'ok' if ratio >= GOAL else 'BELOW GOAL'} steady, {'ok' if e2e >= GOAL else 'BELOW GOAL'} end to end)")
    print(f"local x2 / local x1: {steady['local x2'] / steady['local x1']:.2f}")
    statuses = {name: seen[name][0]["statuses"] for name in arms}
    if len({tuple(s) for s in statuses.values()}) > 1:
        print(f"note: the arms' trials ended differently (speed changed what reached the target): {statuses}")


if __name__ == "__main__":
    main()
