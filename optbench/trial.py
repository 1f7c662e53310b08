"""ONE trial: train a submission on a workload until the target or the budget (DESIGN.md §4).

The clock follows AlgoPerf: *submission time* is the time spent fetching batches,
updating the model and in ``prepare_for_eval``; model/optimizer initialisation,
evaluation and logging are timed separately and never count. On CUDA the clock
reads after ``torch.cuda.synchronize()`` so queued kernels are not missed.

:func:`run_trial` runs in the current process and never raises for a trial's own
failure: an exception becomes ``failed`` (with its traceback), a non-finite loss
``diverged``. Isolation from crashes and hangs is the executor's job (it runs this
function in a child process).
"""

from __future__ import annotations

import math
import random
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from optbench import checkpoint, distributed
from optbench.errors import OptbenchError
from optbench.spec import Context, TrialResult, TrialSpec
from optbench.submissions import load_submission
from optbench.workloads.runtime import build_workload

EvalCallback = Callable[[dict[str, Any]], None]


@dataclass
class TrialOutcome:
    result: TrialResult
    evals: list[dict[str, Any]] = field(default_factory=list)


class SubmissionClock:
    """Accumulates the seconds spent inside ``with clock:`` blocks (synchronised on CUDA).

    ``reduce`` (data-parallel trials) turns each block's seconds into the slowest rank's."""

    def __init__(self, device: torch.device, elapsed: float = 0.0, reduce: Callable[[float], float] | None = None):
        self.sync = torch.cuda.synchronize if device.type == "cuda" else None
        self.elapsed, self.reduce = elapsed, reduce

    def __enter__(self) -> SubmissionClock:
        if self.sync:
            self.sync()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.sync:
            self.sync()
        seconds = time.perf_counter() - self._start
        self.elapsed += self.reduce(seconds) if self.reduce else seconds


class RecordingLoss:
    """The workload's loss function, remembering the last value so divergence can be seen
    whichever submission form computed it."""

    def __init__(self, loss_fn: Callable):
        self.loss_fn, self.last = loss_fn, None

    def __call__(self, model: torch.nn.Module, batch: Any) -> torch.Tensor:
        self.last = self.loss_fn(model, batch)
        return self.last


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def accelerate(spec: TrialSpec, workload: Any, model: torch.nn.Module, batch_size: int) -> tuple[Callable, float]:
    """The GPU path, set up before the clock starts; returns (the loss function to train with, compile seconds).

    ``tf32``/``cudnn_benchmark`` set torch's CUDA flags; ``amp="bf16"`` runs the training
    forward and loss under bfloat16 autocast (backward outside it; evals stay float32);
    ``compile`` makes the loss function call ``torch.compile(model)`` (same parameters; the
    model itself, its state_dict and evals stay eager) and runs one forward/backward on a
    batch from a separate stream, then restores buffers, gradients and RNG state, so the
    first timed step does not pay for compilation. Later recompilations are not excluded.
    """
    device = torch.device(spec.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = spec.tf32
        torch.backends.cudnn.benchmark = spec.cudnn_benchmark
    if spec.amp not in (None, "bf16"):
        raise OptbenchError(f"amp={spec.amp!r}: only bf16 is supported (fp16 would need a loss scaler)")
    if spec.amp:
        def loss_fn(model: torch.nn.Module, batch: Any, plain: Callable = workload.loss_fn) -> torch.Tensor:
            with torch.autocast(device.type, dtype=torch.bfloat16):
                return plain(model, batch)
    else:
        loss_fn = workload.loss_fn
    if not spec.compile:
        return loss_fn, 0.0
    start = time.perf_counter()
    compiled, eager_loss = torch.compile(model), loss_fn

    def loss_fn(m: torch.nn.Module, batch: Any) -> torch.Tensor:  # another model (a submission's copy) stays eager
        return eager_loss(compiled if m is model else m, batch)

    buffers = {name: b.clone() for name, b in model.named_buffers()}
    rng = torch.random.get_rng_state(), torch.cuda.get_rng_state_all() if device.type == "cuda" else None
    batch = next(workload.data.train_batches(batch_size, torch.Generator().manual_seed(spec.seed + 1)))
    loss_fn(model, batch).backward()
    model.zero_grad(set_to_none=True)
    for name, b in model.named_buffers():
        b.copy_(buffers[name])
    torch.random.set_rng_state(rng[0])
    if rng[1] is not None:
        torch.cuda.set_rng_state_all(rng[1])
        torch.cuda.synchronize()
    return loss_fn, time.perf_counter() - start


def run_trial(spec: TrialSpec, on_eval: EvalCallback | None = None) -> TrialOutcome:
    """Run one trial here and now; always returns an outcome (see the module docstring)."""
    if spec.nproc_per_trial > 1 and distributed.current() is distributed.SINGLE:
        return distributed.launch(spec, on_eval)  # N processes, each back in here as a rank
    wall_start = time.perf_counter()
    outcome = TrialOutcome(TrialResult(status="failed"))
    try:
        _train(spec, outcome, wall_start, on_eval)
    except OptbenchError as exc:
        outcome.result.status, outcome.result.error = "failed", str(exc)
    except Exception as exc:  # the submission's (or workload's) own bug: record it, never raise
        outcome.result.status, outcome.result.error = "failed", f"{type(exc).__name__}: {exc}"
        outcome.result.traceback = traceback.format_exc()
    outcome.result.total_time += time.perf_counter() - wall_start  # a resumed trial starts from its earlier total
    return outcome


def _train(spec: TrialSpec, out: TrialOutcome, wall_start: float, on_eval: EvalCallback | None) -> None:
    # -- set-up: not submission time ------------------------------------------------------------
    if spec.num_threads:
        torch.set_num_threads(spec.num_threads)
    seed_everything(spec.seed)
    device = torch.device(spec.device)
    workload = build_workload(spec.workload, device, spec.data_dir)
    submission = load_submission(spec.submission_path)
    hparams = submission.resolve_hparams(spec.hparams)
    wl, result, ranks = spec.workload, out.result, distributed.current()  # ranks: no-ops on one process
    ctx = Context(wl.name, wl.budget.step_hint, spec.budget_seconds,
                  submission.batch_size(wl.name) or wl.batch_size, spec.device, spec.seed,
                  metadata={**workload.data.info, **workload.data.metadata})
    model = ranks.wrap(workload.init_model(spec.seed))  # DistributedDataParallel in a data-parallel trial
    state = submission.init(model, hparams, ctx)
    batches = ranks.train_batches(workload.data, ctx.batch_size, torch.Generator().manual_seed(spec.seed))
    train_loss, result.compile_time = accelerate(spec, workload, model, ctx.batch_size)
    loss_fn, clock = RecordingLoss(train_loss), SubmissionClock(device, reduce=ranks.clock_reduce())
    result.status = "budget_exhausted"
    state = checkpoint.restore(spec, model, state, batches, ctx, clock, out)  # --checkpoint: go on from the last
    result.init_time += time.perf_counter() - wall_start
    last_eval_step, last_eval_time = ctx.step, clock.elapsed

    def evaluate() -> bool:
        """Timed prepare_for_eval, untimed eval; records a row; True when the target is hit."""
        nonlocal state, last_eval_step, last_eval_time
        with clock:
            state = submission.prepare_for_eval(model, state, hparams, ctx)
        eval_start = time.perf_counter()
        metrics = ranks.evaluate(workload, model)
        result.eval_time += time.perf_counter() - eval_start
        last_eval_step, last_eval_time = ctx.step, clock.elapsed
        row = {"step": ctx.step, "submission_time": clock.elapsed, "eval_time": result.eval_time,
               "total_time": result.total_time + time.perf_counter() - wall_start, **metrics}
        out.evals.append(row)
        result.num_evals += 1
        if on_eval:
            on_eval(row)
        value, within_budget = metrics.get(wl.target.metric), clock.elapsed <= spec.budget_seconds
        if within_budget and value is not None and math.isfinite(value):
            if result.best_metric is None or wl.target.better(value, result.best_metric):
                result.best_metric = value
        hit = within_budget and wl.target.is_hit(value)
        if hit and result.steps_to_target is None:
            result.status, result.steps_to_target, result.time_to_target = "reached", ctx.step, clock.elapsed
        return hit

    # -- the loop: only what is inside `with clock` is submission time --------------------------
    while True:
        with clock:
            batch = next(batches)
            state = submission.update(model, batch, loss_fn, state, hparams, ctx)
        ctx.step, ctx.submission_time = ctx.step + 1, clock.elapsed
        if loss_fn.last is not None and not math.isfinite(ranks.loss_for_check(loss_fn.last).item()):
            result.status, result.error = "diverged", f"non-finite training loss at step {ctx.step}"
            break
        if clock.elapsed > spec.budget_seconds or (wl.budget.max_steps and ctx.step >= wl.budget.max_steps):
            evaluate()  # the final eval: recorded, but past the budget it cannot hit the target
            break
        if ctx.step == 1 or wl.eval.is_due(ctx.step, clock.elapsed, last_eval_step, last_eval_time):
            if evaluate() and spec.stop_at_target:
                break
            checkpoint.save(spec, model, state, ctx, clock, out)  # --checkpoint only; not submission time
    result.steps, result.submission_time = ctx.step, clock.elapsed
