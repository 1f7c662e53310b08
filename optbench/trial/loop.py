"""ONE trial: train a submission on a workload until the target or the budget (docs/design.md §4).

The clock follows AlgoPerf (:mod:`optbench.trial.clock`): *submission time* is the time
spent fetching batches, updating the model and in ``prepare_for_eval``; model/optimizer
initialisation, evaluation and logging are timed separately and never count.

:func:`run_trial` runs in the current process and never raises for a trial's own
failure: an exception becomes ``failed`` (with its traceback), a non-finite loss
``diverged``. Isolation from crashes and hangs is the executor's job (it runs this
function in a child process); so is starting the ranks of a data-parallel trial, each of
which runs this same loop with its :mod:`~optbench.trial.ranks` hooks.
"""

from __future__ import annotations

import math
import random
import time
import traceback
from typing import Any, Callable

import numpy as np
import torch

from optbench.errors import OptbenchError
from optbench.spec import (
    Clock,
    Context,
    TrainingComplete,
    TrialOutcome,
    TrialResult,
    TrialRuntime,
    TrialSpec,
    TrialStatus,
)
from optbench.submissions import load_submission
from optbench.trial import ranks as rank_hooks
from optbench.trial.accelerate import accelerate
from optbench.trial.checkpoint import Checkpointer
from optbench.trial.clock import RecordingLoss, SubmissionClock
from optbench.workloads.roles import parameter_roles, params_by_role
from optbench.workloads.runtime import build_workload

EvalCallback = Callable[[dict[str, Any]], None]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def run_trial(spec: TrialSpec, runtime: TrialRuntime | None = None, on_eval: EvalCallback | None = None) -> TrialOutcome:
    """Run one trial here and now; always returns an outcome (see the module docstring)."""
    wall_start = time.perf_counter()
    outcome = TrialOutcome(TrialResult(TrialStatus.FAILED))
    try:
        _train(spec, runtime or TrialRuntime(), outcome, wall_start, on_eval)
    except OptbenchError as exc:
        outcome.result.status, outcome.result.error = TrialStatus.FAILED, str(exc)
    except Exception as exc:  # the submission's (or workload's) own bug: record it, never raise
        outcome.result.status, outcome.result.error = TrialStatus.FAILED, f"{type(exc).__name__}: {exc}"
        outcome.result.traceback = traceback.format_exc()
    outcome.result.total_time += time.perf_counter() - wall_start  # a resumed trial starts from its earlier total
    return outcome


def _batch_size(submission: Any, wl: Any) -> int:
    """The submission's batch size for ``wl`` (None: the workload's); anything but a whole number >= 1 fails the
    trial at once (a batch size of -1 would otherwise wait for the wall-clock limit)."""
    size = submission.batch_size(wl.name)
    size = wl.batch_size if size is None else size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise OptbenchError(f"get_batch_size({wl.name!r}) returned {size!r}; expected a whole number >= 1 or None")
    return size


def _train(spec: TrialSpec, runtime: TrialRuntime, out: TrialOutcome, wall_start: float,
           on_eval: EvalCallback | None) -> None:
    # -- set-up: not submission time ------------------------------------------------------------
    if runtime.num_threads:
        torch.set_num_threads(runtime.num_threads)
    seed_everything(spec.seed)
    device = torch.device(runtime.torch_device(spec))
    workload = build_workload(spec.workload, device, spec.data_dir)
    submission = load_submission(spec.submission_path)
    hparams = submission.resolve_hparams(spec.hparams)
    wl, result, ranks = spec.workload, out.result, rank_hooks.current()  # ranks: no-ops on one process
    ctx = Context(wl.name, wl.budget.step_hint, spec.budget_seconds, _batch_size(submission, wl), str(device), spec.seed,
                  metadata={**workload.data.info, **workload.data.metadata},
                  ruleset=spec.ruleset, evals=out.evals, runtime=workload)
    model = workload.init_model(spec.seed)
    ctx.parameter_roles = parameter_roles(model)  # before wrapping: the names are the model's own
    ctx.params_by_role = params_by_role(model, ctx.parameter_roles)
    model = ranks.wrap(model)  # DistributedDataParallel in a data-parallel trial
    if spec.save_weights and not out.weights:  # --save-weights (optbench landscape); a resumed trial keeps its own
        out.weights["init"] = _weights_bytes(model)
    result.num_params = sum(p.numel() for p in model.parameters())
    state = submission.init(model, hparams, ctx)
    batches = ranks.train_batches(workload.data, ctx.batch_size, torch.Generator().manual_seed(spec.seed))
    ctx.train_batches = batches
    train_loss, result.compile_time = accelerate(spec, device, workload, model, ctx.batch_size)
    loss_fn, clock = RecordingLoss(train_loss), SubmissionClock(device, spec.clock, reduce=ranks.clock_reduce())
    result.status = TrialStatus.BUDGET_EXHAUSTED
    checkpoint = Checkpointer.for_trial(spec, runtime)
    state = checkpoint.restore(model, state, batches, ctx, clock, out)  # --checkpoint: go on from the last
    result.init_time += time.perf_counter() - wall_start
    last_eval_step, last_eval_time = ctx.step, clock.elapsed

    def within_budget() -> bool:
        if spec.clock == Clock.STEPS:
            return ctx.step <= spec.budget_steps
        return clock.elapsed <= spec.budget_seconds

    def evaluate() -> bool:
        """Timed prepare_for_eval, untimed eval; records a row; True when the target is hit."""
        nonlocal state, last_eval_step, last_eval_time
        with clock:
            state = submission.prepare_for_eval(model, state, hparams, ctx)
        eval_start = time.perf_counter()
        metrics = ranks.evaluate(workload, model)
        result.eval_time += time.perf_counter() - eval_start
        last_eval_step, last_eval_time = ctx.step, clock.elapsed
        row = {"step": ctx.step, "submission_time": clock.elapsed, "submission_wall_time": clock.wall,
               "submission_cpu_time": clock.cpu, "eval_time": result.eval_time,
               "total_time": result.total_time + time.perf_counter() - wall_start, **metrics}
        out.evals.append(row)
        result.num_evals += 1
        if on_eval:
            on_eval(row)
        value, counts = metrics.get(wl.target.metric), within_budget()
        if counts and value is not None and math.isfinite(value):
            if result.best_metric is None or wl.target.better(value, result.best_metric):
                result.best_metric = value
        hit = counts and wl.target.is_hit(value)
        if hit and result.steps_to_target is None:
            result.status, result.steps_to_target, result.time_to_target = TrialStatus.REACHED, ctx.step, clock.elapsed
            result.wall_time_to_target, result.cpu_time_to_target = clock.wall, clock.cpu
        return hit

    # -- the loop: only what is inside `with clock` is submission time --------------------------
    while True:
        complete = False
        with clock:
            batch = next(batches)
            try:
                state = submission.update(model, batch, loss_fn, state, hparams, ctx)
            except TrainingComplete:  # the submission ends training (AlgoPerf's TrainingCompleteError)
                complete = True
        ctx.step, ctx.submission_time = ctx.step + 1, clock.elapsed
        result.loss_evaluations += loss_fn.take_calls()
        if loss_fn.last is not None and not math.isfinite(ranks.loss_for_check(loss_fn.last).item()):
            result.status, result.error = TrialStatus.DIVERGED, f"non-finite training loss at step {ctx.step}"
            break
        spent = ctx.step >= spec.budget_steps if spec.clock == Clock.STEPS else not within_budget()
        if complete or spent or (wl.budget.max_steps and ctx.step >= wl.budget.max_steps):
            evaluate()  # the final eval: recorded, but past the budget it cannot hit the target
            break
        if ctx.step == 1 or wl.eval.is_due(ctx.step, clock.elapsed, last_eval_step, last_eval_time):
            if evaluate() and spec.stop_at_target:
                break
            checkpoint.save(model, state, ctx, clock, out)  # --checkpoint only; not submission time
    result.steps, result.submission_time = ctx.step, clock.elapsed
    result.submission_wall_time, result.submission_cpu_time = clock.wall, clock.cpu
    if spec.save_weights:
        out.weights["final"] = _weights_bytes(model)


def _weights_bytes(model: torch.nn.Module) -> bytes:
    """The model's state dict on the CPU, as ``torch.save`` bytes (picklable to the parent process)."""
    import io

    module = getattr(model, "module", model)  # DistributedDataParallel wraps the model
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu().clone() for k, v in module.state_dict().items()}, buffer)
    return buffer.getvalue()
