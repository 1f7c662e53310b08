"""benchmarks/ranking_stability.py, run as a user runs it: repeats with their own seeds, the
``--preset`` protocol (3 studies per repeat), and a kept folder of another plan refused in one line.

Two repeats of the smoke suite for two baselines on the steps clock: a few seconds each (slow);
the neighbour-order count on hand-made scores (fast).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "ranking_stability.py"


def _run(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--suite", "smoke", "--submissions", "adamw,sgd_nesterov",
                           "--clock", "steps", "--workers", "1", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
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


@pytest.mark.slow
def test_an_unknown_preset_is_one_line_and_exit_2_with_nothing_written(tmp_path):
    keep = tmp_path / "kept"
    refused = _run("--repeats", "1", "--preset", "algoperf-v99", "--keep", str(keep), cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [refused.stderr.strip()]
    assert "unknown preset 'algoperf-v99'" in refused.stderr
    assert not keep.exists() and [p.name for p in tmp_path.iterdir()] == []


def _script_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("ranking_stability", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_neighbour_orders_count_swaps_and_ties():
    """Neighbours in mean-score order; a tie is a repeat neither side wins; p from a two-sided sign test."""
    scores = [{"a": 0.9, "b": 0.5, "c": 0.4}, {"a": 0.8, "b": 0.3, "c": 0.4}, {"a": 0.7, "b": 0.6, "c": 0.6},
              {"a": 0.9, "b": 0.5, "c": 0.2}, {"a": 0.9, "b": 0.5, "c": 0.3}]
    pairs = _script_module().neighbour_orders(scores)
    assert [(b, w, ahead, n) for b, w, ahead, n, _ in pairs] == [("a", "b", 5, 5), ("b", "c", 3, 4)]
    assert pairs[0][4] == pytest.approx(0.0625) and pairs[1][4] == pytest.approx(0.625)
