"""Scale ladders: a YAML `scales:` expands into one workload per rung (own name, own hash, the model
parameter set); the scaling figure's numbers are the hand-computed paired speed-ups; a real --scales run."""

from __future__ import annotations

import json
import math

import pytest

from optbench.errors import OptbenchError
from optbench.report.scaling import draw_scaling
from optbench.scoring.scaling import rung_table, speedups
from optbench.workloads import load_workload_file
from optbench.workloads.scales import expand, scale_of
from tests.conftest import run_cli, write

LADDER = """
name: tiny_ladder
version: 1
description: digits MLP at several widths
dataset: {{name: digits, params: {{seed: 0}}}}
model: {{name: mlp, params: {{hidden: 32}}}}
loss: cross_entropy
metrics: [accuracy]
target: {{metric: validation/accuracy, value: 0.5, mode: max}}
budget: {{seconds: 30, step_hint: 40, steps: 40}}
eval: {{every_steps: 10}}
batch_size: 64
{scales}
"""


def ladder(tmp_path, scales="scales: {width: [8, 16, 32]}"):
    return load_workload_file(write(tmp_path / "wl" / "t" / "tiny_ladder.yaml", LADDER.format(scales=scales)))


def test_each_rung_is_its_own_workload_with_its_own_hash(tmp_path):
    spec = ladder(tmp_path)
    plain = load_workload_file(write(tmp_path / "plain" / "tiny_ladder.yaml", LADDER.format(scales="")))
    assert spec.hash == plain.hash  # declaring a ladder does not change the workload itself
    rungs = expand([spec], "all")
    assert [r.name for r in rungs] == ["tiny_ladder_width8", "tiny_ladder_width16", "tiny_ladder_width32"]
    assert [r.model.params["hidden"] for r in rungs] == [8, 16, 32]
    assert len({r.hash for r in rungs} | {spec.hash}) == 4
    assert all(r.scale == {"of": "tiny_ladder", "axis": "width", "value": v} for r, v in zip(rungs, (8, 16, 32)))
    assert all(r.target == spec.target for r in rungs)  # one target shared by default
    assert scale_of(spec, 16).hash == rungs[1].hash  # deterministic
    assert [r.name for r in expand([spec], "8,32")] == ["tiny_ladder_width8", "tiny_ladder_width32"]
    assert expand([spec], None) == [spec]


def test_targets_per_rung_and_the_tokens_axis(tmp_path):
    spec = ladder(tmp_path, "scales: {width: [8, 16], targets: [0.4, 0.6]}")
    assert [r.target.value for r in expand([spec], "all")] == [0.4, 0.6]
    tokens = expand([ladder(tmp_path, "scales: {tokens: [20, 80]}")], "all")
    assert [(r.budget.steps, r.budget.step_hint) for r in tokens] == [(20, 20), (80, 80)]
    depth = ladder(tmp_path, "scales: {depth: [1, 2], set: model.params.hidden}")
    assert [r.model.params["hidden"] for r in expand([depth], "all")] == [1, 2]


@pytest.mark.parametrize("scales, message", [
    ("scales: {width: [8]}", "at least two distinct"),
    ("scales: {width: [8, 8]}", "at least two distinct"),
    ("scales: {width: [8, 16], depth: [1, 2]}", "exactly one axis"),
    ("scales: {height: [1, 2]}", "unknown key scales.height"),
    ("scales: {depth: [1, 2]}", "no model parameter named layers or depth"),
    ("scales: {width: [8, 16], targets: [0.5]}", "targets: expected 2 numbers"),
    ("scales: {width: [8, 16], set: loss.x}", "set: expected"),
    ("scales: [8, 16]", "expected a mapping"),
])
def test_bad_ladders_are_refused_in_one_line(tmp_path, scales, message):
    with pytest.raises(OptbenchError, match=message) as info:
        ladder(tmp_path, scales)
    assert "\n" not in str(info.value) and "tiny_ladder.yaml: " in str(info.value) and "scales" in str(info.value)


def test_bad_scales_option(tmp_path):
    spec = ladder(tmp_path)
    with pytest.raises(OptbenchError, match="only width"):
        expand([spec], "64")
    with pytest.raises(OptbenchError, match="expected all"):
        expand([spec], "big")
    plain = load_workload_file(write(tmp_path / "plain" / "tiny_ladder.yaml", LADDER.format(scales="")))
    with pytest.raises(OptbenchError, match="none of the workloads declares scales"):
        expand([plain], "all")


def hand_made_results(root):
    """Two rungs x two submissions x two studies; steps to target chosen by hand (None: not reached)."""
    steps = {  # (submission, value, study) -> steps to target, for each trial of the study
        ("adamw", 8, 0): [100], ("adamw", 8, 1): [200],
        ("sgd", 8, 0): [50], ("sgd", 8, 1): [400],
        ("adamw", 16, 0): [100], ("adamw", 16, 1): [None],
        ("sgd", 16, 0): [300, 200], ("sgd", 16, 1): [100],  # study 0: its fastest trial (200) counts
    }
    params = {8: 1000, 16: 3000}
    workloads = {f"lad_width{v}": {"hash": f"h{v}", "spec": {"scale": {"of": "lad", "axis": "width", "value": v}}}
                 for v in params}
    workloads["other"] = {"hash": "o", "spec": {}}
    (root).mkdir(parents=True)
    (root / "experiment.json").write_text(json.dumps({"workloads": workloads}))
    for (sub, value, study), trials in steps.items():
        for i, s in enumerate(trials):
            folder = root / sub / f"study_{study}" / f"lad_width{value}" / f"trial_{i}"
            folder.mkdir(parents=True)
            record = {"submission": sub, "study": study, "trial": i, "workload": f"lad_width{value}",
                      "status": "reached" if s else "budget_exhausted", "steps_to_target": s,
                      "cpu_time_to_target": s / 100 if s else None, "time_to_target": s,
                      "clock": "steps", "num_params": params[value]}
            (folder / "trial.json").write_text(json.dumps(record))


def test_scaling_numbers_match_hand_made_results(tmp_path):
    root = tmp_path / "res"
    hand_made_results(root)
    table = speedups(rung_table(root), "adamw")
    sgd = table[(table["submission"] == "sgd") & (table["measure"] == "steps")].set_index("value")
    # rung 8: study 0 100/50 = 2, study 1 200/400 = 0.5 -> median 1.25, band [0.5, 2]
    assert sgd.loc[8, ["median", "low", "high", "studies"]].tolist() == [1.25, 0.5, 2.0, 2]
    assert sgd.loc[8, "num_params"] == 1000 and sgd.loc[16, "num_params"] == 3000
    # rung 16: study 0 100/200 = 0.5; study 1 the reference never reached: inf
    assert sgd.loc[16, "low"] == 0.5 and math.isinf(sgd.loc[16, "high"])
    seconds = table[(table["submission"] == "sgd") & (table["measure"] == "seconds")].set_index("value")
    assert seconds.loc[8, "median"] == pytest.approx(1.25)  # CPU seconds are steps / 100 here
    ref = table[(table["submission"] == "adamw") & (table["measure"] == "steps")].set_index("value")
    assert ref.loc[8, "median"] == 1.0 and ref.loc[16, "studies"] == 1  # inf/inf is no number
    fig = draw_scaling(table, "lad", "adamw")
    line = next(drawn for drawn in fig.axes[0].lines if drawn.get_label() == "sgd")
    assert list(line.get_xdata()) == [1000.0]  # the infinite median of rung 16 cannot be drawn
    assert list(line.get_ydata()) == [1.25]
    with pytest.raises(OptbenchError, match="--reference nadamw"):
        speedups(rung_table(root), "nadamw")


@pytest.mark.slow
def test_run_scales_all_and_the_scaling_command(tmp_path):
    write(tmp_path / "wl" / "t" / "tiny_ladder.yaml", LADDER.format(scales="scales: {width: [8, 32]}"))
    done = run_cli("run", "--workloads", "tiny_ladder", "--submissions", "adamw,sgd_nesterov", "--scales", "all",
                   "--workloads-dir", str(tmp_path / "wl"), "--results", str(tmp_path / "r"), "--name", "x",
                   "--clock", "steps", "--workers", "2")
    assert done.returncode == 0, done.stderr
    experiment = json.loads((tmp_path / "r" / "x" / "experiment.json").read_text())
    assert set(experiment["workloads"]) == {"tiny_ladder_width8", "tiny_ladder_width32"}
    assert len({w["hash"] for w in experiment["workloads"].values()}) == 2
    params = {json.loads(p.read_text())["num_params"]
              for p in (tmp_path / "r" / "x").glob("adamw/study_0/*/trial_0/trial.json")}
    assert params == {64 * 8 + 8 + 8 * 10 + 10, 64 * 32 + 32 + 32 * 10 + 10}
    done = run_cli("scaling", str(tmp_path / "r" / "x"), "--reference", "adamw")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r" / "x" / "plots" / "scaling_tiny_ladder.png").is_file()


@pytest.mark.slow  # two reports rendered (~2.5 s)
def test_the_report_has_a_lab_section_only_when_lab_results_exist(tmp_path):
    from optbench.report.html import write_report

    root = tmp_path / "res"
    hand_made_results(root)
    page = write_report(root, tmp_path / "r.html")[0].read_text()
    assert 'id="lab"' in page and "Speed-up against model size: lad" in page
    (root / "experiment.json").write_text(json.dumps({"workloads": {}}))
    assert 'id="lab"' not in write_report(root, tmp_path / "r2.html")[0].read_text()
