"""Start-up of `optbench run`: the command's wall time beside the trial's own time (issue 13, item 3).

Runs `optbench run --workloads W --submissions adamw` of ONE trial, as a user does (a console
script, from a directory outside the repository), several times, and reads each trial's own
``total_time`` (set-up, training, evals) from its trial.json. What is left of the wall time
is start-up and shutdown: starting Python, the command's imports, the worker processes'
imports of torch, writing experiment.json, the summary, exiting. Each round also times a
bare ``python -c "import torch, torch._dynamo"``: what every worker must import before its
first trial (an optimizer imports torch._dynamo), the floor that optbench cannot go below.
The runs alternate between workloads and, with ``--against``, between this checkout and
another one (e.g. a checkout of main), so that the load of a shared machine falls on all
alike; only the medians and the side-by-side ratios mean anything.

    python benchmarks/startup.py                              # logreg and digits_mlp, 5 rounds
    python benchmarks/startup.py --against /tmp/main-checkout --rounds 7
    python benchmarks/startup.py --workloads logreg --rounds 3

Goal: the command's wall time <= 2x the trial's own time for one smoke trial.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: What pip writes for the `optbench` console script: its folder, not the working directory, is sys.path[0].
CONSOLE_SCRIPT = "import sys\nfrom optbench.cli import main\nif __name__ == '__main__':\n    sys.exit(main())\n"


def one_run(checkout: Path, workload: str, work: Path, name: str) -> dict[str, float]:
    """One `optbench run` of one trial with ``checkout``'s code: wall time and the trial's times."""
    script = work / "bin" / "optbench"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(CONSOLE_SCRIPT)
    home = work / "home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its bytecode compiled; so do these
    command = [sys.executable, str(script), "run", "--workloads", workload, "--submissions", "adamw",
               "--results", str(work / "results"), "--name", name]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=home, env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    trial = json.loads(next((work / "results" / name).rglob("trial.json")).read_text())
    if trial["status"] in ("failed", "timeout"):
        raise SystemExit(f"the trial failed: {trial.get('error')}")
    return {"wall": wall, "trial": trial["total_time"], "init": trial["init_time"],
            "startup": wall - trial["total_time"], "ratio": wall / trial["total_time"]}


def torch_import() -> float:
    """Seconds of a fresh interpreter that imports what a worker imports before its first trial."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, torch._dynamo"], env=env, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="logreg,digits_mlp", help="comma-separated (default: the smoke suite)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another checkout to compare with, run alternately")
    args = parser.parse_args()
    checkouts = {"this": REPO, **({"other": args.against.resolve()} if args.against else {})}
    workloads = args.workloads.split(",")
    rows: dict[tuple[str, str], list[dict[str, float]]] = {(c, w): [] for c in checkouts for w in workloads}
    floor: list[float] = []
    print(f"{len(workloads)} workload(s) x {len(checkouts)} checkout(s) x {args.rounds} rounds, one trial each; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="optbench-startup-") as tmp:
        for label, checkout in checkouts.items():  # not counted: compiles bytecode, fills the dataset cache
            for workload in workloads:
                one_run(checkout, workload, Path(tmp) / label, f"warm-up_{workload}")
        for round_ in range(args.rounds):
            floor.append(torch_import())
            print(f"  round {round_ + 1} python -c 'import torch, torch._dynamo': {floor[-1]:.2f} s", flush=True)
            for workload in workloads:
                order = list(checkouts.items())
                if round_ % 2:
                    order.reverse()
                for label, checkout in order:
                    run = one_run(checkout, workload, Path(tmp) / label, f"{workload}_{round_}")
                    rows[(label, workload)].append(run)
                    print(f"  round {round_ + 1} {label:5} {workload:12} wall {run['wall']:6.2f} s  trial "
                          f"{run['trial']:5.2f} s  start-up {run['startup']:5.2f} s  ratio {run['ratio']:4.1f}",
                          flush=True)

    def median(label: str, workload: str, key: str) -> float:
        return statistics.median(r[key] for r in rows[(label, workload)])

    print(f"\nmedians over {args.rounds} rounds (load now {os.getloadavg()[0]:.1f}):")
    print(f"{'checkout':8} {'workload':12} {'wall s':>7} {'trial s':>8} {'start-up s':>11} {'wall/trial':>11}")
    for workload in workloads:
        for label in checkouts:
            print(f"{label:8} {workload:12} {median(label, workload, 'wall'):7.2f} "
                  f"{median(label, workload, 'trial'):8.2f} {median(label, workload, 'startup'):11.2f} "
                  f"{median(label, workload, 'ratio'):11.1f}")
        if args.against:
            print(f"{'':8} {workload:12} start-up this/other: "
                  f"{median('this', workload, 'startup') / median('other', workload, 'startup'):.2f}")
    print(f"floor: a bare `import torch, torch._dynamo` takes {statistics.median(floor):.2f} s here (median); "
          "start-up beyond it is optbench's")
    print("goal: wall/trial <= 2 for one smoke trial")


if __name__ == "__main__":
    main()
