"""Run trials on this machine, each in its own child process.

Isolation is the point: a submission that segfaults, leaks global state (seeds,
thread counts, monkey-patches) or hangs cannot take the run down. Children come from
a ``forkserver`` that has imported torch and optbench once, so starting a trial
costs a fork (milliseconds), not a fresh interpreter and torch import (seconds),
and no child inherits OpenMP threads from a parent that already ran torch code.

``workers`` trials run at once, each a child process watched by a thread of the
parent; results come back to the parent, which alone writes the results folder.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterable

from optbench.spec import TrialResult, TrialSpec

#: How often (seconds) a watching thread checks its child for messages, death or a hang.
_POLL = 0.05


@dataclass
class Finished:
    spec: TrialSpec
    result: TrialResult
    evals: list[dict]


OnEval = Callable[[TrialSpec, dict], None]
OnFinished = Callable[[Finished], None]


def _child(spec: TrialSpec, conn, env: dict[str, str]) -> None:  # pragma: no cover - runs in the child
    """Child process body: run the trial, stream eval rows, send the outcome, exit."""
    import signal

    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from optbench.trial import run_trial

    outcome = run_trial(spec, on_eval=lambda row: conn.send(("eval", row)))
    conn.send(("done", outcome.result, outcome.evals))
    conn.close()


def _context() -> mp.context.BaseContext:
    try:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["torch", "optbench.trial"])
        return ctx
    except ValueError:  # platforms without forkserver
        return mp.get_context("spawn")


class LocalExecutor:
    """A pool of ``workers`` child processes, one trial each at a time.

    On CPU each child gets ``threads_per_worker`` torch threads so that workers do
    not oversubscribe the cores; with ``devices`` (``cuda:0,cuda:1``) each worker
    slot owns one device and its children see only it (``CUDA_VISIBLE_DEVICES``).
    """

    def __init__(self, workers: int = 1, devices: list[str] | None = None, threads_per_worker: int | None = None,
                 wall_clock_factor: float = 3.0, wall_clock_slack: float = 60.0):
        self.devices = devices or []
        self.workers = len(self.devices) if self.devices else max(1, workers)
        cores = os.cpu_count() or 1
        self.threads = threads_per_worker or max(1, cores // self.workers)
        self.wall_clock_factor, self.wall_clock_slack = wall_clock_factor, wall_clock_slack
        self.stop_event = threading.Event()
        self._mp = _context()
        self._children: set = set()
        self._lock = threading.Lock()

    def wall_clock_limit(self, spec: TrialSpec) -> float:
        """Seconds of wall time after which a trial counts as hung (init and evals need room too)."""
        if spec.wall_clock_limit:
            return spec.wall_clock_limit
        return spec.budget_seconds * self.wall_clock_factor + self.wall_clock_slack

    def run_one(self, spec: TrialSpec, slot: int = 0, on_eval: OnEval | None = None) -> Finished:
        """Run one trial in a child and wait for it; never raises for the trial's own failure."""
        env: dict[str, str] = {}
        if self.devices:
            device = self.devices[slot % len(self.devices)]
            if device.startswith("cuda"):
                env["CUDA_VISIBLE_DEVICES"] = device.partition(":")[2] or "0"
                spec.device = "cuda"
        elif spec.device == "cpu" and spec.num_threads is None:
            spec.num_threads = self.threads
        parent_conn, child_conn = self._mp.Pipe(duplex=False)
        process = self._mp.Process(target=_child, args=(spec, child_conn, env), daemon=True)
        start = time.monotonic()
        process.start()
        child_conn.close()
        with self._lock:
            self._children.add(process)
        evals: list[dict] = []
        try:
            limit = self.wall_clock_limit(spec)
            while True:
                if self.stop_event.is_set():
                    process.kill()
                    return Finished(spec, TrialResult("failed", error="interrupted"), evals)
                if parent_conn.poll(_POLL):
                    try:
                        message = parent_conn.recv()
                    except (EOFError, OSError):
                        message = None
                    if message and message[0] == "eval":
                        evals.append(message[1])
                        if on_eval:
                            on_eval(spec, message[1])
                        continue
                    if message and message[0] == "done":
                        return Finished(spec, message[1], message[2])
                if not process.is_alive() and not parent_conn.poll():
                    code = process.exitcode
                    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                    result = TrialResult("failed", error=f"worker process died ({how}): crash or out of memory")
                    result.total_time = time.monotonic() - start
                    return Finished(spec, result, evals)
                if time.monotonic() - start > limit:
                    process.kill()
                    result = TrialResult("timeout", error=f"no result after {limit:.0f} s of wall time (hung?)")
                    result.total_time = time.monotonic() - start
                    return Finished(spec, result, evals)
        finally:
            process.join(timeout=5)
            parent_conn.close()
            with self._lock:
                self._children.discard(process)

    def run(self, specs: Iterable[TrialSpec], on_finished: OnFinished, on_eval: OnEval | None = None,
            on_start: Callable[[TrialSpec], None] | None = None) -> None:
        """Run every spec, ``workers`` at a time; ``on_finished`` is called in this thread, in
        completion order. Ctrl-C (KeyboardInterrupt) stops the children and re-raises after
        everything already finished has been handed to ``on_finished``."""
        pending = list(specs)
        free_slots = list(range(self.workers))
        running: dict[Future, int] = {}
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            try:
                while pending or running:
                    while pending and free_slots:
                        spec, slot = pending.pop(0), free_slots.pop(0)
                        if on_start:
                            on_start(spec)
                        running[pool.submit(self.run_one, spec, slot, on_eval)] = slot
                    done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        free_slots.append(running.pop(future))
                        on_finished(future.result())
            except KeyboardInterrupt:
                self.stop_event.set()
                for future in list(running):
                    finished = future.result()
                    if finished.result.error != "interrupted":
                        on_finished(finished)
                raise
