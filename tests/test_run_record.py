"""experiment.json records what ran (a plain run names no preset), and `optbench run` ends with the
command to type next, which works."""

from __future__ import annotations

import json

import pytest

from optbench.experiment import configure
from tests.conftest import cli

PLAIN = dict(workloads=["logreg"], submissions=["adamw"], suite=None, studies=None, trials=None, hparams=None)


@pytest.mark.parametrize("ruleset, trials", [("self", 1), ("external", 5)])
def test_a_plain_run_records_no_preset_and_what_it_ran(ruleset, trials):
    record = configure(**PLAIN, ruleset=ruleset, preset=None).to_record()
    assert record["preset"] is None and record["studies"] == 1 and record["trials"] == trials
    assert record["budget_multiplier"] == (1.5 if ruleset == "self" else 1.0)  # the default preset's, as run


def test_a_preset_run_records_its_preset():
    record = configure(**PLAIN, ruleset="self", preset="algoperf-v05").to_record()
    assert (record["preset"], record["studies"], record["budget_multiplier"]) == ("algoperf-v05", 5, 3.0)


def test_run_ends_with_the_score_command_and_it_works(tmp_path, tiny_workloads):
    results = tmp_path / "my results"  # a folder a shell must quote
    proc = cli("run", "--workloads", "tiny_digits", "--submissions", "adamw", "--clock", "steps",
               "--workloads-dir", tiny_workloads, "--results", results, "--name", "exp")
    assert proc.returncode == 0, proc.stderr
    root = results / "exp"
    assert proc.stdout.strip().splitlines()[-1] == f"next: optbench score '{root}'"
    config = json.loads((root / "experiment.json").read_text())["config"]
    assert config["preset"] is None and (config["studies"], config["trials"]) == (1, 1)
    scored = cli("score", root)
    assert scored.returncode == 0, scored.stderr
