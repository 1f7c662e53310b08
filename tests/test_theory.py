"""optbench theory: SGD beside the lecture's bounds on the convex workloads."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from optbench.errors import OptbenchError
from optbench.tools.theory import theory
from optbench.workloads import find_workload

from .conftest import cli


@pytest.mark.slow  # the theory CLI end to end (~2 s); the fast lane keeps its refusals
def test_theory_cli_writes_png_svg_and_csv(tmp_path):
    proc = cli("theory", "lls", "--out", tmp_path, "--steps", "300", "--runs", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    for suffix in ("png", "svg", "csv"):
        path = tmp_path / f"theory_lls.{suffix}"
        assert path.is_file() and path.stat().st_size > 1000, path
    assert (tmp_path / "theory_lls.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (tmp_path / "theory_lls.svg").read_text()[:2000]
    with open(tmp_path / "theory_lls.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["step"] == "0" and int(rows[-1]["step"]) == 300


@pytest.mark.slow  # thousands of SGD steps, twice per workload
@pytest.mark.parametrize("name, steps", [("lls", 4000), ("logreg", 1500)])
def test_measured_constant_step_curve_lies_below_the_bound(tmp_path, name, steps):
    r = theory(find_workload(name), tmp_path, steps=steps, runs=2)
    assert np.all(np.isfinite(r.constant_measured)) and np.all(np.isfinite(r.decreasing_measured))
    # E[f(x_k)] - f* <= (1 - 2 alpha mu)^k (f(x_0) - f*) + L sigma^2 alpha / (4 mu), with 10 % slack for
    # the mean over only two runs
    assert np.all(r.constant_measured <= 1.1 * r.constant_bound)
    k = r.steps > 0
    assert np.all(r.decreasing_measured[k] <= 1.1 * r.decreasing_bound[k])
    assert r.constant_measured[-1] < 1e-2 * r.constant_measured[0]  # and SGD does make progress
    assert r.alpha < 1 / (2 * r.info["mu"])
    assert r.sigma2_batch == pytest.approx(r.info["sigma2"] / find_workload(name).batch_size)


@pytest.mark.slow  # 300 more SGD steps on lls, for a property of the uncapped rule
def test_literal_decreasing_step_diverges_on_lls(tmp_path):
    """alpha_0 = 1/(2 mu) is ~500/L: taken literally the rule blows up, which is why it is capped by default."""
    r = theory(find_workload("lls"), tmp_path, steps=300, runs=1, cap=False)
    assert not np.all(np.isfinite(r.decreasing_measured)) or r.decreasing_measured[-1] > 1e6
    assert math.isfinite(r.constant_measured[-1])


def test_theory_refuses_non_convex_workloads_and_bad_steps(tmp_path):
    with pytest.raises(OptbenchError, match="logreg and lls"):
        theory(find_workload("digits_mlp"), tmp_path, steps=10)
    with pytest.raises(OptbenchError, match="alpha"):
        theory(find_workload("lls"), tmp_path, steps=10, alpha=1e9)
    proc = cli("theory", "digits_mlp", "--out", tmp_path, "--steps", "10")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
