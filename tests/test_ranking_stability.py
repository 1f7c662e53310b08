"""benchmarks/ranking_stability.py, run as a user runs it: repeats with their own seeds, the
``--preset`` protocol (3 studies per repeat), and a kept folder of another plan refused in one line.

Two repeats of the smoke suite for two baselines on the steps clock: a few seconds each.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "ranking_stability.py"
pytestmark = pytest.mark.slow


def _run(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--suite", "smoke", "--submissions", "adamw,sgd_nesterov",
                           "--clock", "steps", "--workers", "1", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600)


def test_preset_repeats_run_three_studies_and_report_the_agreement(tmp_path):
    keep = tmp_path / "kept"
    done = _run("--repeats", "2", "--preset", "algoperf-v06", "--keep", str(keep), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 repeats of algoperf-v06" in done.stdout
    for seed in (0, 1):
        config = json.loads((keep / f"seed_{seed}" / "experiment.json").read_text())["config"]
        assert (config["preset"], config["studies"], config["trials"], config["seed"]) == ("algoperf-v06", 3, 1, seed)
        assert f"seed {seed} (" in done.stdout
    assert "the same in" in done.stdout and "of 2 repeats" in done.stdout

    # The kept repeats are of the 3-study protocol: asking for one study there is refused in one line.
    refused = _run("--repeats", "1", "--keep", str(keep), cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: ") and "use another --keep folder" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_an_unknown_preset_is_one_line_and_exit_2_with_nothing_written(tmp_path):
    keep = tmp_path / "kept"
    refused = _run("--repeats", "1", "--preset", "algoperf-v99", "--keep", str(keep), cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [refused.stderr.strip()]
    assert "unknown preset 'algoperf-v99'" in refused.stderr
    assert not keep.exists() and [p.name for p in tmp_path.iterdir()] == []
