"""Schedule-free AdamW (Defazio et al. 2024), AlgoPerf v0.5's self-tuning winner.

Uses ``schedulefree.AdamWScheduleFree``: no learning-rate schedule beyond its built-in
warm-up; it keeps two sequences, and the weights to *evaluate* (the average x) differ
from the weights at which gradients are taken (y). The simple form is enough: before
every eval optbench's adapter calls ``optimizer.eval()`` (inside the timed
``prepare_for_eval``), and ``optimizer.train()`` before the next update.
"""

import schedulefree

#: Chosen 2026-12-03 by ``optbench calibrate --defaults schedule_free_adamw --suite mini``
#: (README.md): AlgoPerf v0.5's self-tuning point, tuned for large GPU workloads, reached 4 of
#: the mini suite's 8 targets; this point 8 and 7. r and weight_lr_power stay at that point's.
DEFAULT_HPARAMS = {
    "learning_rate": 0.01936,
    "one_minus_beta1": 0.1279,
    "beta2": 0.999,
    "weight_decay": 0.1027,
    "warmup_fraction": 0.05,
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
