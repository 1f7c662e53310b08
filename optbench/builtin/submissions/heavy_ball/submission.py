"""SGD with Polyak (heavy-ball) momentum, linear warm-up and linear decay.

AlgoPerf's heavy-ball target-setting baseline has this shape: ``torch.optim.SGD`` with
``nesterov=False``, momentum tuned as ``1 − β₁`` on a log scale, warm-up then a decay of
the rate over the workload's ``step_hint``. The simple form: optbench's adapter does
zero_grad / backward / step / scheduler.step.
"""

import torch

from optbench.submissions import warmup_schedule

#: Self-tuning defaults (see README.md for where they come from).
DEFAULT_HPARAMS = {
    "learning_rate": 0.1,
    "one_minus_beta1": 0.1,
    "weight_decay": 1e-5,
    "warmup_fraction": 0.05,
    "schedule": "linear",
    "end_lr_factor": 0.01,
    "decay_steps_factor": 1.0,
}


def make_optimizer(params, hparams, ctx):
    optimizer = torch.optim.SGD(
        params,
        lr=hparams["learning_rate"],
        momentum=1.0 - hparams["one_minus_beta1"],
        nesterov=False,
        weight_decay=hparams["weight_decay"],
    )
    return optimizer, warmup_schedule(optimizer, hparams, ctx)
