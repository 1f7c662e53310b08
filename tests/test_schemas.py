"""One schema per on-disk format, one formatter: every refusal is one line naming the file and the key
(``<file>: <key.path>: expected ..., got ...``, ``unknown key X; allowed keys: ...``, ``missing required key X``).

In-process and fast; the same files through the CLI are in test_bad_input*.py and the fuzz suite."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optbench.errors import OptbenchError
from optbench.report.baseline_schema import BaselineFile
from optbench.schemas import check
from optbench.scoring.sweep_schema import SweepFile
from optbench.scoring.targets_schema import AlgoPerfTargetsFile
from optbench.submissions.schema import CompanionYaml, SubmissionYaml
from optbench.workloads.schema import SuitesFile, WorkloadModel

WORKLOAD = {"name": "w", "version": 1, "dataset": "digits", "model": {"name": "mlp", "params": {"hidden": 8}},
            "loss": "cross_entropy", "target": {"metric": "validation/accuracy", "value": 0.9, "mode": "max"},
            "budget": {"seconds": 1, "step_hint": 100}, "eval": {"every_steps": 10}, "batch_size": 32}
BASELINE = {"format": "optbench-baseline", "format_version": 2, "workloads": {"w": {"hash": "h"}},
            "results": {"w": {"adamw": {"study": [0, 1], "steps_to_target": [10, None], "time_to_target": [1.5, None],
                                        "best_metric": [0.9, None]}}}}


def refusal(model, data, source="f.yaml") -> str:
    with pytest.raises(OptbenchError) as info:
        check(model, data, source)
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"{source}: "), text
    return text


@pytest.mark.parametrize("model, data, line", [
    (WorkloadModel, {**WORKLOAD, "colour": "red"}, "f.yaml: unknown key colour; allowed keys: batch_size, budget, "
     "dataset, description, eval, l2, loss, metrics, model, name, notes, scales, target, version"),
    (WorkloadModel, {k: v for k, v in WORKLOAD.items() if k != "version"}, "f.yaml: missing required key version"),
    (WorkloadModel, {**WORKLOAD, "budget": {"seconds": True, "step_hint": 1}},
     "f.yaml: budget.seconds: expected a finite number, got True"),
    (WorkloadModel, {**WORKLOAD, "batch_size": 2**60}, "f.yaml: batch_size: expected an integer >= 1 (and <= 2**53)"),
    (WorkloadModel, {**WORKLOAD, "budget": {"seconds": 1, "step_hint": 1, "x": 1}},
     "f.yaml: unknown key budget.x; allowed keys: max_steps, seconds, step_hint, steps"),
    (WorkloadModel, {**WORKLOAD, "scales": {"width": [8, 16], "targets": [1.0]}},
     "f.yaml: scales.targets: expected 2 numbers, one per width value, got [1.0]"),
    (SuitesFile, {"s": {"workloads": ["w"], "clock": "hours"}}, "f.yaml: s.clock: expected wall, cpu or steps"),
    (SuitesFile, {"s": {"workloads": ["w"], "x": 1}}, "f.yaml: unknown key s.x; allowed keys: clock, workloads"),
    (SubmissionYaml, {"optimizer": "torch.optim.SGD", 1: 2}, "f.yaml: unknown key 1; allowed keys: base, closure, "
     "defaults, description, groups, optimizer"),
    (SubmissionYaml, {"defaults": [1]}, "f.yaml: defaults: expected a mapping of hyperparameter to value"),
    (CompanionYaml, {"form": "yaml"}, "f.yaml: form: expected algoperf"),
    (BaselineFile, {**BASELINE, "results": {"w": {"adamw": {**BASELINE["results"]["w"]["adamw"], "study": [0, 0]}}}},
     "f.yaml: results.w.adamw.study: expected a list of distinct study numbers >= 0, got [0, 0]"),
    (BaselineFile, {**BASELINE, "results": {"w": {"adamw": {**BASELINE["results"]["w"]["adamw"], "x": 1}}}},
     "f.yaml: unknown key results.w.adamw.x; allowed keys: best_metric, steps_to_target, study, time_to_target"),
    (BaselineFile, {**BASELINE, "workloads": {}}, "f.yaml: results: expected a workload with a hash under workloads"),
    (AlgoPerfTargetsFile, {"base_workloads": ["a"], "workloads": {"a": {"target_metric_name": "loss",
                                                                        "validation_target_value": float("inf")}}},
     "f.yaml: workloads.a.validation_target_value: expected a finite number, got inf"),
    (SweepFile, {"axes": [{"name": "lr", "values": [1e-3, 1e-2]}]},
     "f.yaml: axes: expected two axes of different hyperparameters"),
])
def test_each_format_refuses_in_one_line_naming_file_and_key(model, data, line):
    assert refusal(model, data).startswith(line)


def test_good_files_pass_and_keep_their_values():
    workload = check(WorkloadModel, WORKLOAD, "f.yaml")
    assert workload.dataset.name == "digits" and workload.budget.seconds == 1.0 and workload.metrics == ["loss"]
    baseline = check(BaselineFile, BASELINE, "b.json")
    entry = baseline.results["w"]["adamw"]
    assert entry.steps_to_target == [10.0, float("inf")] and entry.studies == [0, 1] and baseline.clock == "wall"
    targets = check(AlgoPerfTargetsFile, {"_comment": "AlgoPerf's own keys pass", "base_workloads": ["a"],
                                          "workloads": {"a": {"target_metric_name": "loss",
                                                              "validation_target_value": 0.1, "step_hint": 9}}}, "t")
    assert targets.workloads["a"].validation_target_value == 0.1


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5),
                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=3)))
def test_any_value_of_a_count_is_a_count_or_one_line(value):
    data = {**WORKLOAD, "batch_size": value}
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**53
    if ok:
        assert check(WorkloadModel, data, "f.yaml").batch_size == value
    else:
        assert refusal(WorkloadModel, data).startswith("f.yaml: batch_size: expected an integer >= 1")
