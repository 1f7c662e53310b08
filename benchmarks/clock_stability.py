"""How much each clock moves between a quiet and a loaded machine, measured side by side in one run.

The same trial (``mnist1d_cnn``, adamw's defaults, one torch thread, a fixed number of steps
on the steps clock) runs alternately with nothing beside it and with ``--burners`` processes
that spin on the CPU. Each run reports the three clocks' measures of the same work:

* ``wall``: submission seconds as AlgoPerf counts them (wall time inside the timed blocks);
* ``cpu``: the same blocks in the trial process's CPU seconds (``--clock cpu``);
* ``steps``: the steps taken, and the steps to a target reached in the run (``--clock steps``).

It prints each round, then the median loaded/quiet ratio of each clock. A clock that a busy
machine cannot move has a ratio of 1; ``steps`` is 1 by construction and its steps-to-target
must be identical. "Quiet" means without the burners: on a shared machine other processes
still run, which the load average at each round shows.

    python benchmarks/clock_stability.py                  # 300 steps x 3 rounds, 2 burners
    python benchmarks/clock_stability.py --steps 600 --rounds 5 --threads 2
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import time

from optbench.spec import Budget, Clock, EvalPolicy, Target, TrialRuntime, TrialSpec
from optbench.submissions import find_submission
from optbench.trial import run_trial
from optbench.workloads import find_workload


def burners(n: int) -> list[subprocess.Popen]:
    """``n`` processes that spin on the CPU until killed."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def one_run(spec: TrialSpec, threads: int) -> dict:
    outcome = run_trial(spec, TrialRuntime(num_threads=threads))
    result = outcome.result
    assert result.status in ("budget_exhausted", "reached"), result.error
    reached = next((row["step"] for row in outcome.evals if spec.workload.target.is_hit(row.get(spec.workload.target.metric))), None)
    return {"wall": result.submission_wall_time, "cpu": result.submission_cpu_time, "steps": result.steps,
            "steps_to_target": reached}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="mnist1d_cnn")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burners", type=int, default=2, help="CPU-spinning processes beside the loaded runs")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the trial")
    args = parser.parse_args()

    wl = find_workload(args.workload)
    # a target that the run reaches (its own accuracy after a third of the steps is surely below this)
    wl = dataclasses.replace(wl, budget=Budget(3600, wl.budget.step_hint, steps=args.steps),
                             eval=EvalPolicy(every_steps=max(args.steps // 10, 1)),
                             target=Target(wl.target.metric, 0.5 if wl.target.mode == "max" else 10.0, wl.target.mode))
    sub = find_submission("adamw")
    spec = TrialSpec(wl, "adamw", str(sub.path), {}, seed=0, clock=Clock.STEPS, stop_at_target=False)
    print(f"{args.workload}: {args.steps} steps, {args.threads} thread(s), {args.burners} burner(s) when loaded, "
          f"{os.cpu_count()} CPUs", flush=True)
    one_run(spec, args.threads)  # warm-up: data cached, first-call costs paid
    rows = []
    for r in range(args.rounds):
        for loaded in (False, True):
            procs = burners(args.burners) if loaded else []
            try:
                time.sleep(0.5 if loaded else 0.0)
                load = os.getloadavg()[0]
                row = {**one_run(spec, args.threads), "loaded": loaded, "load": load}
            finally:
                for p in procs:
                    p.kill()
                    p.wait()
            rows.append(row)
            print(f"round {r + 1} {'loaded' if loaded else 'quiet '}: wall {row['wall']:.3f} s, cpu {row['cpu']:.3f} s, "
                  f"steps {row['steps']}, steps to target {row['steps_to_target']}, load {load:.1f}", flush=True)
            time.sleep(1.0)

    def ratio(key: str) -> float:
        quiet = statistics.median(r[key] for r in rows if not r["loaded"])
        loaded = statistics.median(r[key] for r in rows if r["loaded"])
        return loaded / quiet

    same_target = len({r["steps_to_target"] for r in rows}) == 1
    print("\nloaded / quiet (median over rounds):")
    print(f"  wall  {ratio('wall'):.2f}   (AlgoPerf's clock: follows the load)")
    print(f"  cpu   {ratio('cpu'):.2f}   (--clock cpu)")
    print(f"  steps {ratio('steps'):.2f}   (--clock steps); steps to target identical in every run: {same_target}")


if __name__ == "__main__":
    main()
