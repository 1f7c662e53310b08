"""Does the suite rank training algorithms the same way every time? Independent repeats, side by side.

Runs the suite (default: mini) for the baselines under self-tuning, once per base seed
(``--repeats`` different seeds: other initial weights and batch orders), scores each repeat
on its own, and prints every repeat's ranking, the top-3 order of each, and how many repeats
agree with the most common top-3 order. The goal of issue 12: the same top-3 order in at
least 4 of 5 repeats.

    python benchmarks/ranking_stability.py                          # mini, 6 baselines, 5 repeats
    python benchmarks/ranking_stability.py --suite default --repeats 3 --submissions adamw,nadamw,sgd_nesterov
    python benchmarks/ranking_stability.py --keep /tmp/stability    # keep the results folders
    python benchmarks/ranking_stability.py --keep /tmp/stability    # again: resumes the unfinished repeats
    python benchmarks/ranking_stability.py --preset algoperf-v06   # AlgoPerf's protocol: 3 studies per repeat

Without ``--preset`` a repeat is one study per workload and submission (what ``optbench run
--ruleset self`` does without a preset), so a default that reaches a target on one seed and just
misses it on the next moves the ranking. With ``--preset algoperf-v06`` each repeat is what
AlgoPerf's self-tuning ruleset prescribes: 3 studies, each with its own seed, and a workload's
time to target is the median over the studies (reached when at least 2 of 3 reach it).

After the agreement, the script prints how often each pair of neighbours (in the order of the
mean score over the repeats) kept its order, with a two-sided sign test: a pair that swaps in
about half the repeats is one the suite cannot order, and no top-3 order through it can be
stable.

Each repeat is an ordinary experiment (``optbench run --suite S --submissions ... --seed K``)
written to a folder, so any of them can be opened with ``optbench report``.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import sys
import tempfile
import time
from pathlib import Path

BASELINES = "adamw,nadamw,sgd_nesterov,heavy_ball,schedule_free_adamw,lion"


def run_repeat(suite: str, submissions: list[str], seed: int, workers: int, clock: str | None, root: Path,
               preset: str | None = None) -> float:
    """One self-tuning run of the suite into ``root``; returns its wall seconds.

    A ``root`` that already holds this repeat (``--keep`` of an earlier, possibly interrupted,
    call) is resumed: its finished trials are kept and only the missing ones run, so the five
    repeats can be spread over several sittings on a slow machine."""
    from optbench.errors import OptbenchError
    from optbench.executors import make_executor
    from optbench.experiment import configure, resume, run_experiment, start_experiment
    from optbench.plan import plan_from_config
    from optbench.store import EXPERIMENT_FILE
    from optbench.submissions import find_submission
    from optbench.workloads import resolve_workloads, suites

    if (root / EXPERIMENT_FILE).is_file():
        specs, config, _ = resume(root, force=False, execution={"workers": workers})
        asked = (suite, tuple(submissions), seed, clock or config.clock.value, preset)
        kept = (config.suite, tuple(config.submissions), config.seed, config.clock.value, config.preset)
        if asked != kept:
            raise OptbenchError(f"{root}: a kept repeat of suite {kept[0]}, submissions {','.join(kept[1])}, seed "
                             f"{kept[2]}, clock {kept[3]}, preset {kept[4]}; this call asks for {asked[0]}, "
                             f"{','.join(asked[1])}, seed {asked[2]}, clock {asked[3]}, preset {asked[4]}: "
                             "use another --keep folder")
    else:
        workloads = resolve_workloads([], suite)
        subs = [find_submission(s) for s in submissions]
        config = configure(workloads=[w.name for w in workloads], submissions=[s.name for s in subs], suite=suite,
                           ruleset="self", preset=preset, studies=None, trials=None, hparams=None, clock=clock,
                           suite_clock=suites()[suite].clock, seed=seed, workers=workers)
        specs = plan_from_config(workloads, subs, config)
        start_experiment(root, specs, config)
    executor = make_executor(config)
    executor.start()
    start = time.perf_counter()
    run_experiment(root, specs, executor)
    return time.perf_counter() - start


def neighbour_orders(scores: list[dict[str, float]]) -> list[tuple[str, str, int, int, float]]:
    """For neighbours in the order of the mean score over ``scores`` (one mapping submission ->
    score per repeat): (better, worse, repeats where better scored above worse, repeats, two-sided
    sign-test p-value; ties count for neither side)."""
    from scipy.stats import binomtest

    names = sorted(scores[0], key=lambda s: -sum(r[s] for r in scores) / len(scores))
    pairs = []
    for better, worse in zip(names, names[1:]):
        ahead = sum(r[better] > r[worse] for r in scores)
        decided = sum(r[better] != r[worse] for r in scores)
        p = binomtest(ahead, decided).pvalue if decided else 1.0
        pairs.append((better, worse, ahead, decided, float(p)))
    return pairs


def main() -> None:
    """Bad input (an unknown suite, submission or preset, a kept folder of another plan): one line, exit 2."""
    from optbench.errors import OptbenchError, one_line

    try:
        stability()
    except OptbenchError as exc:
        print(one_line(f"error: {exc}"), file=sys.stderr)
        sys.exit(exc.exit_code)


def stability() -> None:
    """Run (or resume) the repeats, then print each one's ranking and the agreement of their top 3."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="mini")
    parser.add_argument("--submissions", default=BASELINES)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clock", default=None, help="wall, cpu or steps (default: the suite's)")
    parser.add_argument("--preset", default=None, help="algoperf-v06 or algoperf-v05: that many studies per "
                        "repeat, each workload's time to target the median over them (default: one study)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the results folders here")
    args = parser.parse_args()

    from optbench.scoring.scoreboard import score_folder

    submissions = [s.strip() for s in args.submissions.split(",") if s.strip()]
    base = args.keep or Path(tempfile.mkdtemp(prefix="optbench-stability-"))
    print(f"suite {args.suite}, {len(submissions)} submissions under self-tuning, {args.repeats} repeats "
          f"of {args.preset or 'one study'} "
          f"(seeds {args.first_seed}..{args.first_seed + args.repeats - 1}), {args.workers} workers", flush=True)
    tops, scores = [], []
    try:
        for k in range(args.repeats):
            seed = args.first_seed + k
            root = base / f"seed_{seed}"
            wall = run_repeat(args.suite, submissions, seed, args.workers, args.clock, root, args.preset)
            board = score_folder(root)
            lb = board.leaderboard
            top = tuple(lb.index[:3])
            tops.append(top)
            scores.append({sub: float(row.score) for sub, row in lb.iterrows()})
            ranking = ", ".join(f"{sub} {row.score:.3f} ({int(row.workloads_reached)}/{int(row.workloads)})"
                                for sub, row in lb.iterrows())
            print(f"seed {seed} ({wall:.0f} s, clock {board.clock}): {ranking}", flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    common, count = collections.Counter(tops).most_common(1)[0]
    print(f"\nmost common top 3: {' > '.join(common)}; the same in {count} of {len(tops)} repeats "
          f"(goal: at least 4 of 5)")
    for seed, top in zip(range(args.first_seed, args.first_seed + len(tops)), tops):
        print(f"  seed {seed}: {' > '.join(top)}{'' if top == common else '   (differs)'}")
    print("\nneighbours by mean score: repeats where the first scored above the second (sign test)")
    for better, worse, ahead, decided, p in neighbour_orders(scores):
        print(f"  {better} > {worse}: {ahead} of {decided}, p = {p:.2f}")


if __name__ == "__main__":
    main()
