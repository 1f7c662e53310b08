"""`optbench score` end to end: the AlgoPerf tree through the real command line in a subprocess, the
rest through its entry point in this process (``tests.conftest.cli``).

Two inputs: an AlgoPerf-format tree written here (with a <team>/ level, a timestamped
re-run folder, a held-out variant), whose scores are computed by hand; and a results
folder of ours written with ``store.write_trial``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import cli

REPO = Path(__file__).resolve().parents[1]

TARGETS = {
    "benchmark_version": "0.5",
    "base_workloads": ["ogbg", "wmt"],
    "held_out_workloads": ["ogbg_model_size"],
    "workloads": {
        "ogbg": {"target_metric_name": "mean_average_precision", "validation_target_value": 0.28},
        "ogbg_model_size": {"target_metric_name": "mean_average_precision", "validation_target_value": 0.27},
        "wmt": {"target_metric_name": "bleu", "validation_target_value": 30.0},
    },
}
METRIC = {"ogbg": "mean_average_precision", "ogbg_model_size": "mean_average_precision", "wmt": "bleu",
          "nonsense": "loss"}


def optbench_score(*args: object) -> subprocess.CompletedProcess[str]:
    """The real CLI, as a user runs it (the package need not be installed)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "optbench.cli", "score", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)


def write_trial(study: Path, workload: str, metric: list[float], score: list[float]) -> None:
    wl = study / f"{workload}_jax"
    trial = wl / f"trial_{len(list(wl.glob('trial_*'))) + 1}"
    trial.mkdir(parents=True)
    name = METRIC[workload]
    lines = [f"global_step,score,accumulated_submission_time,accumulated_eval_time,total_duration,"
             f"preemption_count,train/loss,validation/{name},test/{name}"]
    lines += [f"{100 * (i + 1)},{s},{s},{i},{s + i},0,0.5,{m},{m}" for i, (m, s) in enumerate(zip(metric, score))]
    (trial / "eval_measurements.csv").write_text("\n".join(lines) + "\n")


ALPHA_SCORE = (1 + 75.5 / 99) / 2


@pytest.fixture
def algoperf_tree(tmp_path: Path) -> tuple[Path, Path]:
    """alpha (in team_a/): ogbg 25 s -- AlgoPerf's trial choice: trial_2 reaches the target at
    eval 0 (25 s), trial_1 at eval 1 (20 s) --, wmt 120 s, variant reached.
    beta: ogbg 30 s, wmt 80 s in beta/ and 70 s in its re-run folder (same eval index: the
    faster wins, 70 s), variant missed -> its ogbg counts as missed.
    Ratios alpha 1, 12/7 -> score (1 + 75.5/99)/2 (12/7 is first reached at tau index 24);
    beta -, 1 -> 1/2."""
    root = tmp_path / "logs"
    a = root / "team_a" / "alpha" / "study_0"
    b = root / "team_b" / "beta" / "study_0"
    write_trial(a, "ogbg", [0.1, 0.29, 0.30], [10, 20, 30])
    write_trial(a, "ogbg", [0.29, 0.30], [25, 30])
    write_trial(a, "wmt", [20, 31], [50, 120])
    write_trial(a, "ogbg_model_size", [0.28], [40])
    write_trial(b, "ogbg", [0.2, 0.285], [15, 30])
    write_trial(b, "wmt", [31], [80])
    write_trial(b, "ogbg_model_size", [0.2, 0.25], [10, 20])
    write_trial(root / "team_b" / "beta-2024-05-01-12-00-00" / "study_0", "wmt", [31], [70])
    targets = tmp_path / "workload_targets_v05.json"
    targets.write_text(json.dumps(TARGETS))
    return root, targets


@pytest.mark.slow  # a real subprocess on an AlgoPerf tree (~3.5 s); the fast lane reads and scores AlgoPerf trees in-process (test_algoperf_logs)
def test_algoperf_tree_scored_end_to_end(algoperf_tree, tmp_path):
    root, targets = algoperf_tree
    out = tmp_path / "scores"
    done = optbench_score(root, "--format", "algoperf", "--targets", targets, "--out", out, "--json",
                          "--trials", "1")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    scores = {s["submission"]: s["score"] for s in summary["submissions"]}
    assert scores == pytest.approx({"alpha": ALPHA_SCORE, "beta": 0.5})
    assert summary["workloads"] == ["ogbg", "wmt"]
    beta = next(s for s in summary["submissions"] if s["submission"] == "beta")
    assert beta["time_to_target"] == {"ogbg": 30.0, "ogbg_model_size": None, "wmt": 70.0}
    # the two trials that break the expected count of 1 are reported, the rest scored
    assert [p["message"] for p in summary["problems"]] == ["ogbg: 2 trials, expected 1", "wmt: 2 trials, expected 1"]
    assert "warning:" in done.stderr

    for name in ("time_to_targets.csv", "scores.csv", "performance_profiles.csv", "trial_summary.csv",
                 "workload_summary.csv", "warnings.txt"):
        assert (out / name).is_file(), name
    assert (out / "performance_profile.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (out / "performance_profile.svg").read_text()
    profiles = pd.read_csv(out / "performance_profiles.csv", index_col=0)
    assert profiles.shape == (2, 100) and float(profiles.columns[-1]) == 4.0
    assert profiles.loc["beta"].eq(0.5).all()
    times = pd.read_csv(out / "time_to_targets.csv", index_col=0)
    assert math.isinf(times.loc["beta", "ogbg_model_size"]) and times.loc["alpha", "ogbg"] == 25.0
    trials = pd.read_csv(out / "trial_summary.csv")
    chosen = trials[trials.chosen & (trials.workload == "ogbg")].set_index("submission")["trial"]
    assert chosen.to_dict() == {"alpha": 2, "beta": 1}
    assert len(trials) == 8
    assert pd.read_csv(out / "scores.csv", index_col=0)["rank"].to_dict() == {"alpha": 1, "beta": 2}


def test_strict_turns_warnings_into_a_one_line_error(algoperf_tree, tmp_path):
    root, targets = algoperf_tree
    write_trial(root / "team_a" / "alpha" / "study_0", "nonsense", [0.1], [1])
    (root / "team_a" / "alpha" / "study_0" / "wmt_jax" / "trial_9").mkdir()
    relaxed = cli("score", root, "--format", "algoperf", "--targets", targets, "--out", tmp_path / "o1")
    assert relaxed.returncode == 0, relaxed.stderr
    assert "unknown workload nonsense" in relaxed.stderr and "trial_9: no eval_measurements.csv" in relaxed.stderr
    assert "alpha" in relaxed.stdout and "0.8813" in relaxed.stdout  # the rest is scored; the table
    strict = cli("score", root, "--format", "algoperf", "--targets", targets, "--out", tmp_path / "o2", "--strict")
    assert strict.returncode == 2
    assert strict.stderr.startswith("error: --strict:") and strict.stderr.count("\n") == 1, strict.stderr
    assert "Traceback" not in strict.stderr and not (tmp_path / "o2").exists()


def write_results(root: Path) -> None:
    """adamw reaches w1 in 10/11/12 s (median 11) and w2 in 25 s in 2 of 3 studies;
    sgd w1 in 16 s, w2 in 10 s. Steps = 10 x seconds."""
    sys.path.insert(0, str(REPO))
    from optbench import store
    from optbench.spec import Budget, ComponentRef, EvalPolicy, Target, TrialResult, TrialSpec, WorkloadSpec

    def workload(name: str) -> WorkloadSpec:
        return WorkloadSpec(name, 1, "", ComponentRef("mnist1d"), ComponentRef("mlp"), ComponentRef("cross_entropy"),
                            Target("validation/accuracy", 0.9, "max"), Budget(60.0, 1000), EvalPolicy(every_steps=10),
                            32)

    times = {("adamw", "w1"): [10.0, 11.0, 12.0], ("adamw", "w2"): [None, 25.0, 25.0],
             ("sgd", "w1"): [16.0, 16.0, 16.0], ("sgd", "w2"): [10.0, 10.0, 10.0]}
    for (sub, wl), per_study in times.items():
        for study, seconds in enumerate(per_study):
            spec = TrialSpec(workload(wl), sub, ".", {"lr": 0.1}, seed=study, study=study, trial=0)
            result = TrialResult("reached" if seconds else "budget_exhausted", time_to_target=seconds,
                                 steps_to_target=int(seconds * 10) if seconds else None, steps=100)
            store.write_trial(root, spec, result, [{"step": 10, "submission_time": 1.0, "eval_time": 0.1,
                                                    "total_time": 1.1, "train/loss": 0.5}])


def test_our_results_folder_end_to_end(tmp_path):
    root = tmp_path / "results" / "exp1"
    write_results(root)
    table = cli("score", root)
    assert table.returncode == 0, table.stderr
    assert "adamw" in table.stdout and "sgd" in table.stdout and "score" in table.stdout
    assert (root / "scores" / "scores.csv").is_file() and (root / "scores" / "performance_profile.svg").is_file()

    done = cli("score", root, "--clock", "steps", "--tau-max", "3", "--reference", "sgd", "--bootstrap", "50",
                          "--json", "--out", tmp_path / "s")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["clock"], summary["tau_max"], summary["reference"], summary["ruleset"]) == (
        "steps", 3.0, "sgd", "external")
    adamw = next(s for s in summary["submissions"] if s["submission"] == "adamw")
    assert adamw["time_to_target"] == {"w1": 110.0, "w2": 250.0}
    # ratios to sgd: 110/160 (counts at every tau), 250/100 -> rho = 1/2, then 1 from tau = 2.5.
    # On the grid 1 + k h (h = 2/99) the step falls between k = 74 and 75, so the trapezoid
    # area is 0.5 (74 h + h/2) + 1 (24 h + h/2) = 61.75 h; divided by tau_max - 1 = 2.
    assert adamw["ratio"]["w2"] == 2.5 and adamw["score"] == pytest.approx(61.75 * (2 / 99) / 2)
    lo, hi = adamw["score_ci"]
    assert 0 <= lo <= hi <= 1


@pytest.mark.parametrize("args, message", [
    (["{tmp}/missing"], "error: {tmp}/missing: no such results folder"),
    (["{tmp}", "--format", "csv"], "error: --format csv: expected optbench or algoperf"),
    (["{tmp}", "--clock", "hours"], "error: --clock hours: expected wall, cpu or steps"),
    (["{tmp}", "--format", "algoperf"], "error: --format algoperf needs --targets"),
    (["{tmp}"], "error: {tmp}: no finished trials"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    done = cli("score", *(a.format(tmp=tmp_path) for a in args))
    assert done.returncode == 2
    assert done.stderr.startswith(message.format(tmp=tmp_path)) and done.stderr.count("\n") == 1, done.stderr
