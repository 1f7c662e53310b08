"""optbench calibrate: the rules, and a whole calibration on a tiny budget written into a YAML."""

from __future__ import annotations

import math
import shutil

import pytest
import yaml

from optbench.tools.calibrate import median_toward_easier, median_with_inf, round_target, round_up
from optbench.workloads import load_workload_file

from .conftest import REPO, run_cli


def test_rounding_goes_toward_the_easier_side():
    assert round_target(0.97349, "max") == 0.973
    assert round_target(1.84210, "min") == 1.85
    assert round_target(2.593e-4, "min") == 2.6e-4
    assert round_target(0.99, "max") == 0.99
    assert round_up(0.2301) == 0.24 and round_up(58.5) == 59 and round_up(3.0) == 3.0


def test_medians():
    assert median_toward_easier([0.9, 0.8, 0.95], "max") == 0.9
    assert median_toward_easier([0.9, 0.8], "max") == 0.8  # even count: the worse middle value
    assert median_toward_easier([1.0, 2.0], "min") == 2.0
    assert median_with_inf([1.0, None, 2.0]) == 2.0
    assert math.isinf(median_with_inf([1.0, None, None]))


def test_calibrate_on_a_tiny_budget_writes_the_yaml(tmp_path):
    path = tmp_path / "digits_mlp.yaml"
    shutil.copy(REPO / "workloads" / "mini" / "digits_mlp.yaml", path)
    before = load_workload_file(path)
    proc = run_cli("calibrate", str(path), "--submissions", "adamw,sgd_nesterov", "--trials", "2", "--seeds", "1",
                   "--max-steps", "40", "--budget-seconds", "5", "--workers", "2", "--write",
                   "--out", str(tmp_path / "calibration.json"), timeout=240)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "proposal" in proc.stdout
    after = load_workload_file(path)  # still a valid workload
    notes = after.notes["calibration"]
    assert notes["command"].startswith("optbench calibrate ") and "--trials 2" in notes["command"]
    assert after.target.value == notes["target"] and after.budget.seconds == notes["budget_seconds"]
    assert after.budget.step_hint == 40 and after.budget.seconds >= 1.0
    assert after.version == before.version + 1
    assert notes["best"]["submission"] in ("adamw", "sgd_nesterov")
    assert notes["search"]["trials_per_submission"] == 2
    assert notes["median_time_to_target_s"] * 2.5 <= after.budget.seconds * 1.0001 or after.budget.seconds == 1.0
    assert (tmp_path / "calibration.json").is_file()
    assert yaml.safe_load(path.read_text())["dataset"] == yaml.safe_load(
        (REPO / "workloads" / "mini" / "digits_mlp.yaml").read_text())["dataset"]  # the rest is untouched


def test_calibrate_bad_input_is_one_line(tmp_path):
    proc = run_cli("calibrate", "no_such_workload")
    assert proc.returncode == 2 and "unknown workload" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_cli("calibrate", "digits_mlp", "--submissions", "nope")
    assert proc.returncode == 2 and "unknown submission" in proc.stderr


@pytest.mark.parametrize("value, mode", [(0.5, "max"), (1e-3, "min")])
def test_round_target_is_never_harder(value, mode):
    for x in (value * 1.00049, value * 0.99951, value):
        rounded = round_target(x, mode)
        assert (rounded <= x) if mode == "max" else (rounded >= x)
