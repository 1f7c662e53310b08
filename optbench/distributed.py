"""Data-parallel trials: ONE trial on N processes with ``torch.distributed`` (``--nproc-per-trial N``).

**Launch.** :func:`optbench.trial.run_trial` hands a spec with ``nproc_per_trial > 1`` to
:func:`launch`, which starts N fresh interpreters the way ``torchrun --standalone`` does
(``python -m optbench.distributed FOLDER`` with ``MASTER_ADDR=127.0.0.1``, a free
``MASTER_PORT``, ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``), on this
machine, whichever executor runs the trial (a local worker or a Ray task). Each rank joins
the process group (gloo on CPU, NCCL on CUDA, rank ``r`` on ``cuda:r``), runs the ordinary
trial loop with :func:`current` returning its :class:`Ranks`, and writes its outcome to
``FOLDER/rank_<r>.pkl``. Rank 0 also appends each eval row to ``FOLDER/evals.jsonl``, which
the launcher relays to ``on_eval`` as it goes.

**What a rank does differently** (the hooks trial.py calls; :data:`SINGLE` is the one-process
no-op version, so the loop reads the same either way):

* batches: every rank draws the same global permutation from the trial's generator and
  takes its contiguous ``1/N`` of each global batch (``TensorData.train_batches(shard=...)``;
  other datasets are sliced after drawing), so 1 and N processes see the same global
  batches; the global batch size must divide by N. ``ctx.batch_size`` stays the global one;
* the model is wrapped in ``DistributedDataParallel``: gradients are averaged, so a step
  equals the one-process step on the global batch, up to float summation order;
* the submission clock: after each timed block the elapsed time is all-reduced with MAX,
  so the slowest rank counts (as in AlgoPerf) and every rank holds the same clock, hence
  takes the same budget and eval decisions;
* divergence: the training loss is averaged over ranks before the finiteness check, so
  all ranks stop together;
* evals: rank 0 evaluates the unwrapped model on the full eval sets and broadcasts the
  metrics (the parameters are the same on every rank, so this is the one-process eval
  exactly; the other ranks wait, and eval time is not submission time anyway).

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
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    import torch

    from optbench.spec import TrialSpec
    from optbench.trial import TrialOutcome

#: Seconds rank 0 may take to write its outcome after another rank has exited.
GRACE = 30.0
#: Seconds the other ranks get to exit once rank 0's outcome is in.
EXIT_WAIT = 10.0
#: Test hook: ``abort`` makes every rank abort (exit -6) right after writing its outcome,
#: as torch 2.13's teardown sometimes does; the trial must still count.
FAULT_ENV = "OPTBENCH_DDP_FAULT"


class Ranks:
    """What a trial loop needs to know about the other processes of its trial."""

    def __init__(self, rank: int = 0, world: int = 1):
        self.rank, self.world = rank, world

    # -- the hooks trial.py calls; on one process they change nothing -------------------------------
    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        return model

    def train_batches(self, data: Any, batch_size: int, generator: torch.Generator) -> Iterator:
        return data.train_batches(batch_size, generator)

    def clock_reduce(self) -> Callable[[float], float] | None:
        return None

    def loss_for_check(self, loss: torch.Tensor) -> torch.Tensor:
        return loss

    def evaluate(self, workload: Any, model: torch.nn.Module) -> dict[str, float]:
        return workload.evaluate(model)


SINGLE = Ranks()
_current: Ranks = SINGLE


def current() -> Ranks:
    """This process's ranks: :data:`SINGLE` unless it is a rank of a data-parallel trial."""
    return _current


class DistributedRanks(Ranks):
    """The hooks of one rank of a data-parallel trial (see the module docstring)."""

    def __init__(self, rank: int, world: int, device: torch.device):
        super().__init__(rank, world)
        self.device = device

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def train_batches(self, data: Any, batch_size: int, generator: torch.Generator) -> Iterator:
        import inspect

        from optbench.errors import OptbenchError

        if batch_size % self.world:
            raise OptbenchError(f"the global batch size {batch_size} does not divide by --nproc-per-trial "
                                f"{self.world}; choose a batch size that does")
        shard = (self.rank, self.world)
        if "shard" in inspect.signature(data.train_batches).parameters:
            return data.train_batches(batch_size, generator, shard=shard)
        return (_take_shard(batch, shard) for batch in data.train_batches(batch_size, generator))

    def _all_reduce(self, values: list[float], op: str) -> list[float]:
        import torch
        import torch.distributed as dist

        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor, op=getattr(dist.ReduceOp, op))
        return tensor.tolist()

    def clock_reduce(self) -> Callable[[float], float]:
        return lambda elapsed: self._all_reduce([elapsed], "MAX")[0]

    def loss_for_check(self, loss: torch.Tensor) -> torch.Tensor:
        import torch

        mean = self._all_reduce([float(loss.detach())], "SUM")[0] / self.world
        return torch.tensor(mean)

    def evaluate(self, workload: Any, model: torch.nn.Module) -> dict[str, float]:
        import torch.distributed as dist

        box = [workload.evaluate(getattr(model, "module", model)) if self.rank == 0 else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def _take_shard(batch: Any, shard: tuple[int, int]) -> Any:
    """Rank ``shard[0]``'s contiguous part of a global ``(inputs, targets)`` batch."""
    rank, world = shard

    def part(x: Any) -> Any:
        if isinstance(x, (tuple, list)):
            return type(x)(part(t) for t in x)
        return x.tensor_split(world)[rank]

    return part(batch)


# ------------------------------------------------------------------------------------------ launcher


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the rank, before exec
    """Linux: a rank is killed when its launcher dies (a timeout kill, Ctrl-C, a lost Ray worker)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


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


def launch(spec: TrialSpec, on_eval: Callable[[dict], None] | None = None) -> TrialOutcome:
    """Run ``spec`` on ``spec.nproc_per_trial`` local processes; rank 0's outcome. Never raises."""
    from optbench.spec import TrialResult
    from optbench.trial import TrialOutcome

    start = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="optbench-ddp-"))
    procs: list[subprocess.Popen] = []
    try:
        outcome = _launch(spec, folder, procs, on_eval)
    except Exception as exc:  # the launcher's own trouble (no free port, cannot start python ...)
        outcome = TrialOutcome(TrialResult("failed", error=f"data-parallel launch failed: {type(exc).__name__}: "
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


def _launch(spec: TrialSpec, folder: Path, procs: list, on_eval: Callable[[dict], None] | None) -> TrialOutcome:
    from optbench.executors.local import available_cores
    from optbench.spec import TrialResult
    from optbench.trial import TrialOutcome

    world = spec.nproc_per_trial
    threads = max(1, (spec.num_threads or available_cores()) // world)
    (folder / "spec.pkl").write_bytes(pickle.dumps(dataclasses.replace(spec, checkpoint_dir=None,
                                                                       num_threads=threads)))
    paths = [p for p in sys.path if p and os.path.isdir(p)]  # what this process can import, ranks can too
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()), "WORLD_SIZE": str(world),
           "LOCAL_WORLD_SIZE": str(world), "OMP_NUM_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join(paths + [os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see executors/local.py: a busy machine otherwise crawls
    for rank in range(world):
        log = open(folder / f"rank_{rank}.log", "wb")  # noqa: SIM115 - closed when the rank is started
        try:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "optbench.distributed", str(folder)], cwd=os.getcwd(),
                env={**env, "RANK": str(rank), "LOCAL_RANK": str(rank)}, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent))
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
            return TrialOutcome(TrialResult("failed", error="rank 0's outcome could not be read"))
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
    from optbench.spec import TrialResult
    from optbench.trial import TrialOutcome

    details, logs = [], []
    for rank, code in enumerate(codes):
        other = _load(folder / f"rank_{rank}.pkl")
        if other is not None and other.result.status == "failed":
            details.append(f"rank {rank}: {other.result.error}")
        elif code not in (None, 0):
            details.append(f"rank {rank} exit code {code}")
        logs.append(f"--- rank {rank} (exit code {code}) ---\n{_tail(folder / f'rank_{rank}.log')}")
    error = f"data-parallel trial: {what}" + (f" ({'; '.join(details)})" if details else "")
    return TrialOutcome(TrialResult("failed", error=error, traceback="\n".join(logs)))


# ------------------------------------------------------------------------------------------ a rank


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # the launcher never reads half a file


def _rank_main(folder: Path) -> None:  # pragma: no cover - runs in the rank processes
    global _current
    rank, world, local_rank = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ["LOCAL_RANK"])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the launcher decides what stops
    import torch
    import torch.distributed as dist

    from optbench.spec import TrialResult
    from optbench.trial import TrialOutcome, run_trial

    spec = pickle.loads((folder / "spec.pkl").read_bytes())
    try:
        if spec.device.startswith("cuda"):
            if torch.cuda.device_count() < world:
                raise RuntimeError(f"--nproc-per-trial {world} needs {world} visible GPUs; "
                                   f"{torch.cuda.device_count()} visible")
            spec.device = f"cuda:{local_rank}"
            torch.cuda.set_device(local_rank)
        device = torch.device(spec.device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world)
        _current = DistributedRanks(rank, world, device)
    except Exception as exc:
        outcome = TrialOutcome(TrialResult("failed", error=f"rank {rank}: could not join the process group: "
                                                           f"{type(exc).__name__}: {exc}"))
    else:
        evals = open(folder / "evals.jsonl", "a") if rank == 0 else None  # noqa: SIM115

        def relay(row: dict) -> None:
            evals.write(json.dumps(row) + "\n")
            evals.flush()

        outcome = run_trial(spec, on_eval=relay if rank == 0 else None)
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


if __name__ == "__main__":  # pragma: no cover
    from optbench.distributed import _rank_main as main  # the module trial.py sees, not this __main__ copy

    main(Path(sys.argv[1]))
