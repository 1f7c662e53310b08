"""``optbench validate``: check a workload YAML or a submission folder, then train it a few steps.

The few steps run the way ``optbench run`` runs a trial: in a worker process of the local executor,
with a wall-clock limit. A submission's code (its import, ``make_optimizer``, a dataset factory) may
sleep, call ``sys.exit`` or ``os._exit``, raise ``KeyboardInterrupt`` or crash the interpreter; none of
that may end or hang ``optbench validate`` itself: each becomes one line and exit 2. Nothing of the
submission is imported in this process.

A submission is trained with the first point of its search space when it has one (AlgoPerf's
files have no defaults), else with its own defaults; the line printed first names the workload and
the hyperparameters' origin, so that "ok" says what was checked.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from rich.markup import escape

from optbench.errors import OptbenchError

#: How the executor words a failure that is not the trial's own OptbenchError (those get the path in front).
_EXECUTOR_ERRORS = ("the submission's code raised", "could not start", "worker process")
DEFAULT_TIMEOUT = 300.0  #: seconds a validation's worker may take (start-up, data, the steps) before it counts as hung


def validate(path: Path, console: Any, *, steps: int = 10, workload: str = "digits_mlp",
             submission: str = "adamw", timeout: float = DEFAULT_TIMEOUT) -> None:
    """Check ``path`` (a workload YAML or a submission folder) and train ``steps`` steps in a worker."""
    from optbench import submissions as subs
    from optbench.executors.local import LocalExecutor
    from optbench.report.format import first_step
    from optbench.spec import Budget, Clock, TrialRuntime, TrialSpec, TrialStatus
    from optbench.tuning.points import sample_points
    from optbench.tuning.spaces import load_search_space
    from optbench.workloads import find_workload, load_workload_file
    from optbench.workloads.loader import check_names_registered

    if not (timeout > 0 and math.isfinite(timeout)):
        raise OptbenchError(f"--timeout: expected a finite number of seconds > 0, got {timeout}")
    hparams: dict[str, Any] = {}
    ruleset = "self"
    path = Path(path)
    if path.is_dir():
        folder = subs.read_submission(path)  # its files only: the code runs in the worker
        origin = "its defaults"
        if folder.search_space_path:
            space = load_search_space(folder.search_space_path)
            hparams = sample_points(space, 1, 0, source=str(folder.search_space_path))[0]
            ruleset, origin = "external", f"the first point of {folder.search_space_path.name}"
        wl = find_workload(workload)
        sub_name, sub_path = folder.name, str(folder.path)
        console.print(f"submission {folder.name}: {folder.form} form, code hash {folder.code_hash}; "
                      f"training {steps} step(s) of workload {wl.name} with {origin}", markup=False, highlight=False,
                      soft_wrap=True)
    else:
        wl = load_workload_file(path)
        check_names_registered(wl)
        found = subs.find_submission(submission)
        sub_name, sub_path = found.name, str(found.path)
        console.print(f"workload {wl.name}: version {wl.version}, hash {wl.hash}; training {steps} step(s) "
                      f"with submission {found.name}", markup=False, highlight=False, soft_wrap=True)
    wl = dataclasses.replace(wl, budget=Budget(wl.budget.seconds, wl.budget.step_hint, steps=steps, max_steps=steps))
    spec = TrialSpec(wl, sub_name, sub_path, hparams, seed=0, ruleset=ruleset, stop_at_target=False,
                     clock=Clock.STEPS)  # the steps clock: a slow (compiling) first step cuts nothing short
    executor = LocalExecutor(workers=1, threads_per_worker=1, retries=0)
    done = executor.run_one(spec, TrialRuntime(num_threads=1, wall_clock_limit=timeout))
    result = done.result
    if result.status == TrialStatus.TIMEOUT:
        raise OptbenchError(f"{path}: no result after {timeout:g} s (--timeout): does its import, data or "
                            "optimizer hang?")
    if result.status == TrialStatus.FAILED:
        error = result.error or "no error recorded"
        if result.traceback is None and not done.crashed and not error.startswith(_EXECUTOR_ERRORS):
            raise OptbenchError(error)  # bad input met while setting the trial up: the message names its file
        raise OptbenchError(f"{path}: failed while training: {error}")
    last = done.evals[-1] if done.evals else {}
    console.print(f"[green]ok[/]: {result.steps} steps ({result.status}), train/loss "
                  f"{last.get('train/loss', float('nan')):.4g}, {escape(wl.target.metric)} "
                  f"{last.get(wl.target.metric, float('nan')):.4g}", highlight=False)
    console.print(first_step(done.evals), markup=False, highlight=False)
