"""`optbench run` end to end in real subprocesses: results on disk, failures recorded, hangs killed."""

from __future__ import annotations

import dataclasses
import json

import pytest

from optbench import store
from optbench.executors.local import LocalExecutor
from optbench.spec import TrialSpec
from optbench.workloads import find_workload
from tests.conftest import run_cli


@pytest.mark.slow  # a real run in a subprocess
def test_run_records_every_trial_and_survives_failing_ones(tmp_path, tiny_workloads, planted_submissions):
    proc = run_cli("run", "--workloads", "tiny_digits", "--submissions", "adamw,boom,explode",
                   "--workloads-dir", str(tiny_workloads), "--submissions-dir", str(planted_submissions),
                   "--results", str(tmp_path / "results"), "--name", "exp")
    assert proc.returncode == 1, proc.stderr  # boom failed: the run says so in its exit code and last line
    assert proc.stderr.strip().splitlines()[-1].startswith("error: 1 of 3 trial(s) measured nothing (1 failed); "
                                                           "first: boom/study_0/tiny_digits/trial_0: RuntimeError")
    root = tmp_path / "results" / "exp"
    experiment = json.loads((root / "experiment.json").read_text())
    assert experiment["workloads"]["tiny_digits"]["hash"] == find_workload(
        "tiny_digits", [tiny_workloads]).hash
    trials = store.load_trials(root).set_index("submission")
    assert trials.loc["adamw", "status"] == "reached"
    assert trials.loc["boom", "status"] == "failed" and "planted failure" in trials.loc["boom", "error"]
    assert trials.loc["explode", "status"] == "diverged"
    evals = store.load_evals(root)
    assert list(evals.columns[4:4 + len(store.EVAL_BASE_COLUMNS)]) == list(store.EVAL_BASE_COLUMNS)
    adamw = evals[evals.submission == "adamw"]
    assert adamw["step"].iloc[-1] == trials.loc["adamw", "steps_to_target"]
    assert "What each trial reached" in proc.stdout and "reached" in proc.stdout


@pytest.mark.slow  # four trials in a subprocess run
def test_external_tuning_draws_search_points_and_studies(tmp_path, tiny_workloads):
    proc = run_cli("run", "--workloads", "tiny_digits", "--submissions", "adamw", "--ruleset", "external",
                   "--trials", "2", "--studies", "2", "--workloads-dir", str(tiny_workloads),
                   "--results", str(tmp_path), "--name", "ext")
    assert proc.returncode == 0, proc.stderr
    trials = store.load_trials(tmp_path / "ext")
    assert len(trials) == 4 and set(trials.ruleset) == {"external"}
    rates = [h["learning_rate"] for h in trials.hparams]
    assert len(set(rates)) == 4  # each study draws its own points
    assert all(1e-4 <= r <= 1e-1 for r in rates)  # submissions/adamw/search_space.yaml


@pytest.mark.slow  # waits out a 4 s wall-clock limit
def test_a_hung_trial_is_killed_and_recorded_as_timeout(planted_submissions):
    spec = TrialSpec(find_workload("digits_mlp"), "sleepy", str(planted_submissions / "sleepy"), {}, seed=0)
    executor = LocalExecutor(workers=1)
    finished = executor.run_one(spec, dataclasses.replace(executor.runtime_for(spec), wall_clock_limit=4))
    assert finished.result.status == "timeout"
    assert "no result after 4 s" in finished.result.error


@pytest.mark.slow  # a run in a subprocess that spends its whole budget
def test_self_tuning_multiplies_the_budget(tmp_path, tiny_workloads):
    proc = run_cli("run", "--workloads", "tiny_digits_hard", "--submissions", "sgd_nesterov",
                   "--workloads-dir", str(tiny_workloads), "--results", str(tmp_path), "--name", "self",
                   "--preset", "algoperf-v05", "--studies", "1")
    assert proc.returncode == 0, proc.stderr
    trial = store.load_trials(tmp_path / "self").iloc[0]
    assert trial.ruleset == "self" and trial.budget_seconds == 0.5 * 3
    assert trial.status == "budget_exhausted" and trial.submission_time > 1.5
