"""Learning-rate schedules the baselines share, stepped once per training step."""

from __future__ import annotations

import math
from typing import Any

from optbench.errors import OptbenchError
from optbench.spec import Context

#: Hyperparameters the schedule reads; never passed to an optimizer's constructor.
SCHEDULE_KEYS = frozenset({"warmup_fraction", "warmup_factor", "schedule", "decay_steps_factor", "end_lr_factor"})


def warmup_schedule(optimizer: Any, hparams: dict[str, Any], ctx: Context):
    """AlgoPerf's baseline schedule: the decay horizon is ``decay_steps_factor × step_hint``
    (AlgoPerf's NAdamW uses 0.75); linear warm-up over ``warmup_fraction`` of it, then cosine
    decay to ``end_lr_factor`` (default 0) at its end. ``schedule: linear`` decays linearly,
    ``constant`` keeps the rate after warm-up; ``none`` with no warm-up returns None.
    """
    import torch

    kind = hparams.get("schedule", "cosine")
    horizon = max(int(ctx.step_hint * hparams.get("decay_steps_factor", 1.0)), 1)
    warmup = int(hparams.get("warmup_fraction", hparams.get("warmup_factor", 0.0)) * horizon)
    total = max(horizon, warmup + 1)
    if kind == "none" and warmup == 0:
        return None
    end = hparams.get("end_lr_factor", 0.0)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if kind in ("constant", "none"):
            return 1.0
        progress = min((step - warmup) / max(total - warmup, 1), 1.0)
        if kind == "linear":
            return 1.0 - (1.0 - end) * progress
        return end + (1.0 - end) * 0.5 * (1.0 + math.cos(math.pi * progress))

    if kind not in ("cosine", "linear", "constant", "none"):
        raise OptbenchError(f"hyperparameter schedule: expected cosine, linear, constant or none, got {kind!r}")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
