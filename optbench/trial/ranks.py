"""How one rank of a data-parallel trial differs from a single process: six hooks the loop calls.

:data:`SINGLE` is the one-process version, whose hooks change nothing, so the trial loop
reads the same either way. In a rank started by the data-parallel launcher
(``optbench/executors/ddp.py``), :func:`join` sets up the process group and makes
:func:`current` return a :class:`DistributedRanks`:

* batches: every rank draws the same global permutation from the trial's generator and
  takes its contiguous ``1/N`` of each global batch (``TensorData.train_batches(shard=...)``;
  other datasets are sliced after drawing), so 1 and N processes see the same global
  batches; the global batch size must divide by N. ``ctx.batch_size`` stays the global one;
* the model is wrapped in ``DistributedDataParallel``: gradients are averaged, so a step
  equals the one-process step on the global batch, up to float summation order;
* the submission clock: after each timed block its wall and CPU seconds are all-reduced with
  MAX, so the slowest rank counts (as in AlgoPerf) and every rank holds the same clock, hence
  takes the same budget and eval decisions;
* divergence: the training loss is averaged over ranks before the finiteness check, so
  all ranks stop together;
* evals: rank 0 evaluates the unwrapped model on the full eval sets and broadcasts the
  metrics (the parameters are the same on every rank, so this is the one-process eval
  exactly; the other ranks wait, and eval time is not submission time anyway).
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Iterator

import torch

from optbench.errors import OptbenchError


class Ranks:
    """What a trial loop needs to know about the other processes of its trial (none, here)."""

    def __init__(self, rank: int = 0, world: int = 1):
        self.rank, self.world = rank, world

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        return model

    def train_batches(self, data: Any, batch_size: int, generator: torch.Generator) -> Iterator:
        return data.train_batches(batch_size, generator)

    def clock_reduce(self) -> Callable[[tuple[float, float]], tuple[float, float]] | None:
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
        if batch_size % self.world:
            raise OptbenchError(f"the global batch size {batch_size} does not divide by --nproc-per-trial "
                                f"{self.world}; choose a batch size that does")
        shard = (self.rank, self.world)
        if "shard" in inspect.signature(data.train_batches).parameters:
            return data.train_batches(batch_size, generator, shard=shard)
        return (take_shard(batch, shard) for batch in data.train_batches(batch_size, generator))

    def _all_reduce(self, values: list[float], op: str) -> list[float]:
        import torch.distributed as dist

        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor, op=getattr(dist.ReduceOp, op))
        return tensor.tolist()

    def clock_reduce(self) -> Callable[[tuple[float, float]], tuple[float, float]]:
        def slowest(seconds: tuple[float, float]) -> tuple[float, float]:
            wall, cpu = self._all_reduce(list(seconds), "MAX")
            return wall, cpu

        return slowest

    def loss_for_check(self, loss: torch.Tensor) -> torch.Tensor:
        mean = self._all_reduce([float(loss.detach())], "SUM")[0] / self.world
        return torch.tensor(mean)

    def evaluate(self, workload: Any, model: torch.nn.Module) -> dict[str, float]:
        import torch.distributed as dist

        box = [workload.evaluate(getattr(model, "module", model)) if self.rank == 0 else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]


def take_shard(batch: Any, shard: tuple[int, int]) -> Any:
    """Rank ``shard[0]``'s contiguous part of a global ``(inputs, targets)`` batch."""
    rank, world = shard

    def part(x: Any) -> Any:
        if isinstance(x, (tuple, list)):
            return type(x)(part(t) for t in x)
        return x.tensor_split(world)[rank]

    return part(batch)


def join(rank: int, world: int, device: torch.device) -> DistributedRanks:
    """Join the trial's process group (gloo on CPU, NCCL on CUDA) as ``rank``; from now on
    :func:`current` returns this rank's hooks. The environment gives MASTER_ADDR/PORT."""
    import torch.distributed as dist

    global _current
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world)
    _current = DistributedRanks(rank, world, device)
    return _current
