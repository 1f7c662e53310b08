"""Loss landscapes: filter normalisation keeps per-filter norms; on a convex quadratic the slices are the
exact parabola and the power-iteration sharpness is the known top eigenvalue; a real saved-weights trial
goes through `optbench landscape`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench.tools.landscape import geometry as geo
from tests.conftest import examples, run_cli, write


def quadratic(seed: int = 0, dim: int = 12):
    """f(w) = 1/2 (w - w*)^T A (w - w*) on one 2-D weight (3 filters of 4), with A's spectrum known."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    eigenvalues = np.linspace(0.1, 2.0, dim)
    eigenvalues[-1] = 5.0  # a clear top eigenvalue
    a = torch.tensor(q @ np.diag(eigenvalues) @ q.T, dtype=torch.float64)
    w_star = torch.tensor(rng.standard_normal(dim), dtype=torch.float64)

    def loss(params):
        diff = params[0].reshape(-1) - w_star
        return 0.5 * diff @ a @ diff

    return loss, a, w_star.reshape(3, 4), eigenvalues


@settings(max_examples=examples(30), deadline=None)
@given(st.integers(0, 10_000), st.lists(st.integers(1, 5), min_size=2, max_size=4))
def test_filter_normalisation_preserves_each_filters_norm(seed, shape):
    g = torch.Generator().manual_seed(seed)
    weights = [torch.randn(shape, generator=g), torch.randn(shape[0], generator=g)]  # a weight and a bias
    direction = geo.random_direction(weights, g)
    w_norms = weights[0].reshape(shape[0], -1).norm(dim=1)
    d_norms = direction[0].reshape(shape[0], -1).norm(dim=1)
    torch.testing.assert_close(d_norms, w_norms)
    assert torch.count_nonzero(direction[1]) == 0  # 1-D parameters are not moved (Li et al.)


def test_a_zero_filter_stays_zero():
    weights = [torch.ones(2, 3)]
    normalised = geo.filter_normalize([torch.tensor([[0.0, 0, 0], [1, 2, 2]])], weights)[0]
    torch.testing.assert_close(normalised, torch.tensor([[0.0, 0, 0], [1, 2, 2]]) / 3 * 3**0.5)


def test_the_landscape_of_a_quadratic_is_the_exact_parabola():
    loss, a, w_star, _ = quadratic()
    g = torch.Generator().manual_seed(1)
    w0 = [torch.randn(3, 4, generator=g, dtype=torch.float64)]
    direction = geo.random_direction([w_star], g)
    alphas = np.linspace(-1.5, 1.5, 13)
    d = direction[0].reshape(-1)
    diff = (w0[0] - w_star).reshape(-1)
    exact = 0.5 * (diff @ a @ diff).item() + alphas * (d @ a @ diff).item() + 0.5 * alphas**2 * (d @ a @ d).item()
    np.testing.assert_allclose(geo.line(loss, w0, direction, alphas), exact, rtol=1e-10)
    # init -> final line: a parabola with its minimum at the optimum (alpha = 1)
    along = geo.line(loss, w0, [w_star - w0[0]], alphas)
    assert np.argmin(along) == np.argmin(np.abs(alphas - 1.0)) and along.min() == pytest.approx(0.0, abs=1e-20)
    # the plane: the quadratic form in (a, b)
    e = geo.random_direction([w_star], g)[0].reshape(-1)
    grid = geo.plane(loss, [w_star], direction, [e.reshape(3, 4)], alphas[:4], alphas[:3])
    for i, b in enumerate(alphas[:3]):
        for j, al in enumerate(alphas[:4]):
            v = al * d + b * e
            assert grid[i, j] == pytest.approx(0.5 * (v @ a @ v).item(), rel=1e-10)


def test_sharpness_of_a_quadratic_is_its_top_eigenvalue():
    loss, a, w_star, eigenvalues = quadratic()
    top = geo.top_hessian_eigenvalue(loss, [w_star], torch.Generator().manual_seed(0))
    assert top.converged
    assert top.value == pytest.approx(eigenvalues.max(), rel=0.01)
    # rho-sharpness at the optimum: the gradient is zero, so no first-order uphill move
    assert geo.rho_sharpness(loss, [w_star], 0.1) == pytest.approx(0.0, abs=1e-12)
    # away from it: the loss increases
    w = [w_star + 0.3]
    assert geo.rho_sharpness(loss, w, 0.1) > 0


LINEAR_LLS = """
name: tiny_lls
version: 1
description: least squares, tiny
dataset: {name: synthetic_lls, params: {num_samples: 256, dim: 8, seed: 0}}
model: {name: linear}
loss: squared_error
target: {metric: train/loss, value: 0.0, mode: min}
budget: {seconds: 30, step_hint: 30, steps: 30}
eval: {every_steps: 10}
batch_size: 32
"""


@pytest.mark.slow
def test_landscape_command_on_a_saved_weights_trial(tmp_path):
    folder = tmp_path / "wl"
    write(folder / "t" / "tiny_lls.yaml", LINEAR_LLS)
    done = run_cli("run", "--workloads", "tiny_lls", "--submissions", "adamw", "--workloads-dir", str(folder),
                   "--results", str(tmp_path / "r"), "--name", "x", "--clock", "steps", "--save-weights")
    assert done.returncode == 0, done.stderr
    trial = tmp_path / "r" / "x" / "adamw" / "study_0" / "tiny_lls" / "trial_0"
    assert (trial / "weights_init.pt").is_file() and (trial / "weights_final.pt").is_file()
    done = run_cli("landscape", str(trial), "--grid", "5", "--points", "5")
    assert done.returncode == 0, done.stderr
    data = json.loads((trial / "landscape" / "landscape.json").read_text())
    line = np.array(data["trials"][0]["line"]["train"])
    alphas = np.array(data["trials"][0]["line_alphas"])
    # least squares is a quadratic: the init->final slice is a parabola (second differences constant)
    np.testing.assert_allclose(np.diff(line, 2), np.diff(line, 2).mean(), rtol=1e-3, atol=1e-6)
    assert line[np.argmin(np.abs(alphas - 1))] < line[np.argmin(np.abs(alphas))]  # final below init
    assert (trial / "landscape" / "landscape.png").stat().st_size < 150_000
    missing = run_cli("landscape", str(tmp_path / "r" / "x"))
    assert missing.returncode == 2 and "not a finished trial folder" in missing.stderr
