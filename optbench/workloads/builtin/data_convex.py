"""Convex finite-sum problems from the SGD lecture, with their exact optimum.

``logreg``: f(x) = μ/2‖x‖² + 1/m Σ log(1 + exp(−yᵢ⟨aᵢ, x⟩)). Features have
column scales spread log-uniformly from 1 to ``min_scale`` so that the problem is
ill-conditioned (κ ≈ 1e3 for the defaults) and optimizers separate; an isotropic
design is solved by plain SGD in a few dozen steps. f* comes from Newton's method
in float64 to ‖∇f‖ < 1e-10 and is cached on disk.
"""

from __future__ import annotations

import numpy as np
import torch

from optbench.workloads.cache import cached
from optbench.workloads.data import TensorData
from optbench.workloads.registry import register_dataset


def _logistic_objective(A: np.ndarray, y: np.ndarray, mu: float, x: np.ndarray):
    """Value, gradient and Hessian of the regularised logistic loss (float64)."""
    z = y * (A @ x)
    value = np.logaddexp(0.0, -z).mean() + 0.5 * mu * x @ x
    s = 0.5 * (1.0 - np.tanh(0.5 * z))  # σ(−z), stable
    grad = -(A.T @ (y * s)) / len(y) + mu * x
    weights = s * (1.0 - s)
    hess = (A.T * weights) @ A / len(y) + mu * np.eye(A.shape[1])
    return value, grad, hess


def solve_logistic(A: np.ndarray, y: np.ndarray, mu: float, tol: float = 1e-10, max_iter: int = 100):
    """Newton's method with backtracking; returns (x*, f*, ‖∇f(x*)‖, L, μ_eff)."""
    x = np.zeros(A.shape[1])
    for _ in range(max_iter):
        value, grad, hess = _logistic_objective(A, y, mu, x)
        if np.linalg.norm(grad) < tol:
            break
        direction = np.linalg.solve(hess, -grad)
        step = 1.0
        while _logistic_objective(A, y, mu, x + step * direction)[0] > value + 1e-4 * step * grad @ direction:
            step *= 0.5
            if step < 1e-12:
                break
        x = x + step * direction
    value, grad, hess = _logistic_objective(A, y, mu, x)
    eig = np.linalg.eigvalsh(hess)
    # Smoothness of the whole objective: λ_max(AᵀA)/(4m) + μ bounds the Hessian everywhere.
    smooth = np.linalg.eigvalsh(A.T @ A / len(y)).max() / 4 + mu
    return x, float(value), float(np.linalg.norm(grad)), float(smooth), float(eig.min())


@register_dataset("synthetic_logreg")
def synthetic_logreg(
    num_samples: int = 10000,
    num_validation: int = 2000,
    dim: int = 100,
    mu: float = 1e-4,
    min_scale: float = 1e-2,
    label_noise: float = 0.1,
    seed: int = 0,
) -> TensorData:
    def build() -> dict:
        rng = np.random.default_rng(seed)
        scales = np.logspace(0, np.log10(min_scale), dim)
        A = rng.standard_normal((num_samples + num_validation, dim)) * scales
        x_true = 3.0 * rng.standard_normal(dim) / np.sqrt(dim)
        y = np.sign(A @ x_true + label_noise * rng.standard_normal(len(A)) * np.abs(A @ x_true).mean())
        y[y == 0] = 1.0
        A_train, y_train = A[:num_samples], y[:num_samples]
        _, f_star, grad_norm, smooth, strong = solve_logistic(A_train, y_train, mu)
        return {
            "A": torch.tensor(A, dtype=torch.float32), "y": torch.tensor(y, dtype=torch.float32),
            "f_star": f_star, "grad_norm": grad_norm, "L": smooth, "mu_at_opt": strong,
        }

    key = dict(num_samples=num_samples, num_validation=num_validation, dim=dim, mu=mu, min_scale=min_scale,
               label_noise=label_noise, seed=seed, solver="newton-1e-10", generator=2)
    built = cached("logreg", key, build)
    A, y = built["A"], built["y"]
    return TensorData(
        {"train": (A[:num_samples], y[:num_samples]), "validation": (A[num_samples:], y[num_samples:])},
        info={"input_dim": dim, "num_outputs": 1},
        metadata={
            "f_star": built["f_star"], "f_init": float(np.log(2.0)), "grad_norm_at_f_star": built["grad_norm"],
            "L": built["L"], "mu": mu, "mu_at_optimum": built["mu_at_opt"], "l2": mu,
        },
    )
