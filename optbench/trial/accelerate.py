"""The GPU path of a trial, set up before the clock starts: TF32, cuDNN autotuning, bf16, compile.

``accelerate`` returns the loss function to train with and the seconds compilation took;
with none of the flags it returns the workload's own loss and 0, so the trial loop reads
the same on every device.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import torch

from optbench.errors import OptbenchError
from optbench.spec import TrialSpec


def accelerate(spec: TrialSpec, device: torch.device, workload: Any, model: torch.nn.Module,
               batch_size: int) -> tuple[Callable, float]:
    """The GPU path, set up before the clock starts; returns (the loss function to train with, compile seconds).

    ``tf32``/``cudnn_benchmark`` set torch's CUDA flags; ``amp="bf16"`` runs the training
    forward and loss under bfloat16 autocast (backward outside it; evals stay float32);
    ``compile`` makes the loss function call ``torch.compile(model)`` (same parameters; the
    model itself, its state_dict and evals stay eager) and runs one forward/backward on a
    batch from a separate stream, then restores buffers, gradients and RNG state, so the
    first timed step does not pay for compilation. Later recompilations are not excluded.
    """
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = spec.tf32
        torch.backends.cudnn.benchmark = spec.cudnn_benchmark
    if spec.amp not in (None, "bf16"):
        raise OptbenchError(f"amp={spec.amp!r}: only bf16 is supported (fp16 would need a loss scaler)")
    if spec.amp:
        def loss_fn(model: torch.nn.Module, batch: Any, plain: Callable = workload.loss_fn) -> torch.Tensor:
            with torch.autocast(device.type, dtype=torch.bfloat16):
                return plain(model, batch)
    else:
        loss_fn = workload.loss_fn
    if not spec.compile:
        return loss_fn, 0.0
    start = time.perf_counter()
    compiled, eager_loss = torch.compile(model), loss_fn

    def loss_fn(m: torch.nn.Module, batch: Any) -> torch.Tensor:  # another model (a submission's copy) stays eager
        return eager_loss(compiled if m is model else m, batch)

    buffers = {name: b.clone() for name, b in model.named_buffers()}
    rng = torch.random.get_rng_state(), torch.cuda.get_rng_state_all() if device.type == "cuda" else None
    batch = next(workload.data.train_batches(batch_size, torch.Generator().manual_seed(spec.seed + 1)))
    loss_fn(model, batch).backward()
    model.zero_grad(set_to_none=True)
    for name, b in model.named_buffers():
        b.copy_(buffers[name])
    torch.random.set_rng_state(rng[0])
    if rng[1] is not None:
        torch.cuda.set_rng_state_all(rng[1])
        torch.cuda.synchronize()
    return loss_fn, time.perf_counter() - start
