"""Run trials on a Ray cluster (``optbench run --executor ray``): each trial one Ray task.

It implements :class:`optbench.spec.Executor`, like the local executor, so
:func:`optbench.experiment.run_experiment`, progress and ``--resume`` work unchanged. See
docs/cluster.md for clusters, Slurm and KubeRay.

**What runs where.** The driver (this process) keeps the plan, submits one task per trial
(``num_cpus=cpus_per_trial``, ``num_gpus=gpus_per_trial``), at most ``workers`` at a time
(default: as many as the cluster's CPUs/GPUs hold when the run starts), collects each
``(TrialResult, evals)`` and hands it to ``on_finished``, which writes the results folder:
workers never touch it and need not share a filesystem with the driver.

**Isolation.** A task does not train in the Ray worker itself: the worker keeps a
forkserver (torch imported once) and runs each trial in a fresh child process, exactly
as the local executor does (:meth:`LocalExecutor.run_one`), so leaked state, a segfault
or a hang (the wall-clock limit) stay in the child, and a trial costs a fork instead of
a new interpreter and a torch import. A trial with ``nproc_per_trial > 1`` starts its
ranks from that child (:mod:`optbench.executors.ddp`).

**Code travels with the run** (Ray's runtime environment, per task): the plan's submission
folders and the user modules workloads name go in a ``working_dir`` built by
:mod:`optbench.executors.ray_code`; optbench itself goes through ``py_modules`` (the driver's
copy, so workers run the same code); its dependencies (torch ...) must be installed on the
workers. Datasets do not travel: they are generated on the worker, or read from
``--data-dir``, which must exist at that path on every worker.

**Failures.** A Python exception inside a trial is already a ``failed`` result. A child
process that dies is retried like the local executor does. A task lost with its worker or
node (``WorkerCrashedError``, ``NodeDiedError``, out of memory ...) is submitted again, at
most ``max_retries`` times, then recorded as ``failed``. Ctrl-C cancels the tasks in flight
(``ray.cancel(force=True)``) and hands back everything that had finished.

**Temporary files.** A Ray started by this executor (no ``address``) keeps its session
folder in a temporary folder that this run creates and deletes on :meth:`close`
(``_temp_dir``, ``RAY_TMPDIR``), never ``/tmp/ray``; its authentication token is kept in
this process's environment (``RAY_AUTH_TOKEN``) instead of ``~/.ray``; usage statistics are
off. Connecting to a cluster (``address``) leaves that cluster's files where they are.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from optbench.errors import OptbenchError
from optbench.executors.base import available_cores, settle
from optbench.executors.ray_code import EXCLUDE, Shipment, stage_code
from optbench.spec import FinishedTrial, OnEval, OnFinished, TrialResult, TrialRuntime, TrialSpec, TrialStatus

INSTALL_HINT = "--executor ray needs Ray, which is not installed here: pip install 'optbench[ray]'"


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise OptbenchError(INSTALL_HINT) from None
    return ray


# ------------------------------------------------------------------------------ in the Ray worker


def _trial_task(spec: TrialSpec, runtime: TrialRuntime, python_paths: list[str]) -> tuple[TrialResult, list[dict], bool]:
    """The Ray task (runs in a Ray worker, cwd = the shipped working_dir): one trial in a fresh child."""
    from optbench.executors.local import PRELOAD, LocalExecutor

    for path in reversed(python_paths):  # before the forkserver starts: its children inherit sys.path
        path = os.path.abspath(path)
        if path not in sys.path:
            sys.path.insert(0, path)
    spec = dataclasses.replace(spec, submission_path=os.path.abspath(spec.submission_path))
    gpus = os.environ.get("CUDA_VISIBLE_DEVICES") if spec.device.startswith("cuda") else None
    executor = LocalExecutor(workers=1, devices=[f"cuda:{gpus}"] if gpus else None, threads_per_worker=runtime.num_threads)
    # Each child runs this process's main script again (multiprocessing's spawn.prepare; the forkserver's
    # "__main__" preload does not take on Python 3.11): here Ray's worker script, which imports ray (0.2-0.4 s
    # per trial). With ray preloaded into the forkserver, that is only the script's argument parser.
    executor._mp.set_forkserver_preload([*PRELOAD, "ray"])
    placed = executor.runtime_for(spec, 0, runtime.checkpoint_dir)
    finished = executor.run_one(spec, dataclasses.replace(placed, device=placed.device or runtime.device))
    return finished.result, finished.evals, finished.crashed


# ------------------------------------------------------------------------------------ the driver


def _short_tmp() -> str | None:
    """$TMPDIR, or /tmp when $TMPDIR is too long for the Unix sockets of Ray's session (108 bytes)."""
    tmp = tempfile.gettempdir()
    if len(tmp) > 40 and os.access("/tmp", os.W_OK):
        return "/tmp"
    return None


def _reload_auth() -> None:
    """Make an imported Ray read RAY_AUTH_MODE/RAY_AUTH_TOKEN again (Ray >= 2.5x caches them; older: no-op)."""
    try:
        from ray._raylet import AuthenticationTokenLoader, Config
    except ImportError:
        return
    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


def _lost_errors(ray: Any) -> tuple[type, ...]:
    """Ray's exceptions for a task that died with its worker or node (worth another attempt)."""
    names = ("WorkerCrashedError", "NodeDiedError", "ObjectLostError", "LocalRayletDiedError", "RaySystemError",
             "OutOfMemoryError")
    return tuple(getattr(ray.exceptions, n) for n in names if hasattr(ray.exceptions, n))


class RayExecutor:
    """Trials as Ray tasks; see the module docstring.

    ``address``: None starts a local Ray (``num_cpus``: this process's cores by default);
    ``auto`` or ``ray://head:10001`` connects to a running cluster. ``workers``: trials in
    flight at once (default: what the cluster's resources hold). ``threads_per_trial``:
    torch threads of each trial (default ``cpus_per_trial``).
    """

    def __init__(self, address: str | None = None, workers: int | None = None, cpus_per_trial: float = 1,
                 gpus_per_trial: float = 0, threads_per_trial: int | None = None, max_retries: int = 2,
                 num_cpus: int | None = None, ship_optbench: bool = True, keep_alive: bool = False):
        self.ray = import_ray()
        if cpus_per_trial <= 0 or gpus_per_trial < 0:
            raise OptbenchError("--cpus-per-trial must be > 0 and --gpus-per-trial >= 0")
        self.address, self.requested_workers = address, workers
        self.cpus_per_trial, self.gpus_per_trial = cpus_per_trial, gpus_per_trial
        self.threads = threads_per_trial or max(1, int(cpus_per_trial))
        self.max_retries, self.num_cpus = max_retries, num_cpus
        self.ship_optbench, self.keep_alive = ship_optbench, keep_alive
        self.workers = workers or 1
        self._tmp: Path | None = None
        self._shipment: Shipment | None = None
        self._owns_ray = False
        self._saved_env: dict[str, str | None] = {}

    # -- the session ------------------------------------------------------------------------------
    @property
    def local(self) -> bool:
        """True when this executor started its own Ray on this machine."""
        return self._owns_ray and self.address is None

    def start(self) -> None:
        """Get ready: the temporary folder, and ``workers`` when it can be known without Ray.

        Ray itself starts (or is connected to) in :meth:`run`: the code shipped to the
        workers is part of the job's runtime environment, which is set when connecting
        (Ray accepts local folders only there), and depends on the plan."""
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="optbench-ray-", dir=_short_tmp()))
        if self.requested_workers is None and self.address is None and not self.ray.is_initialized():
            self.workers = self._fits(self.num_cpus or available_cores(), None)

    def connect(self, runtime_env: dict[str, Any] | None) -> None:
        """Start a local Ray, or connect to ``address``, with ``runtime_env`` for the whole job."""
        ray = self.ray
        self.start()
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "logging_level": logging.WARNING, "runtime_env": runtime_env}
        main_thread = threading.current_thread() is threading.main_thread()
        sigterm = signal.getsignal(signal.SIGTERM) if main_thread else None
        try:
            if self.address is None:
                # the workers' TMPDIR too (forkserver sockets, torch's caches): all of it goes with close()
                self._set_env({"RAY_TMPDIR": str(self._tmp), "TMPDIR": str(self._tmp), "RAY_USAGE_STATS_ENABLED": "0"})
                if "RAY_AUTH_MODE" not in os.environ and "RAY_AUTH_TOKEN" not in os.environ:
                    import secrets  # a token for this session only, instead of one written to ~/.ray

                    self._set_env({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)})
                    _reload_auth()
                ray.init(num_cpus=self.num_cpus or available_cores(), _temp_dir=str(self._tmp / "ray"), **kwargs)
            else:
                ray.init(address=self.address, **kwargs)
        except Exception as exc:
            self.close()
            where = "start a local Ray" if self.address is None else f"connect to Ray at {self.address}"
            raise OptbenchError(f"--executor ray: could not {where}: {type(exc).__name__}: "
                                f"{_first_line(exc)}") from None
        finally:
            if sigterm is not None:  # ray.init makes SIGTERM exit at once; `optbench run` stops like Ctrl-C
                signal.signal(signal.SIGTERM, sigterm)
        self._owns_ray = True
        if self.requested_workers is None:
            total = ray.cluster_resources()
            self.workers = self._fits(total.get("CPU", 1), total.get("GPU", 0))

    def _fits(self, cpus: float, gpus: float | None) -> int:
        """Trials that ``cpus`` (and ``gpus``) hold at once with the requested resources (at least 1)."""
        fits = int(cpus // self.cpus_per_trial)
        if self.gpus_per_trial and gpus is not None:
            fits = min(fits, int(gpus // self.gpus_per_trial))
        return max(1, fits)

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if "RAY_AUTH_TOKEN" in self._saved_env:
            _reload_auth()
        self._saved_env.clear()

    def close(self) -> None:
        """Shut down the Ray this executor started (or disconnect) and delete its temporary folder."""
        if self._owns_ray:
            self.ray.shutdown()
            self._owns_ray, self._shipment = False, None
        self._restore_env()
        if self._tmp is not None:
            for _ in range(3):  # Ray's processes may still be closing their logs
                shutil.rmtree(self._tmp, ignore_errors=True)
                if not self._tmp.exists():
                    break
                time.sleep(0.5)
            self._tmp = None

    # -- running ----------------------------------------------------------------------------------
    def worker_spec(self, spec: TrialSpec, shipment: Shipment | None) -> TrialSpec:
        """The spec as a worker sees it: its submission relative to the shipped working_dir."""
        if shipment is None:
            return spec
        return dataclasses.replace(spec, submission_path=shipment.submissions[spec.submission_path])

    def worker_runtime(self, spec: TrialSpec, checkpoint_root: str | None) -> TrialRuntime:
        """How a worker runs the trial: threads, a GPU when it reserves one, checkpoints only on this machine."""
        local_checkpoints = checkpoint_root if self.local else None  # a remote worker cannot reach the folder
        return TrialRuntime(device="cuda" if self.gpus_per_trial else None, num_threads=self.threads,
                            checkpoint_dir=str(Path(local_checkpoints) / spec.folder) if local_checkpoints else None)

    def run(self, specs: Iterable[TrialSpec], on_finished: OnFinished, on_eval: OnEval | None = None,
            on_start: Callable[[TrialSpec], None] | None = None,
            on_retry: Callable[[FinishedTrial], None] | None = None,
            checkpoint_root: str | None = None) -> None:
        """Run every spec as a Ray task, ``workers`` at a time; like :meth:`LocalExecutor.run`
        (``on_eval`` is not called: eval rows come back with each trial's result). Ray is
        started or connected to here, and shut down (or disconnected) at the end unless
        ``keep_alive``."""
        specs = list(specs)
        self.start()
        try:
            shipment = self._ship(specs)
            self._run(self.ray, specs, shipment, on_finished, on_start, on_retry, checkpoint_root)
        finally:
            if not self.keep_alive:
                self.close()

    def _ship(self, specs: list[TrialSpec]) -> Shipment | None:
        """Stage the plan's code and connect with it; None when this process was already connected
        to Ray by someone else (nothing can be shipped then: workers must see the driver's paths)."""
        if self.ray.is_initialized() and not self._owns_ray:
            return None
        if self._shipment is None:
            shipment = stage_code(specs, self._tmp / "code")
            runtime_env: dict[str, Any] = {"working_dir": str(shipment.working_dir), "excludes": EXCLUDE}
            if self.ship_optbench:
                runtime_env["py_modules"] = [str(Path(__file__).resolve().parents[1])]
            self.connect(runtime_env)
            self._shipment = shipment
        missing = {s.submission_path for s in specs} - set(self._shipment.submissions)
        if missing:  # keep_alive: a later run with other submissions than the job was started with
            raise OptbenchError(f"this Ray session was started without the submission(s) {sorted(missing)}")
        return self._shipment

    def _run(self, ray: Any, specs: list[TrialSpec], shipment: Shipment | None, on_finished: OnFinished,
             on_start: Callable[[TrialSpec], None] | None, on_retry: Callable[[FinishedTrial], None] | None,
             checkpoint_root: str | None) -> None:
        task = ray.remote(_trial_task).options(num_cpus=self.cpus_per_trial, num_gpus=self.gpus_per_trial,
                                               max_retries=0)
        paths = shipment.python_paths if shipment else []
        lost = _lost_errors(ray)
        pending = [(spec, 1) for spec in specs]
        running: dict[Any, tuple[TrialSpec, int, float]] = {}
        try:
            while pending or running:
                while pending and len(running) < self.workers:
                    spec, attempt = pending.pop(0)
                    if on_start and attempt == 1:
                        on_start(spec)
                    ref = task.remote(self.worker_spec(spec, shipment), self.worker_runtime(spec, checkpoint_root), paths)
                    running[ref] = (spec, attempt, time.monotonic())
                done, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
                for ref in done:
                    spec, attempt, start = running.pop(ref)
                    settle(self._collect(ray, ref, spec, start, lost), attempt, self.max_retries,
                           lambda spec, next_attempt: pending.insert(0, (spec, next_attempt)),
                           on_finished, on_retry)
        except KeyboardInterrupt:
            for ref in running:
                ray.cancel(ref, force=True)
            done, _ = ray.wait(list(running), num_returns=len(running), timeout=2.0) if running else ([], [])
            for ref in done:  # only trials that really finished: a terminal's Ctrl-C reaches Ray's workers too
                spec, attempt, _ = running[ref]
                try:
                    result, evals, crashed = ray.get(ref, timeout=1.0)
                except Exception:
                    continue
                if not crashed:
                    on_finished(FinishedTrial(spec, result, evals, attempts=attempt))
            raise

    def _collect(self, ray: Any, ref: Any, spec: TrialSpec, start: float, lost: tuple[type, ...]) -> FinishedTrial:
        """The task's outcome as :class:`FinishedTrial` (for the driver's own spec)."""
        try:
            result, evals, crashed = ray.get(ref)
            return FinishedTrial(spec, result, evals, crashed=crashed)
        except ray.exceptions.TaskCancelledError:
            return FinishedTrial(spec, TrialResult(TrialStatus.FAILED, error="interrupted"), [], interrupted=True)
        except lost as exc:
            result = TrialResult(TrialStatus.FAILED, error=f"Ray task lost ({type(exc).__name__}: {_first_line(exc)})")
            result.total_time = time.monotonic() - start
            return FinishedTrial(spec, result, [], crashed=True)
        except Exception as exc:  # the task itself raised outside the trial: set-up on the worker
            cause = getattr(exc, "cause", None) or exc
            hint = ""
            if isinstance(cause, ImportError) and "optbench" in str(cause):
                hint = " (is optbench installed on the Ray workers? see docs/cluster.md)"
            result = TrialResult(TrialStatus.FAILED, error=f"Ray task failed: {type(cause).__name__}: "
                                                           f"{_first_line(cause)}{hint}")
            result.total_time = time.monotonic() - start
            return FinishedTrial(spec, result, [])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
