"""Run trials on this machine, each in its own child process.

Isolation is the point: a submission that segfaults, leaks global state (seeds,
thread counts, monkey-patches) or hangs cannot take the run down. Children come from
a ``forkserver`` that has imported torch and optbench once, so starting a trial
costs a fork (milliseconds), not a fresh interpreter and torch import (seconds),
and no child inherits OpenMP threads from a parent that already ran torch code.
The forkserver also imports ``torch._dynamo``, which torch otherwise imports the
first time an optimizer is built (~800 modules, 1.2 s per trial on a laptop CPU),
and the command's own main module, which each child would otherwise re-import.

The forkserver starts with ``OMP_WAIT_POLICY=PASSIVE`` (unless the user set it):
with OpenMP's default policy, a trial using 2 threads on a 2-core machine that
something else also uses ran 100-250x slower (24 instead of 6,600 steps in 3 s on the
digits MLP), because every parallel region waits for a descheduled thread; with
PASSIVE waiting it runs at full speed, loaded or not. It also starts with this process's
import path, never the working directory's (:mod:`optbench.executors.startup`).

``workers`` trials run at once, each a child process watched by a thread of the
parent; results come back to the parent, which alone writes the results folder.

Failure handling, in one place:

* a child that dies (``kill -9``, the OOM killer, a segfault) is noticed at once
  (its end of the pipe closes); the trial is retried once (from its checkpoint when
  it has one) and, if it dies again, handed back as ``failed`` with the reason;
* a child that sends nothing for longer than its wall-clock limit is killed: ``timeout``;
* Ctrl-C (``KeyboardInterrupt`` in the parent) kills the running children, hands
  back everything that had finished and re-raises; children sit in their own
  process group, so the terminal's SIGINT reaches only the parent;
* children die with the parent: each asks the kernel (Linux ``PR_SET_PDEATHSIG``)
  to be killed when its parent, the forkserver, goes, and the forkserver exits when
  the command does, so a ``kill -9`` of the command leaves no orphan that would go on
  writing checkpoints.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Callable, Iterable

from optbench.executors import startup
from optbench.executors.base import available_cores, die_with_parent, settle
from optbench.spec import (
    Clock,
    FinishedTrial,
    OnEval,
    OnFinished,
    TrialResult,
    TrialRuntime,
    TrialSpec,
    TrialStatus,
)

#: How often (seconds) a watching thread checks its child for messages, death or a hang.
_POLL = 0.05
#: Modules the forkserver imports once, so that no trial pays for them.
# "optbench.cli": on Python 3.11 the "__main__" preload is a no-op, so each child would otherwise
# re-import the console script (typer, rich: ~0.1 s a trial).
PRELOAD = ["__main__", "torch", "torch._dynamo", "optbench.trial.loop", "optbench.workloads.parts", "optbench.cli"]


def _child(spec: TrialSpec, runtime: TrialRuntime, conn, user_env: dict) -> None:  # pragma: no cover - in the child
    """Child process body: run the trial (or launch its ranks), stream eval rows, send the outcome, exit."""
    import signal

    conn.send(("started",))  # it could import optbench: a death from now on is the trial's
    if not die_with_parent():
        os._exit(1)
    os.setpgrp()  # Ctrl-C in the terminal goes to the parent only; it decides what stops
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    startup.apply_environment(user_env)  # what the forkserver's start changed (its import path)
    os.environ.update(runtime.env)

    def relay(row: dict) -> None:
        conn.send(("eval", row))

    try:
        if spec.nproc_per_trial > 1:
            from optbench.executors.ddp import launch

            outcome = launch(spec, runtime, on_eval=relay)  # N processes, each running the loop as a rank
        else:
            from optbench.trial import run_trial

            outcome = run_trial(spec, runtime, on_eval=relay)
    except BaseException as exc:  # noqa: BLE001 - sys.exit or KeyboardInterrupt raised by the submission's code
        # (run_trial records every Exception; SIGINT is ignored here, so this one came from the code itself)
        conn.send(("done", TrialResult(TrialStatus.FAILED, error=f"the submission's code raised "
                                                                 f"{type(exc).__name__}({exc})"), [], {}))
        conn.close()
        return
    conn.send(("done", outcome.result, outcome.evals, outcome.weights))
    conn.close()


def _context() -> mp.context.BaseContext:
    try:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        return ctx
    except ValueError:  # platforms without forkserver
        return mp.get_context("spawn")


class LocalExecutor:
    """A pool of ``workers`` child processes, one trial each at a time.

    On CPU each child gets ``threads_per_worker`` torch threads (default: the cores
    divided by the workers) so that workers do not oversubscribe the cores; with
    ``devices`` (``cuda:0,cuda:1``) each worker slot owns one device and its children
    see only it (``CUDA_VISIBLE_DEVICES``). A trial whose worker dies is run again
    ``retries`` times at most.
    """

    def __init__(self, workers: int = 1, devices: list[str] | None = None, threads_per_worker: int | None = None,
                 wall_clock_factor: float = 3.0, wall_clock_slack: float = 60.0, retries: int = 1):
        self.devices = devices or []
        self.workers = len(self.devices) if self.devices else max(1, workers)
        self.threads = threads_per_worker or max(1, available_cores() // self.workers)
        self.wall_clock_factor, self.wall_clock_slack = wall_clock_factor, wall_clock_slack
        self.retries = retries
        self.stop_event = threading.Event()
        self._mp = _context()
        self._children: set = set()
        self._lock = threading.Lock()
        self._start_problem = startup.StartProblem(PRELOAD)  # why workers cannot start, looked for once

    def start(self) -> None:
        """Start the forkserver now (it imports torch: seconds), so it warms up while the caller works."""
        if self._mp.get_start_method() == "forkserver":
            from multiprocessing import forkserver

            with startup.forkserver_environment():  # this process's imports, not the working directory's
                forkserver.ensure_running()

    def runtime_for(self, spec: TrialSpec, slot: int = 0, checkpoint_dir: str | None = None) -> TrialRuntime:
        """How this executor runs ``spec`` in worker slot ``slot``: threads, device, hang limit."""
        device, env = None, {}
        if self.devices:
            device = self.devices[slot % len(self.devices)]
            if device.startswith("cuda"):  # the child sees only its GPU, as "cuda"
                env["CUDA_VISIBLE_DEVICES"] = device.partition(":")[2] or "0"
        # init and evals need room; on the cpu and steps clocks a busy machine may stretch wall time a lot
        factor = self.wall_clock_factor if spec.clock == Clock.WALL else max(self.wall_clock_factor, 10.0)
        limit = spec.budget_seconds * factor + self.wall_clock_slack
        return TrialRuntime(device=device, num_threads=self.threads, wall_clock_limit=limit,
                            checkpoint_dir=checkpoint_dir, env=env)

    def run_one(self, spec: TrialSpec, runtime: TrialRuntime | None = None, on_eval: OnEval | None = None) -> FinishedTrial:
        """Run one trial in a child and wait for it; never raises for the trial's own failure."""
        runtime = runtime or self.runtime_for(spec)
        self.start()
        parent_conn, child_conn = self._mp.Pipe(duplex=False)
        process = self._mp.Process(target=_child, args=(spec, runtime, child_conn, startup.worker_environment()),
                                   daemon=True)
        start = time.monotonic()

        def finished(result: TrialResult, evals: list[dict], weights: dict | None = None, **flags: bool) -> FinishedTrial:
            return FinishedTrial(spec, result, evals, runtime=runtime, weights=weights or {}, **flags)

        try:
            process.start()
        except Exception as exc:  # e.g. hyperparameters that cannot be pickled: this trial's problem only
            parent_conn.close()
            return finished(TrialResult(TrialStatus.FAILED, error=f"could not start its worker process: {exc}"), [])
        finally:
            child_conn.close()
        with self._lock:
            self._children.add(process)
        evals: list[dict] = []
        started = False
        try:
            limit = runtime.wall_clock_limit or float("inf")
            while True:
                if self.stop_event.is_set():
                    process.kill()
                    return finished(TrialResult(TrialStatus.FAILED, error="interrupted"), evals, interrupted=True)
                if parent_conn.poll(_POLL):
                    try:
                        message = parent_conn.recv()
                    except (EOFError, OSError):  # the child's end closed without a result: it died
                        return self._died(finished, process, evals, start, started)
                    if message[0] == "started":
                        started = True
                        continue
                    if message[0] == "eval":
                        evals.append(message[1])
                        if on_eval:
                            on_eval(spec, message[1])
                        continue
                    return finished(message[1], message[2], message[3] if len(message) > 3 else None)
                if not process.is_alive():
                    return self._died(finished, process, evals, start, started)
                if time.monotonic() - start > limit:
                    process.kill()
                    result = TrialResult(TrialStatus.TIMEOUT, error=f"no result after {limit:.0f} s of wall time (hung?)")
                    result.total_time = time.monotonic() - start
                    return finished(result, evals)
        finally:
            process.join(timeout=5)
            parent_conn.close()
            with self._lock:
                self._children.discard(process)

    def _died(self, finished: Callable[..., FinishedTrial], process, evals: list[dict], start: float,
              started: bool = True) -> FinishedTrial:
        process.join(timeout=5)
        if self.stop_event.is_set():
            return finished(TrialResult(TrialStatus.FAILED, error="interrupted"), evals, interrupted=True)
        code = process.exitcode
        how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        why = None if started else self._start_problem.find()
        if why:  # the same for every trial: not worth another attempt
            return finished(TrialResult(TrialStatus.FAILED, error=f"worker process could not start ({how}): {why}"),
                            evals)
        result = TrialResult(TrialStatus.FAILED, error=f"worker process died ({how}): crash or out of memory")
        result.total_time = time.monotonic() - start
        return finished(result, evals, crashed=True)

    def run(self, specs: Iterable[TrialSpec], on_finished: OnFinished, on_eval: OnEval | None = None,
            on_start: Callable[[TrialSpec], None] | None = None,
            on_retry: Callable[[FinishedTrial], None] | None = None,
            checkpoint_root: str | None = None) -> None:
        """Run every spec, ``workers`` at a time; ``on_finished`` is called in this thread, in
        completion order. A trial whose worker died is queued again (``on_retry``) up to
        ``retries`` times, then handed to ``on_finished`` as failed. Ctrl-C (KeyboardInterrupt)
        kills the children and re-raises after everything already finished has been handed
        to ``on_finished``; the interrupted trials are not."""
        self.start()
        pending = [(spec, 1) for spec in specs]
        free_slots = list(range(self.workers))
        running: dict[Future, tuple[int, int]] = {}
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            try:
                while pending or running:
                    while pending and free_slots:
                        (spec, attempt), slot = pending.pop(0), free_slots.pop(0)
                        if on_start:
                            on_start(spec)
                        folder = str(Path(checkpoint_root) / spec.folder) if checkpoint_root else None
                        runtime = self.runtime_for(spec, slot, folder)
                        running[pool.submit(self.run_one, spec, runtime, on_eval)] = (slot, attempt)
                    done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        slot, attempt = running.pop(future)
                        free_slots.append(slot)
                        settle(future.result(), attempt, self.retries,
                               lambda spec, next_attempt: pending.insert(0, (spec, next_attempt)),
                               on_finished, on_retry)
            except KeyboardInterrupt:
                self.stop_event.set()
                for future in list(running):
                    finished = future.result()
                    if not finished.interrupted and not finished.crashed:
                        on_finished(finished)
                raise
