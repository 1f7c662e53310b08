"""The results folder: atomic files, completion marker, reading back into pandas."""

from __future__ import annotations

import json
import math

from optbench import store
from optbench.spec import TrialResult, TrialSpec
from optbench.workloads import find_workload


def make_spec(**kw) -> TrialSpec:
    return TrialSpec(find_workload("digits_mlp"), "adamw", "submissions/adamw", {"learning_rate": 1e-3}, seed=7, **kw)


def test_write_and_read_back(tmp_path):
    spec = make_spec(study=1, trial=2)
    result = TrialResult("reached", steps_to_target=40, time_to_target=0.5, steps=40, best_metric=0.97)
    evals = [{"step": 1, "submission_time": 0.01, "eval_time": 0.0, "total_time": 0.1, "train/loss": 2.3,
              "validation/accuracy": 0.1},
             {"step": 40, "submission_time": 0.5, "eval_time": 0.01, "total_time": 0.7, "train/loss": 0.2,
              "validation/accuracy": 0.97}]
    folder = store.write_trial(tmp_path, spec, result, evals)
    assert folder == tmp_path / "adamw" / "study_1" / "digits_mlp" / "trial_2"
    assert store.is_trial_complete(folder)
    record = json.loads((folder / "trial.json").read_text())
    assert record["workload_hash"] == spec.workload.hash and record["hparams"] == {"learning_rate": 1e-3}
    trials = store.load_trials(tmp_path)
    assert trials.loc[0, "steps_to_target"] == 40 and trials.loc[0, "status"] == "reached"
    frame = store.load_evals(tmp_path)
    assert list(frame.columns) == ["submission", "study", "workload", "trial", *store.EVAL_BASE_COLUMNS,
                                   "validation/accuracy"]
    assert frame["validation/accuracy"].tolist() == [0.1, 0.97]
    assert not list(folder.glob(".*.tmp"))  # no temp files left behind


def test_not_reached_is_nan_and_inf_is_never_written(tmp_path):
    store.write_trial(tmp_path, make_spec(), TrialResult("diverged", best_metric=math.inf), [])
    text = (tmp_path / make_spec().folder / "trial.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    trials = store.load_trials(tmp_path)
    assert math.isnan(trials.loc[0, "time_to_target"])


def test_a_folder_without_trial_json_is_not_complete(tmp_path):
    folder = tmp_path / "adamw" / "study_0" / "digits_mlp" / "trial_0"
    store.atomic_write_text(folder / "evals.csv", "step\n1\n")
    assert not store.is_trial_complete(folder)
    (folder / "trial.json").write_text('{"status": ')  # damaged by hand
    assert not store.is_trial_complete(folder)
    assert store.load_trials(tmp_path).empty
