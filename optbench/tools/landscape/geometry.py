"""The geometry of a loss landscape: directions, filter normalisation, slices, sharpness.

Why: the lecture shows the loss of a network projected on a line and on a plane through the
weights an optimizer found (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets")
and asks whether wide minima generalise. A random direction must be scaled to the weights it
perturbs, or a layer with small weights looks flat only because of its scale: *filter
normalisation* rescales each filter (a slice of a weight along its first, output dimension)
of the direction to the norm of the same filter of the weights. One-dimensional parameters
(biases, norm layers) get no direction (Li et al.'s default), so they stay at their values.

Everything works on a list of parameter tensors and a ``loss(params) -> tensor`` callable
(:func:`torch.func.functional_call` in :mod:`.command`), so a convex quadratic is as good a
test case as a network. Sharpness: the Hessian's largest eigenvalue by power iteration with
Hessian-vector products (double backward, never the Hessian itself), and the loss increase
when every filter moves by ``rho`` times its own norm along the (filter-normalised) gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

Params = list[torch.Tensor]
LossFn = Callable[[Params], torch.Tensor]


def filter_normalize(direction: Sequence[torch.Tensor], weights: Sequence[torch.Tensor]) -> Params:
    """``direction`` with each filter scaled to the norm of the same filter of ``weights``.

    A filter is ``t[i]`` for a tensor of two or more dimensions (an output unit of a linear
    layer, an output channel of a convolution); one-dimensional tensors get a zero direction.
    A zero filter of the direction stays zero.
    """
    out = []
    for d, w in zip(direction, weights, strict=True):
        if d.dim() <= 1:
            out.append(torch.zeros_like(w))
            continue
        d_norm = d.reshape(len(d), -1).norm(dim=1)
        w_norm = w.reshape(len(w), -1).norm(dim=1)
        scale = torch.where(d_norm > 0, w_norm / d_norm.clamp_min(1e-30), torch.zeros_like(d_norm))
        out.append(d * scale.reshape(-1, *([1] * (d.dim() - 1))))
    return out


def random_direction(weights: Sequence[torch.Tensor], generator: torch.Generator) -> Params:
    """A Gaussian direction, filter-normalised to ``weights``."""
    raw = [torch.randn(w.shape, generator=generator, dtype=w.dtype).to(w.device) for w in weights]
    return filter_normalize(raw, weights)


def moved(weights: Sequence[torch.Tensor], steps: Sequence[tuple[float, Sequence[torch.Tensor]]]) -> Params:
    """``weights + sum_i a_i d_i`` for ``steps = [(a_1, d_1), ...]``."""
    out = [w.detach().clone() for w in weights]
    for a, d in steps:
        for o, di in zip(out, d, strict=True):
            o.add_(di, alpha=float(a))
    return out


def line(loss: LossFn, weights: Sequence[torch.Tensor], direction: Sequence[torch.Tensor],
         alphas: np.ndarray) -> np.ndarray:
    """``loss(weights + a * direction)`` for every ``a`` in ``alphas``."""
    with torch.no_grad():
        return np.array([float(loss(moved(weights, [(a, direction)]))) for a in alphas])


def plane(loss: LossFn, weights: Sequence[torch.Tensor], d1: Sequence[torch.Tensor], d2: Sequence[torch.Tensor],
          alphas: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """``loss(weights + a d1 + b d2)`` on the grid: shape ``(len(betas), len(alphas))`` (rows: b)."""
    with torch.no_grad():
        return np.array([[float(loss(moved(weights, [(a, d1), (b, d2)]))) for a in alphas] for b in betas])


def hvp(loss: LossFn, weights: Sequence[torch.Tensor], vector: Sequence[torch.Tensor]) -> Params:
    """The Hessian of ``loss`` at ``weights`` times ``vector`` (double backward)."""
    params = [w.detach().clone().requires_grad_(True) for w in weights]
    grads = torch.autograd.grad(loss(params), params, create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(grads, vector, strict=True))
    return [h.detach() for h in torch.autograd.grad(dot, params)]


def _dot(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> float:
    return float(sum((x * y).sum() for x, y in zip(a, b, strict=True)))


@dataclass(frozen=True)
class TopEigen:
    """The largest-magnitude Hessian eigenvalue found by power iteration (at a minimum: the largest)."""

    value: float
    iterations: int
    converged: bool  #: the Rayleigh quotient moved by less than ``tol`` (relative) in the last iteration


def top_hessian_eigenvalue(loss: LossFn, weights: Sequence[torch.Tensor], generator: torch.Generator,
                           iterations: int = 100, tol: float = 1e-4) -> TopEigen:
    """Power iteration v <- Hv / ||Hv||; the eigenvalue is the Rayleigh quotient v.Hv."""
    v = [torch.randn(w.shape, generator=generator, dtype=w.dtype).to(w.device) for w in weights]
    norm = _dot(v, v) ** 0.5
    v = [x / norm for x in v]
    value = 0.0
    for i in range(1, iterations + 1):
        hv = hvp(loss, weights, v)
        new = _dot(v, hv)
        norm = _dot(hv, hv) ** 0.5
        if norm == 0:
            return TopEigen(0.0, i, True)
        v = [x / norm for x in hv]
        if i > 1 and abs(new - value) <= tol * max(abs(new), 1e-12):
            return TopEigen(new, i, True)
        value = new
    return TopEigen(value, iterations, False)


def gradient(loss: LossFn, weights: Sequence[torch.Tensor]) -> Params:
    params = [w.detach().clone().requires_grad_(True) for w in weights]
    return [g.detach() for g in torch.autograd.grad(loss(params), params)]


def rho_sharpness(loss: LossFn, weights: Sequence[torch.Tensor], rho: float) -> float:
    """``loss(w + rho * d) - loss(w)``, d the gradient filter-normalised to the weights: each filter
    moves by ``rho`` times its own norm uphill (first-order worst case, as SAM's perturbation)."""
    direction = filter_normalize(gradient(loss, weights), weights)
    with torch.no_grad():
        return float(loss(moved(weights, [(rho, direction)]))) - float(loss(list(weights)))
