"""The submission clock (AlgoPerf's): only what happens inside ``with clock:`` is submission time.

The trial loop wraps batch fetching + the update, and ``prepare_for_eval``, in the clock;
initialisation, evaluation, logging and checkpoints stay outside. Each block is timed twice:
in wall seconds (``time.perf_counter``; on CUDA after ``torch.cuda.synchronize()``, so that
queued kernels are not missed) and in the trial process's CPU seconds
(``time.process_time``: all its threads, none of another process's). ``elapsed`` is the
one the run's :class:`~optbench.spec.Clock` budgets: CPU seconds on the ``cpu`` clock,
wall seconds otherwise (the ``steps`` clock budgets steps, and keeps wall seconds as
information).
"""

from __future__ import annotations

import time
from typing import Any, Callable

import torch

from optbench.spec import Clock


class SubmissionClock:
    """Accumulates the wall and CPU seconds spent inside ``with clock:`` blocks.

    ``reduce`` (data-parallel trials) turns each block's (wall, cpu) seconds into the slowest rank's."""

    def __init__(self, device: torch.device, clock: Clock = Clock.WALL,
                 reduce: Callable[[tuple[float, float]], tuple[float, float]] | None = None):
        self.sync = torch.cuda.synchronize if device.type == "cuda" else None
        self.counts_cpu = Clock(clock) == Clock.CPU
        self.wall = self.cpu = 0.0
        self.reduce = reduce

    @property
    def elapsed(self) -> float:
        """Submission seconds on the run's clock."""
        return self.cpu if self.counts_cpu else self.wall

    def restore(self, wall: float, cpu: float) -> None:
        """Go on from a checkpoint's totals."""
        self.wall, self.cpu = wall, cpu

    def __enter__(self) -> SubmissionClock:
        if self.sync:
            self.sync()
        self._cpu_start = time.process_time()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.sync:
            self.sync()
        wall = time.perf_counter() - self._start
        cpu = time.process_time() - self._cpu_start
        if self.reduce:
            wall, cpu = self.reduce((wall, cpu))
        self.wall += wall
        self.cpu += cpu


class RecordingLoss:
    """The workload's loss function, remembering the last value so divergence can be seen
    whichever submission form computed it, and counting its calls (a closure optimizer's passes:
    two per step for SAM, several for L-BFGS)."""

    def __init__(self, loss_fn: Callable):
        self.loss_fn, self.last, self.calls = loss_fn, None, 0

    def __call__(self, model: torch.nn.Module, batch: Any) -> torch.Tensor:
        self.last = self.loss_fn(model, batch)
        self.calls += 1
        return self.last

    def take_calls(self) -> int:
        """The calls since the last time this was asked (the trial adds them to its result)."""
        calls, self.calls = self.calls, 0
        return calls
