"""ONE trial: the training loop and what it needs (docs/design.md §4).

- :mod:`.loop`: :func:`run_trial`, the loop itself (set-up, timed steps, evals, stops);
- :mod:`.clock`: the submission clock (what counts as submission time);
- :mod:`.accelerate`: the GPU path set up before the clock starts (compile, bf16, TF32);
- :mod:`.checkpoint`: mid-trial checkpoints (save at each eval, continue after a kill);
- :mod:`.ranks`: the hooks by which one rank of a data-parallel trial differs from a
  single process (the launcher of the ranks is an executor's job: ``executors/ddp.py``).

Nothing here imports an executor, the plan or the results folder.
"""

__all__ = ["run_trial", "seed_everything"]


def __getattr__(name: str):  # the loop imports torch: only when asked for, not for .checkpoint's file name
    if name in __all__:
        from optbench.trial import loop

        return getattr(loop, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
