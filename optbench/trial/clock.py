"""The submission clock (AlgoPerf's): only what happens inside ``with clock:`` is submission time.

The trial loop wraps batch fetching + the update, and ``prepare_for_eval``, in the clock;
initialisation, evaluation, logging and checkpoints stay outside. On CUDA the clock reads
after ``torch.cuda.synchronize()`` so that queued kernels are not missed.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import torch


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
