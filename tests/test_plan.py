"""The plan: seeds and folders, its record in experiment.json, and rebuilding it to resume
(what is checked, what --force lets through) — without running a trial."""

from __future__ import annotations

import json

import pytest

from optbench import store
from optbench.errors import OptbenchError
from optbench.experiment import start_experiment
from optbench.plan import plan_from_config, resume_plan, trial_entry, trial_seed
from optbench.spec import RunConfig
from optbench.submissions import find_submission
from optbench.workloads import find_workload
from tests.test_resume import cli, make_workloads

CONFIG = RunConfig(workloads=("rdigits", "rdigits_long"), submissions=("tadam",), ruleset="external", studies=2,
                   trials=3, seed=7)


@pytest.fixture
def experiment(tmp_path):
    workloads = make_workloads(tmp_path / "workloads")
    wl = [find_workload("rdigits", [workloads]), find_workload("rdigits_long", [workloads])]
    subs = [find_submission("tadam", [tmp_path / "subs"])]
    specs = plan_from_config(wl, subs, CONFIG)
    root = tmp_path / "results" / "exp"
    start_experiment(root, specs, CONFIG)
    return root, specs, workloads


def test_the_plan_expands_studies_workloads_submissions_trials(experiment):
    root, specs, _ = experiment
    assert len(specs) == 2 * 2 * 3
    assert len({s.folder for s in specs}) == len(specs)
    assert specs[0].folder == "tadam/study_0/rdigits/trial_0"
    assert specs[0].seed == trial_seed(7, "rdigits", 0, 0) != specs[1].seed
    rates = [s.hparams["learning_rate"] for s in specs if s.workload.name == "rdigits"]
    assert len(set(rates)) == 6  # each study its own points


def test_experiment_json_holds_the_whole_plan_and_resume_rebuilds_it(experiment):
    root, specs, _ = experiment
    record = json.loads((root / "experiment.json").read_text())
    assert record["trials"] == [trial_entry(s) for s in specs]
    assert set(record["workloads"]) == {"rdigits", "rdigits_long"}
    assert record["workloads"]["rdigits"]["spec"]["budget"]["max_steps"] == 300
    resumed = resume_plan(root)
    assert resumed.changes == [] and resumed.notes == []
    assert [trial_entry(s) for s in resumed.specs] == record["trials"]
    assert [s.workload.hash for s in resumed.specs] == [s.workload.hash for s in specs]


def test_a_changed_plan_is_refused_and_force_runs_the_recorded_one(experiment):
    root, specs, _ = experiment
    record = store.read_experiment(root)
    record["config"]["seed"] = 8  # planning this config again gives other seeds and points
    store.write_experiment(root, record)
    with pytest.raises(OptbenchError, match="the plan changed") as err:
        resume_plan(root)
    assert "\n" not in str(err.value) and "--force" in str(err.value)
    resumed = resume_plan(root, force=True)
    assert any("plan changed" in c for c in resumed.changes)
    assert [s.seed for s in resumed.specs] == [s.seed for s in specs]


def test_a_moved_workload_yaml_resumes_from_the_recorded_definition(experiment):
    root, specs, workloads = experiment
    (workloads / "resume" / "rdigits_long.yaml").unlink()
    resumed = resume_plan(root)
    assert resumed.changes == [] and "rdigits_long: its YAML is gone" in resumed.notes[0]


def test_a_hand_edited_record_is_refused(experiment):
    root, _, _ = experiment
    record = store.read_experiment(root)
    record["workloads"]["rdigits"]["spec"]["batch_size"] = 32
    store.write_experiment(root, record)
    with pytest.raises(OptbenchError, match="does not hash to the recorded hash"):
        resume_plan(root)


def test_resume_takes_no_plan_options_and_force_needs_resume(experiment):
    root, _, _ = experiment
    code, out, err = cli("run", "--resume", root, "--trials", "4", "--seed", "1")
    assert code == 2 and "drop --trials, --seed" in err and err.count("\n") == 1
    code, out, err = cli("run", "--force", "--workloads", "rdigits")
    assert code == 2 and "--force only means something with --resume" in err
