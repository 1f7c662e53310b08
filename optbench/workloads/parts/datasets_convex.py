"""Convex finite-sum problems from the SGD lecture, with their exact optimum.

``synthetic_logreg`` (workload ``logreg``): f(x) = μ/2‖x‖² + 1/m Σ log(1 + exp(−yᵢ⟨aᵢ, x⟩)).
Features have column scales spread log-uniformly from 1 to ``min_scale`` so that the
problem is ill-conditioned (κ ≈ 1e3 for the defaults) and optimizers separate; an
isotropic design is solved by plain SGD in a few dozen steps. f* comes from Newton's
method in float64 to ‖∇f‖ < 1e-10 and is cached on disk.

``synthetic_lls`` (workload ``lls``): f(x) = 1/(2m) ‖Ax − b‖² with b = A x_true + noise.
The rows of A have covariance Q diag(λ) Qᵀ with λ log-spaced from 1 to 1/κ and Q a
random rotation, so the ill-conditioning is *not* aligned with the coordinate axes and
a diagonal preconditioner (Adam) cannot simply undo it. x* solves the normal equations
in float64 (``numpy.linalg.lstsq``).

Both record, in the dataset's ``metadata``, what the lecture's SGD bounds need:

* ``f_star``, ``f_init`` (f at x₀ = 0, where the zero-initialised linear model starts);
* ``L``: smoothness of f (λ_max of the Hessian bound), ``mu``: strong convexity (the l2
  term for logreg, λ_min(AᵀA/m) for lls), and ``L_max``: the largest per-example
  smoothness, which bounds the stable constant step of single-sample SGD;
* ``sigma2``: 1/m Σᵢ ‖∇fᵢ(x*)‖², the variance of a single-example stochastic gradient at
  the optimum (its mean is ∇f(x*) = 0); a mini-batch of B examples drawn with
  replacement has variance sigma2 / B.
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


def logistic_example_grads(A: np.ndarray, y: np.ndarray, mu: float, x: np.ndarray) -> np.ndarray:
    """∇fᵢ(x) for every example i (rows), fᵢ(x) = log(1 + exp(−yᵢ⟨aᵢ, x⟩)) + μ/2‖x‖²."""
    s = 0.5 * (1.0 - np.tanh(0.5 * y * (A @ x)))
    return -(y * s)[:, None] * A + mu * x[None, :]


def _split_rows(A: np.ndarray, targets: np.ndarray, num_samples: int, dim: int, metadata: dict) -> TensorData:
    """The first ``num_samples`` rows train, the rest validate; one output; ``metadata`` (the problem's
    constants: f*, L, mu, sigma2 ...) travels with the data for ``optbench theory`` and the report."""
    return TensorData(
        {"train": (A[:num_samples], targets[:num_samples]), "validation": (A[num_samples:], targets[num_samples:])},
        info={"input_dim": dim, "num_outputs": 1},
        metadata=metadata,
    )


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
        x_star, f_star, grad_norm, smooth, strong = solve_logistic(A_train, y_train, mu)
        grads = logistic_example_grads(A_train, y_train, mu, x_star)
        return {
            "A": torch.tensor(A, dtype=torch.float32), "y": torch.tensor(y, dtype=torch.float32),
            "f_star": f_star, "grad_norm": grad_norm, "L": smooth, "mu_at_opt": strong,
            "L_max": float((A_train**2).sum(1).max() / 4 + mu), "sigma2": float((grads**2).sum(1).mean()),
        }

    key = dict(num_samples=num_samples, num_validation=num_validation, dim=dim, mu=mu, min_scale=min_scale,
               label_noise=label_noise, seed=seed, solver="newton-1e-10", generator=3)
    built = cached("logreg", key, build)
    return _split_rows(built["A"], built["y"], num_samples, dim, {
        "f_star": built["f_star"], "f_init": float(np.log(2.0)), "grad_norm_at_f_star": built["grad_norm"],
        "L": built["L"], "mu": mu, "mu_at_optimum": built["mu_at_opt"], "L_max": built["L_max"],
        "sigma2": built["sigma2"], "l2": mu, "problem": "logistic",
    })


@register_dataset("synthetic_lls")
def synthetic_lls(
    num_samples: int = 10000,
    num_validation: int = 2000,
    dim: int = 50,
    condition_number: float = 1e3,
    noise: float = 0.1,
    rotate: bool = True,
    seed: int = 0,
) -> TensorData:
    """Ill-conditioned least squares with a known optimum (see the module docstring)."""

    def build() -> dict:
        rng = np.random.default_rng(seed)
        eig = np.logspace(0, -np.log10(condition_number), dim)
        Q = np.linalg.qr(rng.standard_normal((dim, dim)))[0] if rotate else np.eye(dim)
        A = (rng.standard_normal((num_samples + num_validation, dim)) * np.sqrt(eig)) @ Q.T
        x_true = rng.standard_normal(dim)
        b = A @ x_true + noise * rng.standard_normal(len(A))
        A_train, b_train = A[:num_samples], b[:num_samples]
        x_star = np.linalg.lstsq(A_train, b_train, rcond=None)[0]
        residual = A_train @ x_star - b_train
        hess_eig = np.linalg.eigvalsh(A_train.T @ A_train / num_samples)
        grads = residual[:, None] * A_train  # ∇fᵢ(x*) = aᵢ(⟨aᵢ, x*⟩ − bᵢ)
        return {
            "A": torch.tensor(A, dtype=torch.float32), "b": torch.tensor(b, dtype=torch.float32),
            "f_star": float(0.5 * (residual**2).mean()), "f_init": float(0.5 * (b_train**2).mean()),
            "grad_norm": float(np.linalg.norm(A_train.T @ residual / num_samples)),
            "L": float(hess_eig.max()), "mu": float(hess_eig.min()),
            "L_max": float((A_train**2).sum(1).max()), "sigma2": float((grads**2).sum(1).mean()),
        }

    key = dict(num_samples=num_samples, num_validation=num_validation, dim=dim, condition_number=condition_number,
               noise=noise, rotate=rotate, seed=seed, solver="lstsq", generator=1)
    built = cached("lls", key, build)
    return _split_rows(built["A"], built["b"], num_samples, dim, {
        "f_star": built["f_star"], "f_init": built["f_init"], "grad_norm_at_f_star": built["grad_norm"],
        "L": built["L"], "mu": built["mu"], "L_max": built["L_max"], "sigma2": built["sigma2"],
        "condition_number": built["L"] / built["mu"], "l2": 0.0, "problem": "least_squares",
    })
