"""Reading AlgoPerf's log trees and target files, and AlgoPerf's scoring rules on them.

Every tree here is written by the test: a few eval_measurements.csv files with the
columns AlgoPerf logs, small enough that the expected scores are computed by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from optbench.errors import OptbenchError
from optbench.scoring import algoperf_logs as logs
from optbench.scoring import algoperf_targets, scoreboard
from optbench.scoring import algoperf_tree as tree

COLUMNS = ["global_step", "score", "accumulated_submission_time", "accumulated_eval_time", "total_duration",
           "preemption_count", "train/loss"]

#: A v0.5-shaped targets file: two base workloads, one held-out variant, one extra.
TARGETS = {
    "benchmark_version": "0.5",
    "base_workloads": ["ogbg", "wmt"],
    "held_out_workloads": ["ogbg_model_size"],
    "workloads": {
        "ogbg": {"target_metric_name": "mean_average_precision", "validation_target_value": 0.28, "step_hint": 80},
        "ogbg_model_size": {"target_metric_name": "mean_average_precision", "validation_target_value": 0.27,
                            "step_hint": 80},
        "wmt": {"target_metric_name": "bleu", "validation_target_value": 30.0, "step_hint": 133},
        "mnist": {"target_metric_name": "loss", "validation_target_value": 0.3, "step_hint": 10},
    },
}
METRIC = {"ogbg": "mean_average_precision", "ogbg_model_size": "mean_average_precision", "wmt": "bleu",
          "mnist": "loss", "foo": "loss"}


def write_targets(path: Path, data: dict | None = None) -> Path:
    path.write_text(json.dumps(data or TARGETS))
    return path


def write_trial(folder: Path, workload: str, metric: list[float], score: list[float], framework: str = "jax",
                drop: tuple[str, ...] = ()) -> Path:
    """``folder`` = <submission>/study_<j>; writes <workload>_<framework>/trial_<i>/eval_measurements.csv."""
    wl_dir = folder / f"{workload}_{framework}"
    trial = wl_dir / f"trial_{len(list(wl_dir.glob('trial_*'))) + 1}"
    trial.mkdir(parents=True)
    name = METRIC[workload]
    columns = [c for c in [*COLUMNS, f"validation/{name}", f"test/{name}"] if c not in drop]
    lines = [",".join(columns)]
    for i, (m, s) in enumerate(zip(metric, score)):
        row = {"global_step": 100 * (i + 1), "score": s, "accumulated_submission_time": s,
               "accumulated_eval_time": 2.0 * i, "total_duration": s + 3 * i, "preemption_count": 0,
               "train/loss": 1.0 / (i + 1), f"validation/{name}": m, f"test/{name}": m}
        lines.append(",".join("" if isinstance(row[c], float) and math.isnan(row[c]) else str(row[c])
                              for c in columns))
    (trial / tree.MEASUREMENTS_FILE).write_text("\n".join(lines) + "\n")
    return trial


# ------------------------------------------------------------------ targets


def test_load_targets_v05_shape(tmp_path):
    t = algoperf_targets.load_targets(write_targets(tmp_path / "t.json"))
    assert t.version == "0.5" and t.base == ("ogbg", "wmt") and t.held_out == ("ogbg_model_size",)
    assert t.variants == {"ogbg_model_size": "ogbg"}
    assert t.workloads["wmt"] == algoperf_targets.WorkloadTarget("validation/bleu", 30.0, minimize=False)
    assert t.workloads["mnist"].minimize is True
    assert t.base_of("wmt_glu_tanh") == "wmt"


def test_load_targets_shipped_files_if_present():
    shared = Path("/work/shared/algoperf")
    if not shared.is_dir():
        pytest.skip("AlgoPerf's target files are not in this checkout")
    v05 = algoperf_targets.load_targets(shared / "workload_targets_v05.json")
    assert len(v05.base) == 8 and len(v05.held_out) == 6
    assert v05.variants["librispeech_conformer_layernorm"] == "librispeech_conformer"
    assert v05.workloads["librispeech_deepspeech"].minimize  # wer
    assert not v05.workloads["fastmri"].minimize  # ssim
    v06 = algoperf_targets.load_targets(shared / "workload_targets_v06.json")
    assert v06.held_out == () and v06.workloads["finewebedu_lm"].minimize  # ppl


def test_load_targets_goal_field_and_errors(tmp_path):
    data = json.loads(json.dumps(TARGETS))
    data["workloads"]["wmt"]["target_metric_name"] = "chrf"
    with pytest.raises(OptbenchError, match="metric 'chrf' is neither"):
        algoperf_targets.load_targets(write_targets(tmp_path / "a.json", data))
    data["workloads"]["wmt"]["target_metric_goal"] = "maximize"
    assert algoperf_targets.load_targets(write_targets(tmp_path / "b.json", data)).workloads["wmt"].minimize is False
    with pytest.raises(OptbenchError, match="no such file"):
        algoperf_targets.load_targets(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(OptbenchError, match="not valid JSON"):
        algoperf_targets.load_targets(tmp_path / "bad.json")
    with pytest.raises(OptbenchError, match="missing required key base_workloads"):
        algoperf_targets.load_targets(write_targets(tmp_path / "c.json", {"workloads": {}}))
    del data["workloads"]["ogbg"]
    with pytest.raises(OptbenchError, match="without a target: ogbg"):
        algoperf_targets.load_targets(write_targets(tmp_path / "d.json", data))


# ------------------------------------------------------------------ the tree


def test_names():
    assert tree.submission_name("shampoo-2024-05-01-12-00-00") == "shampoo"
    assert tree.submission_name("shampoo-v2") == "shampoo-v2"
    assert tree.workload_name("imagenet_resnet_pytorch") == "imagenet_resnet"
    assert tree.workload_name("ogbg_model_size_jax") == "ogbg_model_size"


def test_find_trial_logs_layouts(tmp_path):
    root = tmp_path / "logs"
    write_trial(root / "team_a" / "alpha" / "study_0", "wmt", [31], [10])  # with a <team>/ level
    write_trial(root / "beta" / "study_0", "wmt", [31], [10])
    write_trial(root / "beta-2024-05-01-12-00-00" / "study_0", "wmt", [31], [10])  # a re-run of beta
    write_trial(root / "beta" / "study_1", "ogbg", [0.3], [10])
    (root / "beta" / "notes").mkdir()
    (root / "empty_team").mkdir()
    found, problems = tree.find_trial_logs(root)
    assert sorted((t.submission, t.study, t.workload, t.trial) for t in found) == [
        ("alpha", 0, "wmt", 1), ("beta", 0, "wmt", 1), ("beta", 0, "wmt", 1), ("beta", 1, "ogbg", 1)]
    assert {Path(t.experiment).name for t in found if t.submission == "beta"} == {"beta", "beta-2024-05-01-12-00-00"}
    assert sorted(str(p) for p in problems) == [
        f"{root / 'beta' / 'notes'}: not a study_<j> folder; ignored",
        f"{root / 'empty_team'}: no study_<j> folders in it (not a submission); ignored",
    ]
    # the root may itself be one submission
    single, _ = tree.find_trial_logs(root / "beta")
    assert {t.submission for t in single} == {"beta"}
    # the output folder inside the logs folder is never read as a submission
    (root / "scores").mkdir()
    _, problems = tree.find_trial_logs(root, exclude=[root / "scores"])
    assert not any("scores" in p.path for p in problems)


# ------------------------------------------------------------------ one CSV

ACC = algoperf_targets.WorkloadTarget("validation/accuracy", 0.5, minimize=False)
LOSS = algoperf_targets.WorkloadTarget("validation/loss", 0.3, minimize=True)


def write_csv(folder: Path, text: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / tree.MEASUREMENTS_FILE).write_text(text)
    return str(folder)


def test_read_trial_first_hit(tmp_path):
    path = write_csv(tmp_path / "t", "global_step,score,validation/loss\n10,1.5,0.9\n20,3.0,0.3\n30,4.5,0.1\n")
    read = logs.read_trial(path, LOSS)
    assert (read.ok, read.n_evals, read.hit_index, read.time, read.steps, read.best_metric) == (
        True, 3, 1, 3.0, 20.0, 0.1)
    assert read.problems == []
    miss = logs.read_trial(path, algoperf_targets.WorkloadTarget("validation/loss", 0.05, True))
    assert (miss.hit_index, miss.time) == (-1, math.inf)


def test_read_trial_nan_never_hits_and_clock_fallback(tmp_path):
    path = write_csv(tmp_path / "t", "global_step,accumulated_submission_time,validation/accuracy\n"
                                     "1,5.0,nan\n2,6.0,\n3,7.0,0.6\n")
    read = logs.read_trial(path, ACC)
    assert (read.hit_index, read.time) == (2, 7.0)  # no `score` column: accumulated_submission_time


def test_read_trial_truncated_keeps_complete_rows(tmp_path):
    path = write_csv(tmp_path / "t", "global_step,score,validation/accuracy\n1,5.0,0.4\n2,6.0,0.6\n3,7.")
    read = logs.read_trial(path, ACC)
    assert (read.ok, read.n_evals, read.hit_index, read.time) == (True, 2, 1, 6.0)
    assert read.problems == ["eval_measurements.csv is truncated or malformed: kept 2 complete row(s), dropped 1"]


def test_read_trial_broken_files(tmp_path):
    empty = logs.read_trial(write_csv(tmp_path / "a", ""), ACC)
    assert not empty.ok and empty.problems == ["eval_measurements.csv is empty"]
    no_log = logs.read_trial(str(tmp_path / "nothing"), ACC)
    assert not no_log.ok and no_log.problems == ["no eval_measurements.csv"]
    header = logs.read_trial(write_csv(tmp_path / "b", "global_step,score,validation/accuracy\n"), ACC)
    assert header.ok and header.hit_index == -1 and "no evals" in header.problems[0]
    no_metric = logs.read_trial(write_csv(tmp_path / "c", "global_step,score,validation/loss\n1,2,0.1\n"), ACC)
    assert no_metric.ok and no_metric.hit_index == -1
    assert no_metric.problems == ["no column validation/accuracy (the target metric): counted as not reached"]
    no_clock = logs.read_trial(write_csv(tmp_path / "d", "global_step,validation/accuracy\n1,0.9\n"), ACC)
    assert no_clock.hit_index == -1 and "no clock column" in no_clock.problems[0]
    text = logs.read_trial(write_csv(tmp_path / "e", "global_step,score,validation/accuracy\n1,2,x\n2,3,0.7\n"), ACC)
    assert (text.hit_index, text.time) == (1, 3.0) and "non-numeric" in text.problems[0]


def test_read_trials_batched_equals_one_by_one(tmp_path):
    """Files sharing a header are parsed as one CSV; odd files alone. Same answers."""
    items = []
    for i in range(40):
        rows = "".join(f"{k},{i + k},0.{(i + k) % 10}\n" for k in range(i % 4))  # 0-3 evals
        items.append((write_csv(tmp_path / f"t{i}", f"global_step,score,validation/accuracy\n{rows}"), ACC))
    items.append((write_csv(tmp_path / "other", "score,validation/accuracy,global_step\n1,0.9,5\n"), ACC))
    items.append((write_csv(tmp_path / "cut", "global_step,score,validation/accuracy\n1,5,0.6\n2,6"), ACC))
    items.append((write_csv(tmp_path / "text", "global_step,score,validation/accuracy\n1,5,x\n"), ACC))
    items.append((str(tmp_path / "missing"), ACC))
    batched = logs.read_trials(items)
    alone = [logs.read_trial(path, target) for path, target in items]
    assert batched == alone
    expected = [next((k for k in range(i % 4) if (i + k) % 10 >= 5), -1) for i in range(40)]
    assert [r.hit_index for r in batched[:40]] == expected
    assert batched[40].hit_index == 0 and batched[40].time == 1.0  # another column order
    assert batched[41].problems and batched[42].problems and not batched[43].ok


# ------------------------------------------------------------------ AlgoPerf's rules, end to end in Python


def hand_tree(root: Path) -> Path:
    """alpha: ogbg 25 (trial_2 reaches the target at eval 0 after 25 s; trial_1 at eval 1 after
    20 s -- AlgoPerf takes trial_2), wmt 120, variant reached. beta: ogbg 30, wmt 80, but it
    misses the held-out variant, so its ogbg counts as missed.
    Ratios: alpha 1, 1.5 -> score (1.5 + 2.5 / 2) / 3 = 11/12; beta -, 1 -> 1/2."""
    a, b = root / "alpha" / "study_0", root / "beta" / "study_0"
    write_trial(a, "ogbg", [0.1, 0.29, 0.30], [10, 20, 30])
    write_trial(a, "ogbg", [0.29, 0.30], [25, 30])
    write_trial(a, "wmt", [20, 31], [50, 120])
    write_trial(a, "ogbg_model_size", [0.28], [40], framework="pytorch")
    write_trial(b, "ogbg", [0.2, 0.285], [15, 30])
    write_trial(b, "wmt", [31], [80])
    write_trial(b, "ogbg_model_size", [0.2, 0.25], [10, 20])
    return root


def test_algoperf_rules_hand_computed(tmp_path):
    root = hand_tree(tmp_path / "logs")
    targets = algoperf_targets.load_targets(write_targets(tmp_path / "t.json"))
    board = scoreboard.build_scoreboard(logs.load_algoperf_trials(root, targets), "algoperf")
    assert board.medians.loc["alpha"].to_dict() == {"ogbg": 25.0, "wmt": 120.0, "ogbg_model_size": 40.0}
    assert board.medians.loc["beta"].to_dict() == {"ogbg": 30.0, "wmt": 80.0, "ogbg_model_size": math.inf}
    assert board.workloads == ["ogbg", "wmt"]  # the held-out variant gates, it is not scored
    assert board.result.times.loc["beta", "ogbg"] == math.inf
    assert board.result.scores["alpha"] == pytest.approx(11 / 12)
    assert board.result.scores["beta"] == pytest.approx(0.5)
    chosen = board.trials[board.trials.chosen & (board.trials.workload == "ogbg")]
    assert chosen.set_index("submission")["trial"].to_dict() == {"alpha": 2, "beta": 1}
    # steps clock: the step at the same eval (global_step = 100 per eval)
    steps = scoreboard.build_scoreboard(logs.load_algoperf_trials(root, targets), "algoperf",
                                        scoreboard.ScoreSettings(clock="steps"))
    assert steps.medians.loc["alpha", "ogbg"] == 100.0 and steps.medians.loc["alpha", "wmt"] == 200.0


def test_algoperf_problems_are_reported_and_the_rest_scored(tmp_path):
    root = hand_tree(tmp_path / "logs")
    targets = algoperf_targets.load_targets(write_targets(tmp_path / "t.json"))
    write_trial(root / "beta" / "study_0", "mnist", [0.1], [5])  # known, but not scored in v0.5
    write_trial(root / "beta" / "study_0", "foo", [0.1], [5])  # unknown
    (root / "beta" / "study_0" / "wmt_jax" / "trial_2").mkdir()  # no log
    write_trial(root / "beta-2024-05-01-12-00-00" / "study_0", "wmt", [31], [70])  # a re-run: pooled
    board = scoreboard.build_scoreboard(logs.load_algoperf_trials(root, targets), "algoperf")
    messages = [str(p) for p in board.problems]
    assert any("mnist_jax: workload mnist is not scored in benchmark v0.5" in m for m in messages)
    assert any("foo_jax: unknown workload foo (not in" in m for m in messages)
    assert any(m.endswith("wmt_jax/trial_2: no eval_measurements.csv: trial dropped") for m in messages)
    assert any("wmt: 2 trials, expected 1" in m for m in messages)
    # both beta wmt trials reach the target at eval 0: the tie goes to the faster one (the re-run, 70 s)
    assert board.medians.loc["beta", "wmt"] == 70.0
    # alpha: ogbg r = 1; wmt r = 120/70 = 12/7, first reached on linspace(1, 4, 100) at i = 24
    # (1 + 3i/99 >= 12/7): the trapezoid gives 75.5 of 99 steps, so (1 + 75.5/99) / 2
    assert board.result.scores["alpha"] == pytest.approx((1 + 75.5 / 99) / 2)


def test_algoperf_missing_workload_is_inf_and_counted_over_base(tmp_path):
    root = tmp_path / "logs"
    write_trial(root / "solo" / "study_0", "wmt", [31], [10])
    write_trial(root / "solo" / "study_0", "ogbg_model_size", [0.3], [10])
    targets = algoperf_targets.load_targets(write_targets(tmp_path / "t.json"))
    board = scoreboard.build_scoreboard(logs.load_algoperf_trials(root, targets), "algoperf")
    assert board.medians.loc["solo", "ogbg"] == math.inf
    assert board.result.scores["solo"] == pytest.approx(0.5)  # 1 of 2 base workloads
    assert any("no trials for workload(s) ogbg" in str(p) for p in board.problems)


def test_algoperf_errors(tmp_path):
    targets = write_targets(tmp_path / "t.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OptbenchError, match="no AlgoPerf trial folders"):
        scoreboard.score_folder(tmp_path / "empty", "algoperf", targets=targets)
    with pytest.raises(OptbenchError, match="needs --targets"):
        scoreboard.score_folder(tmp_path / "empty", "algoperf")
