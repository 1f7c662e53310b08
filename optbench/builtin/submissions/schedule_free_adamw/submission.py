"""Schedule-free AdamW (Defazio et al. 2024), AlgoPerf v0.5's self-tuning winner.

Uses ``schedulefree.AdamWScheduleFree``: no learning-rate schedule beyond its built-in
warm-up; it keeps two sequences, and the weights to *evaluate* (the average x) differ
from the weights at which gradients are taken (y). The simple form is enough: before
every eval optbench's adapter calls ``optimizer.eval()`` (inside the timed
``prepare_for_eval``), and ``optimizer.train()`` before the next update.
"""

import schedulefree

#: AlgoPerf v0.5 self-tuning schedule-free AdamW point (see README.md), without the
#: dropout and label smoothing that our mini workloads do not have.
DEFAULT_HPARAMS = {
    "learning_rate": 0.0025,
    "one_minus_beta1": 0.1,
    "beta2": 0.9955159689799007,
    "weight_decay": 0.08121616522670176,
    "warmup_fraction": 0.02,
    "weight_lr_power": 2.0,
    "r": 0.75,
}


def make_optimizer(params, hparams, ctx):
    optimizer = schedulefree.AdamWScheduleFree(
        params,
        lr=hparams["learning_rate"],
        betas=(1.0 - hparams["one_minus_beta1"], hparams["beta2"]),
        weight_decay=hparams["weight_decay"],
        warmup_steps=int(hparams["warmup_fraction"] * ctx.step_hint),
        r=hparams["r"],
        weight_lr_power=hparams["weight_lr_power"],
    )
    optimizer.train()  # schedulefree optimizers refuse to step in eval mode
    return optimizer
