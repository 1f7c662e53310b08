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
   with probability at least 1 − (1 − 0.4)^5 ≈ 92 %. An **accuracy** first loses one binomial
   standard error of its split, sqrt(p(1 − p)/n) for n examples (0.0057 on ``digits_mlp``'s 628
   validation images): tuned trials plateau there, and a target within that of the plateau
   is decided by which examples the split holds and by the seed (one image of 628), not by the
   training algorithm. ``target=`` fixes it by hand instead.
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
steps to target, then the number of targets reached). The search picks on one seed, and the
best of a dozen noisy scores is a point that only just reaches some targets on that seed;
so the ``finalists`` best points (most targets reached, then score; the current defaults
always among them, so that a change must beat them on every seed) re-run on ``seeds`` new
seeds, and the chosen point is the
one that reaches the most targets on its worst seed (then the best mean score over the
seeds, each seed's runs scored against each other). The result is printed (and saved with
``--out``) for the submission's ``DEFAULT_HPARAMS``. ``--seed`` moves every trial seed: the
built-in defaults were chosen with ``--seed 100`` so that the seeds they were chosen on are
not the seeds ``benchmarks/ranking_stability.py`` judges them on (0-4).

Every calibration records the machine, the torch threads per trial and the load average at
its start. :func:`write_calibration` writes a proposal into the workload YAML through a
round-trip YAML writer (comments and layout kept) and an atomic write.
"""

from optbench.tools.calibrate.common import Run, round_target, round_up
from optbench.tools.calibrate.defaults import DefaultsProposal, calibrate_defaults
from optbench.tools.calibrate.seconds import SecondsProposal, calibrate_seconds, write_seconds
from optbench.tools.calibrate.targets import (
    TargetProposal,
    calibrate_target,
    quantile_target,
    reach_fraction,
    study_success,
)
from optbench.tools.calibrate.yaml_writer import write_calibration

__all__ = [
    "DefaultsProposal", "Run", "SecondsProposal", "TargetProposal", "calibrate_defaults", "calibrate_seconds",
    "calibrate_target", "quantile_target", "reach_fraction", "round_target", "round_up", "study_success",
    "write_calibration", "write_seconds",
]
