"""A submission's self-tuning defaults chosen across a suite (``--defaults``; see the package docstring)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from optbench.errors import OptbenchError
from optbench.plan import trial_seed
from optbench.spec import Clock, Executor, TrialSpec, WorkloadSpec
from optbench.tools.calibrate.common import Run, machine_info, plain, run_all
from optbench.tuning.points import study_points
from optbench.tuning.spaces import load_search_space

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
    seed_runs: list[list[Run]]  #: the chosen point on each new seed: one run per workload
    multiplier: float
    machine: dict[str, Any] = field(default_factory=dict)
    finalists: list[dict[str, Any]] = field(default_factory=list)  #: the re-run points, how each held up

    def summary(self) -> dict[str, Any]:
        return {"submission": self.submission, "workloads": self.workloads, "multiplier": self.multiplier,
                "best": {"hparams": plain(self.best.hparams), "score": round(self.best.score, 4),
                         "reached": self.best.reached,
                         "steps_to_target": {r.workload: r.steps_to_target for r in self.best.runs}},
                "seeds_reached": [sum(r.status == "reached" for r in runs) for runs in self.seed_runs],
                "finalists": self.finalists,
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
    finalists: int = 3,
    on_run: Callable[[str, Run], None] | None = None,
) -> DefaultsProposal:
    """Choose one hyperparameter point that works on every workload (see the module docstring).
    ``submission`` is a :class:`~optbench.submissions.SubmissionFolder`."""
    import numpy as np

    from optbench.submissions import load_folder

    if submission.search_space_path is None:
        raise OptbenchError(f"{submission.path}: no search space to choose defaults from")
    space = load_search_space(submission.search_space_path)
    current = load_folder(submission).defaults
    candidates = [current] + study_points(space, points, base_seed, 0, source=str(submission.search_space_path))
    machine = machine_info(getattr(executor, "threads", None))

    def trial(hparams: dict[str, Any], wl: WorkloadSpec, seed_index: int, index: int) -> TrialSpec:
        return TrialSpec(wl, submission.name, str(submission.path), dict(hparams),
                         seed=trial_seed(base_seed, wl.name, seed_index, 0), trial=index, ruleset="self",
                         budget_multiplier=multiplier, submission_hash=submission.code_hash, clock=Clock.STEPS)

    specs = [trial(p, wl, 0, i) for i, p in enumerate(candidates) for wl in workloads]
    runs = run_all(specs, executor, "points", on_run)
    results = [PointResult(p, [r for r, s in zip(runs, specs) if s.trial == i]) for i, p in enumerate(candidates)]
    for res, score in zip(results, _scores([res.runs for res in results])):
        res.score = score
    # The search picks on one seed, which favours points that only just reach a target on it
    # (the maximum of noisy scores); the finalists (the most targets reached, then the best
    # score; the current defaults always among them, so that a change has to beat them on
    # every seed) re-run on new seeds, and the chosen point is the one that reaches the most
    # targets on its worst seed, then the best mean score.
    ranked = sorted(range(len(results)), key=lambda i: (results[i].reached, results[i].score), reverse=True)
    chosen = ranked[:max(1, finalists)] if seeds else ranked[:1]
    if seeds and 0 not in chosen:
        chosen.append(0)
    finalist_runs = {i: [results[i].runs] for i in chosen}
    for k in range(1, seeds + 1):
        seed_specs = [trial(results[i].hparams, wl, k, i) for i in chosen for wl in workloads]
        seed_runs = run_all(seed_specs, executor, f"seed {k}", on_run)
        for i in chosen:
            finalist_runs[i].append([r for r, s in zip(seed_runs, seed_specs) if s.trial == i])
    # every (finalist, seed) row scored against all the others on that seed's same workloads
    robust = {}
    for i in chosen:
        per_seed = finalist_runs[i]
        worst = min(sum(r.status == "reached" for r in runs) for runs in per_seed)
        mean = float(np.mean([_scores([finalist_runs[j][k] for j in chosen])[chosen.index(i)]
                              for k in range(len(per_seed))]))
        robust[i] = (worst, mean)
    best_index = max(chosen, key=lambda i: robust[i])
    finalists_summary = [{"point": i, "hparams": plain(results[i].hparams), "worst_seed_reached": robust[i][0],
                          "mean_score_over_seeds": round(robust[i][1], 4),
                          "reached_per_seed": [sum(r.status == "reached" for r in runs) for runs in finalist_runs[i]]}
                         for i in chosen]
    best = results[best_index]
    return DefaultsProposal(submission.name, [w.name for w in workloads], results, best,
                            finalist_runs[best_index][1:], multiplier, machine, finalists_summary)


def _scores(rows: list[list[Run]]) -> list[float]:
    """AlgoPerf's performance-profile score of each row (one point's runs on the same workloads),
    the rows scored against each other as if they were submissions; misses count as infinity."""
    import numpy as np
    import pandas as pd

    from optbench.scoring.rules import score_times

    times = pd.DataFrame(
        [[math.inf if r.steps_to_target is None else float(r.steps_to_target) for r in runs] for runs in rows],
        index=[f"point_{i}" for i in range(len(rows))], columns=[r.workload for r in rows[0]], dtype=float)
    return [float(v) for v in np.nan_to_num(score_times(times).scores.to_numpy())]


