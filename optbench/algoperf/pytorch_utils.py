"""``pytorch_setup`` and the small PyTorch helpers AlgoPerf's submissions import.

Submissions call ``USE_PYTORCH_DDP = pytorch_setup()[0]`` at import time and, when it is
true, all-reduce their summed loss and example count themselves. AlgoPerf's convention is
the ``LOCAL_RANK`` variable that torchrun sets; optbench's data-parallel ranks set it too
(:mod:`optbench.executors.ddp`) and join the process group *before* the submission is
imported, so the answer is right at import time. A stray ``LOCAL_RANK`` in a
one-process trial (optbench started under torchrun or Slurm) does not count: without an
initialised process group the submission's all-reduce would fail.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist


def pytorch_setup() -> tuple[bool, int, torch.device, int]:
    """``(use_pytorch_ddp, rank, device, n_gpus)`` of this process."""
    use_ddp = "LOCAL_RANK" in os.environ and dist.is_available() and dist.is_initialized()
    rank = int(os.environ["LOCAL_RANK"]) if use_ddp else 0
    device = torch.device(f"cuda:{rank}" if torch.cuda.is_available() else "cpu")
    return use_ddp, rank, device, torch.cuda.device_count()


def sync_ddp_time(seconds: float, device: torch.device) -> float:
    """The largest of every rank's ``seconds`` (the slowest rank counts)."""
    value = torch.tensor(seconds, dtype=torch.float64, device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return value.item()


def update_batch_norm_fn(module: Any, update_batch_norm: bool) -> None:
    """Freeze (``False``) or unfreeze a batch-norm layer's running statistics.

    Meant for ``model.apply(partial(update_batch_norm_fn, update_batch_norm=...))``: a
    frozen layer gets momentum 0 (its running mean and variance stay as they are), its
    own momentum is kept aside and put back when it is unfrozen.
    """
    if not isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
        return
    if not update_batch_norm:
        if not hasattr(module, "momentum_backup"):
            module.momentum_backup = module.momentum
        module.momentum = 0.0
    elif hasattr(module, "momentum_backup"):
        module.momentum = module.momentum_backup
