"""Muon on the hidden weight matrices, AdamW on everything else, as the NanoGPT speedrun uses it.

Muon ("MomentUm Orthogonalized by Newton-Schulz", Jordan et al. 2024): for each hidden weight
matrix, keep a momentum buffer of its gradient, take the Nesterov look-ahead of it, replace that
matrix by the nearest semi-orthogonal matrix (approximately: a few iterations of a quintic
Newton-Schulz map that pushes every singular value towards 1 without computing an SVD), and step
along it, scaled by sqrt(max(1, rows / cols)) so that tall and wide matrices move alike.
Embeddings, the output head and vectors (gains, biases) are not "hidden" and get AdamW.

The groups come from optbench's parameter roles (``ctx.params_by_role``): ``matrix`` and
``conv`` (kernels seen as out × in·k matrices) by Muon; ``embedding``, ``head``, ``vector`` by
AdamW. One optimizer holds both kinds of group (``use_muon`` says which), so one schedule drives
both rates. The simple form: optbench's adapter does zero_grad / backward / step / scheduler.step.
"""

import torch

#: Self-tuning defaults: the speedrun's Muon settings; AdamW at our adamw baseline's rate with the
#: speedrun's betas and eps; the speedrun's schedule (constant, then linear cool-down to zero over
#: the last 40 % of step_hint). See README.md.
DEFAULT_HPARAMS = {
    "learning_rate": 0.05,  # Muon's
    "momentum": 0.95,
    "ns_steps": 5,
    "adamw_learning_rate": 3e-3,
    "beta1": 0.8,
    "beta2": 0.95,
    "weight_decay": 0.0,
    "cooldown_fraction": 0.4,
}

#: coefficients of the quintic Newton-Schulz map x -> a x + b x^3 + c x^5 (on singular values),
#: chosen in the Muon write-up to make small singular values grow fast; it lands near (not at) 1
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def orthogonalize(update: torch.Tensor, steps: int) -> torch.Tensor:
    """An approximately semi-orthogonal matrix with the singular vectors of ``update`` (2-D)."""
    a, b, c = NS_COEFFICIENTS
    x = update.bfloat16() if update.is_cuda else update.float()  # the speedrun runs it in bfloat16 on GPUs
    wide = x.size(0) <= x.size(1)
    if not wide:  # iterate on the smaller Gram matrix
        x = x.T
    x = x / (x.norm() + 1e-7)  # spectral norm <= Frobenius norm <= 1: inside the map's basin
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return (x if wide else x.T).to(update.dtype)


class MuonWithAdamW(torch.optim.Optimizer):
    """Parameter groups with ``use_muon`` True get Muon, the others AdamW (decoupled weight decay)."""

    def __init__(self, groups, lr, momentum=0.95, ns_steps=5, betas=(0.9, 0.95), eps=1e-10, weight_decay=0.0):
        defaults = dict(lr=lr, momentum=momentum, ns_steps=ns_steps, betas=betas, eps=eps,
                        weight_decay=weight_decay, use_muon=False)
        super().__init__(groups, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.mul_(1 - group["lr"] * group["weight_decay"])
                if group["use_muon"]:
                    self._muon(p, group)
                else:
                    self._adamw(p, group)
        return loss

    def _muon(self, p, group):
        state, grad, mu = self.state[p], p.grad, group["momentum"]
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = torch.zeros_like(grad)
        buffer = state["momentum_buffer"]
        buffer.mul_(mu).add_(grad)
        look_ahead = grad.add(buffer, alpha=mu)  # Nesterov
        matrix = look_ahead.reshape(len(look_ahead), -1)  # conv kernels: out x (in * k...)
        direction = orthogonalize(matrix, group["ns_steps"]).view_as(p)
        p.add_(direction, alpha=-group["lr"] * max(1.0, matrix.size(0) / matrix.size(1)) ** 0.5)

    def _adamw(self, p, group):
        state, grad = self.state[p], p.grad
        beta1, beta2 = group["betas"]
        if "step" not in state:
            state["step"], state["exp_avg"], state["exp_avg_sq"] = 0, torch.zeros_like(p), torch.zeros_like(p)
        state["step"] += 1
        state["exp_avg"].lerp_(grad, 1 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        corrected1, corrected2 = 1 - beta1 ** state["step"], 1 - beta2 ** state["step"]
        denominator = (state["exp_avg_sq"] / corrected2).sqrt_().add_(group["eps"])
        p.addcdiv_(state["exp_avg"], denominator, value=-group["lr"] / corrected1)


def cooldown_schedule(optimizer, hparams, ctx):
    """The speedrun's: the base rates until the last ``cooldown_fraction`` of step_hint, then linear to 0."""
    horizon = max(ctx.step_hint, 1)
    start = int((1 - hparams["cooldown_fraction"]) * horizon)

    def factor(step):
        if step < start:
            return 1.0
        return max(0.0, (horizon - step) / max(horizon - start, 1))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def make_optimizer(params, hparams, ctx):
    by_role = ctx.params_by_role
    hidden = by_role["matrix"] + by_role["conv"]
    rest = by_role["embedding"] + by_role["head"] + by_role["vector"]
    groups = [g for g in ({"params": hidden, "use_muon": True, "lr": hparams["learning_rate"]},
                          {"params": rest, "use_muon": False, "lr": hparams["adamw_learning_rate"]}) if g["params"]]
    optimizer = MuonWithAdamW(groups, lr=hparams["learning_rate"], momentum=hparams["momentum"],
                              ns_steps=int(hparams["ns_steps"]), betas=(hparams["beta1"], hparams["beta2"]),
                              weight_decay=hparams["weight_decay"])
    return optimizer, cooldown_schedule(optimizer, hparams, ctx)
