"""AdamW (torch.optim.AdamW) with linear warm-up and cosine decay over the workload's step_hint.

The simple form: optbench's adapter does zero_grad / backward / step / scheduler.step.
"""

import torch

from optbench.submissions import warmup_schedule

#: Self-tuning defaults: Adam's usual β's and a rate that trains every mini workload.
DEFAULT_HPARAMS = {
    "learning_rate": 3e-3,
    "weight_decay": 1e-2,
    "beta1": 0.9,
    "beta2": 0.999,
    "warmup_fraction": 0.05,
    "decay_steps_factor": 1.0,
}


def make_optimizer(params, hparams, ctx):
    optimizer = torch.optim.AdamW(
        params,
        lr=hparams["learning_rate"],
        betas=(hparams["beta1"], hparams["beta2"]),
        weight_decay=hparams["weight_decay"],
    )
    return optimizer, warmup_schedule(optimizer, hparams, ctx)
