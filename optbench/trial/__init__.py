"""ONE trial: the training loop and what it needs (docs/design.md §4).

- :mod:`.loop`: :func:`run_trial`, the loop itself (set-up, timed steps, evals, stops);
- :mod:`.clock`: the submission clock (what counts as submission time);
- :mod:`.accelerate`: the GPU path set up before the clock starts (compile, bf16, TF32);
- :mod:`.checkpoint`: mid-trial checkpoints (save at each eval, continue after a kill);
- :mod:`.ranks`: the hooks by which one rank of a data-parallel trial differs from a
  single process (the launcher of the ranks is an executor's job: ``executors/ddp.py``).

Nothing here imports an executor, the plan or the results folder.
"""

from optbench.trial.loop import run_trial, seed_everything

__all__ = ["run_trial", "seed_everything"]
