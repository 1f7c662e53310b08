"""What do the analyses cost on AlgoPerf's logs? `optbench score --format algoperf` plain (one clock)
beside the same command with both clocks (the default) and with `--tuning-curve` too, on the same
log tree, interleaved in one run, and the ratio (issue 16's goal: at most 2x the plain scoring).

The tree, in order of preference:
  --logs DIR       an AlgoPerf log tree you have (with --targets; default v0.5's targets);
  --published      AlgoPerf's published v0.5 external-tuning logs, copied out of a clone of
                   mlcommons/submissions_algorithms ($OPTBENCH_ALGOPERF_REPO or the fetched mirror,
                   see tests/published_logs.py) into a temporary folder;
  (neither)        the synthetic AlgoPerf-format tree of benchmarks/score_speed.py, the size of
                   v0.5's external-tuning logs (11 x 5 x 14 x 5 = 3,850 files).
The output says which. Each command is a fresh process (imports count), as a user runs it; the
ratio is of the median CPU seconds (the machine's load stretches wall seconds, not CPU).

    python benchmarks/score_analyses_cost.py [--published | --logs DIR --targets FILE] [--repeat 3]

Not a test: the numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_RATIO = 2.0
V05_TARGETS = Path("/work/shared/algoperf/workload_targets_v05.json")
#: (label, extra options) of each command timed, the first being the plain scoring.
VARIANTS = (("plain (--one-clock)", ["--one-clock"]), ("both clocks", []),
            ("both clocks + --tuning-curve", ["--tuning-curve"]))


def _score_speed():
    """benchmarks/score_speed.py as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("score_speed", REPO / "benchmarks" / "score_speed.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def tree(args: argparse.Namespace, tmp: Path) -> tuple[Path, Path, str]:
    """(log tree, targets file, what it is)."""
    if args.logs:
        targets = args.targets or V05_TARGETS
        return args.logs, targets, f"the AlgoPerf log tree {args.logs} (targets {targets})"
    if args.published:
        sys.path.insert(0, str(REPO))
        from tests import published_logs

        repo = published_logs.repository()
        if repo is None:
            sys.exit("--published: no copy of mlcommons/submissions_algorithms (set OPTBENCH_ALGOPERF_REPO)")
        root = tmp / "v05"
        files = published_logs.extract(repo, "previous_leaderboards/algoperf_v05/logs/external_tuning", root)
        return root, V05_TARGETS, (f"AlgoPerf's published v0.5 external-tuning logs ({files} files copied "
                                   f"from {repo})")
    speed = _score_speed()
    root = tmp / "synthetic"
    files, size = speed.write_tree(root)
    targets = speed.write_targets(tmp / "targets.json")
    return root, targets, (f"a synthetic AlgoPerf-format tree the size of v0.5's external-tuning logs "
                           f"({files} files, {size / 1e6:.0f} MB; benchmarks/score_speed.py)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=Path, help="an AlgoPerf log tree (external tuning)")
    parser.add_argument("--targets", type=Path, help="its workload_targets file (default: v0.5's)")
    parser.add_argument("--published", action="store_true", help="AlgoPerf's published v0.5 logs")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="optbench-analyses-cost-"))
    try:
        root, targets, what = tree(args, tmp)
        print(f"log tree: {what}")
        base = [sys.executable, "-m", "optbench.cli", "score", str(root), "--format", "algoperf", "--targets",
                str(targets), "--json"]
        timed = _score_speed().timed
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        times: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in VARIANTS}
        for _ in range(args.repeat):  # interleaved: a change of load hits every variant alike
            for i, (label, extra) in enumerate(VARIANTS):
                times[label].append(timed([*base, "--out", str(tmp / f"out{i}"), *extra], env))
        plain = statistics.median(cpu for _, cpu in times[VARIANTS[0][0]])
        print(f"{'command':<30} {'CPU s (median)':>15} {'wall s (best)':>14} {'CPU ratio':>10}")
        for label, _ in VARIANTS:
            cpu = statistics.median(c for _, c in times[label])
            wall = min(w for w, _ in times[label])
            print(f"{label:<30} {cpu:>15.2f} {wall:>14.2f} {cpu / plain:>9.2f}x")
        full = statistics.median(c for _, c in times[VARIANTS[-1][0]]) / plain
        print(f"analyses (both clocks + tuning curve) / plain scoring: {full:.2f}x of CPU time; goal <= "
              f"{GOAL_RATIO:g}x: {'met' if full <= GOAL_RATIO else 'missed'} ({args.repeat} runs each, "
              f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
