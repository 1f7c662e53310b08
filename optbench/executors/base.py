"""What every executor shares: retry-or-record, the cores this process may use, and dying with
the parent. The interface itself is :class:`optbench.spec.Executor`."""

from __future__ import annotations

import os
import signal
import sys
from typing import Callable

from optbench.spec import FinishedTrial, OnFinished, TrialSpec


def settle(finished: FinishedTrial, attempt: int, retries: int, requeue: Callable[[TrialSpec, int], None],
           on_finished: OnFinished, on_retry: OnFinished | None = None) -> None:
    """A trial came back: run it again if its worker died (at most ``retries`` more times), or
    hand it to ``on_finished``. Shared by every executor so retries mean the same everywhere."""
    finished.attempts = attempt
    if finished.crashed and attempt <= retries:
        requeue(finished.spec, attempt + 1)
        if on_retry:
            on_retry(finished)
        return
    if finished.crashed and attempt > 1:
        finished.result.error += f"; it died on all {attempt} attempts"
    on_finished(finished)


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def die_with_parent() -> bool:  # pragma: no cover - runs in child processes
    """Linux: have the kernel SIGKILL this process when its parent exits (``PR_SET_PDEATHSIG``),
    so that killing a run (or a trial's launcher) leaves no orphan that goes on computing or
    writing checkpoints. Returns False when the parent was already gone."""
    if not sys.platform.startswith("linux"):
        return True
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return True
    return os.getppid() == parent  # the parent may have gone before prctl took effect
