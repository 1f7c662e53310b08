"""Data-parallel trials: ONE trial on N processes with ``torch.distributed`` (``--nproc-per-trial N``).

**Launch.** An executor hands a spec with ``nproc_per_trial > 1`` to :func:`launch`, which
starts N fresh interpreters the way ``torchrun --standalone`` does
(``python -c`` calling :func:`_rank_main` with this process's ``sys.path``, whatever the
working directory holds; ``MASTER_ADDR=127.0.0.1``, a free
``MASTER_PORT``, ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``), on this
machine, whichever executor runs the trial (a local worker or a Ray task). Each rank joins
the process group (gloo on CPU, NCCL on CUDA, rank ``r`` on ``cuda:r``) with
:func:`optbench.trial.ranks.join`, runs the ordinary trial loop, whose hooks now act as
that rank (see :mod:`optbench.trial.ranks` for what differs), and writes its outcome to
``FOLDER/rank_<r>.pkl``. Rank 0 also appends each eval row to ``FOLDER/evals.jsonl``, which
the launcher relays to ``on_eval`` as it goes.

**Teardown, and trusting the result.** With torch 2.13 a rank sometimes aborts after its
work is done ("terminate called without an active exception", exit -6). Every rank
therefore writes its outcome first, then calls ``destroy_process_group()`` and
``os._exit(0)``; and the launcher trusts rank 0's outcome file once it exists, whatever
the exit codes say afterwards. A rank that exits before rank 0 has written its outcome
(a crash, an error only that rank saw) gets rank 0 a grace period, then everything is
killed and the trial is ``failed`` with that rank's error or exit code and log tail.
Mid-trial checkpoints are off in data-parallel trials.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

from optbench.executors.base import available_cores, die_with_parent
from optbench.executors.startup import import_path
from optbench.spec import TrialOutcome, TrialResult, TrialRuntime, TrialSpec, TrialStatus

#: Seconds rank 0 may take to write its outcome after another rank has exited.
GRACE = 30.0
#: Seconds the other ranks get to exit once rank 0's outcome is in.
EXIT_WAIT = 10.0
#: Test hook: ``abort`` makes every rank abort (exit -6) right after writing its outcome,
#: as torch 2.13's teardown sometimes does; the trial must still count.
FAULT_ENV = "OPTBENCH_DDP_FAULT"


# ------------------------------------------------------------------------------------------ launcher


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _load(path: Path) -> TrialOutcome | None:
    try:
        return pickle.loads(path.read_bytes())
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
        return None


def launch(spec: TrialSpec, runtime: TrialRuntime | None = None,
           on_eval: Callable[[dict], None] | None = None) -> TrialOutcome:
    """Run ``spec`` on ``spec.nproc_per_trial`` local processes; rank 0's outcome. Never raises.

    A rank is killed when its launcher dies (a timeout kill, Ctrl-C, a lost Ray worker)."""
    runtime = runtime or TrialRuntime()
    start = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="optbench-ddp-"))
    procs: list[subprocess.Popen] = []
    try:
        outcome = _launch(spec, runtime, folder, procs, on_eval)
    except Exception as exc:  # the launcher's own trouble (no free port, cannot start python ...)
        outcome = TrialOutcome(TrialResult(TrialStatus.FAILED, error=f"data-parallel launch failed: {type(exc).__name__}: "
                                                          f"{exc}", traceback=traceback.format_exc()))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    wall = time.perf_counter() - start
    result = outcome.result
    result.init_time += max(0.0, wall - result.total_time)  # starting the ranks and the process group
    result.total_time = wall
    return outcome


def _launch(spec: TrialSpec, runtime: TrialRuntime, folder: Path, procs: list,
            on_eval: Callable[[dict], None] | None) -> TrialOutcome:
    world = spec.nproc_per_trial
    threads = max(1, (runtime.num_threads or available_cores()) // world)
    rank_runtime = dataclasses.replace(runtime, checkpoint_dir=None, num_threads=threads)
    (folder / "spec.pkl").write_bytes(pickle.dumps((spec, rank_runtime)))
    paths = import_path()  # what this process imports, ranks import too (and their own children)
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()), "WORLD_SIZE": str(world),
           "LOCAL_WORLD_SIZE": str(world), "OMP_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join(paths + [os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see executors/local.py: a busy machine otherwise crawls
    for rank in range(world):
        log = open(folder / f"rank_{rank}.log", "wb")  # noqa: SIM115 - closed when the rank is started
        try:
            procs.append(subprocess.Popen(  # -c with sys.path set first: the working directory's `optbench/` never wins
                [sys.executable, "-c", _RANK_CODE.format(paths=paths), str(folder)], cwd=os.getcwd(),
                env={**env, "RANK": str(rank), "LOCAL_RANK": str(rank)}, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent))
        finally:
            log.close()

    relayed, first_exit = 0, None
    result_file = folder / "rank_0.pkl"
    while True:
        relayed = _relay_evals(folder / "evals.jsonl", relayed, on_eval)
        if result_file.is_file():  # rank 0 is done: trust it, whatever the exit codes say later
            deadline = time.monotonic() + EXIT_WAIT
            while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
                time.sleep(0.02)
            _relay_evals(folder / "evals.jsonl", relayed, on_eval)
            outcome = _load(result_file)
            if outcome is not None:
                return _with_other_errors(outcome, folder, world)
            return TrialOutcome(TrialResult(TrialStatus.FAILED, error="rank 0's outcome could not be read"))
        codes = [p.poll() for p in procs]
        if codes[0] is not None:
            return _failure(folder, world, codes, "rank 0 exited without an outcome")
        if first_exit is None and any(c is not None for c in codes):
            first_exit = time.monotonic()
        if first_exit is not None and time.monotonic() - first_exit > GRACE:
            for p in procs:
                p.kill()
            return _failure(folder, world, [p.wait() for p in procs],
                            f"a rank exited and rank 0 sent no outcome within {GRACE:.0f} s")
        time.sleep(0.02)


#: What a rank runs: ``python -c`` (and ``-m``) would look in the working directory first.
_RANK_CODE = ("import sys; sys.path[:] = {paths!r}; "
              "from optbench.executors.ddp import _rank_main; _rank_main(sys.argv[1])")


def _relay_evals(path: Path, offset: int, on_eval: Callable[[dict], None] | None) -> int:
    """Pass rank 0's new eval rows to ``on_eval``; returns the file offset read up to."""
    if on_eval is None or not path.is_file():
        return offset
    with path.open("rb") as fh:
        fh.seek(offset)
        data = fh.read()
    complete = data[:data.rfind(b"\n") + 1]  # a row counts once its newline is written
    for line in complete.splitlines():
        on_eval(json.loads(line))
    return offset + len(complete)


def _with_other_errors(outcome: TrialOutcome, folder: Path, world: int) -> TrialOutcome:
    """A failed rank 0 often failed because another rank did first: add the others' errors."""
    if outcome.result.status != "failed":
        return outcome
    others = []
    for rank in range(1, world):
        other = _load(folder / f"rank_{rank}.pkl")
        if other is not None and other.result.error and other.result.error != outcome.result.error:
            others.append(f"rank {rank}: {other.result.error}")
    if others:  # theirs first: rank 0's is then mostly "connection reset by peer"
        outcome.result.error = f"{'; '.join(others)}; rank 0: {outcome.result.error}"
    return outcome


def _failure(folder: Path, world: int, codes: list[int | None], what: str) -> TrialOutcome:
    details, logs = [], []
    for rank, code in enumerate(codes):
        other = _load(folder / f"rank_{rank}.pkl")
        if other is not None and other.result.status == TrialStatus.FAILED:
            details.append(f"rank {rank}: {other.result.error}")
        elif code not in (None, 0):
            details.append(f"rank {rank} exit code {code}")
        logs.append(f"--- rank {rank} (exit code {code}) ---\n{_tail(folder / f'rank_{rank}.log')}")
    error = f"data-parallel trial: {what}" + (f" ({'; '.join(details)})" if details else "")
    return TrialOutcome(TrialResult(TrialStatus.FAILED, error=error, traceback="\n".join(logs)))


# ------------------------------------------------------------------------------------------ a rank


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # the launcher never reads half a file


def _rank_main(folder: Path | str) -> None:  # pragma: no cover - runs in the rank processes
    folder = Path(folder)
    rank, world, local_rank = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the launcher decides what stops
    import torch
    import torch.distributed as dist

    from optbench.trial import ranks, run_trial

    spec, runtime = pickle.loads((folder / "spec.pkl").read_bytes())
    try:
        device = torch.device(runtime.torch_device(spec))
        if device.type == "cuda":
            if torch.cuda.device_count() < world:
                raise RuntimeError(f"--nproc-per-trial {world} needs {world} visible GPUs; "
                                   f"{torch.cuda.device_count()} visible")
            device = torch.device(f"cuda:{local_rank}")
            torch.cuda.set_device(local_rank)
            runtime = dataclasses.replace(runtime, device=str(device), env={})
        ranks.join(rank, world, device)
    except Exception as exc:
        outcome = TrialOutcome(TrialResult(TrialStatus.FAILED, error=f"rank {rank}: could not join the process "
                                                                      f"group: {type(exc).__name__}: {exc}"))
    else:
        evals = open(folder / "evals.jsonl", "a") if rank == 0 else None  # noqa: SIM115

        def relay(row: dict) -> None:
            evals.write(json.dumps(row) + "\n")
            evals.flush()

        outcome = run_trial(spec, runtime, on_eval=relay if rank == 0 else None)
        if evals is not None:
            evals.close()
    _write(folder / f"rank_{rank}.pkl", pickle.dumps(outcome))
    sys.stdout.flush()
    sys.stderr.flush()
    if os.environ.get(FAULT_ENV) == "abort":
        os.abort()
    try:
        if dist.is_initialized():
            dist.destroy_process_group()
    finally:
        os._exit(0)  # never let interpreter teardown (and its occasional abort) speak for the trial

