"""The mini suite's workloads: each builds and learns, the convex optima are right, the suites hold."""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os

import numpy as np
import pytest
import torch

from optbench.spec import Budget, EvalPolicy, TrialSpec
from optbench.submissions import BUILTIN_SUBMISSIONS_DIR
from optbench.trial import run_trial
from optbench.workloads import find_workload, suites
from optbench.workloads.runtime import build_workload
from tests.conftest import one_thread

from .conftest import REPO, run_cli

NEW = ["lls", "char_lm", "grokking", "click_dlrm", "zipf_classes"]
MINI = ["logreg", "lls", "digits_mlp", "mnist1d_cnn", "char_lm", "grokking", "click_dlrm", "zipf_classes"]


def short_trial(name: str, steps: int = 20, **hparams) -> TrialSpec:
    wl = find_workload(name)
    wl = dataclasses.replace(wl, budget=Budget(60, wl.budget.step_hint, max_steps=steps),
                             eval=EvalPolicy(every_steps=steps // 2))
    return TrialSpec(wl, "adamw", str(BUILTIN_SUBMISSIONS_DIR / "adamw"), hparams, seed=0, stop_at_target=False)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "zipf_classes" else n
                                  for n in NEW])  # zipf_classes: 1000 classes, seconds
def test_new_workload_trains_and_its_metrics_are_finite(name):
    outcome = run_trial(short_trial(name, learning_rate=1e-2, warmup_fraction=0.0, weight_decay=0.0), one_thread())
    result = outcome.result
    assert result.status == "budget_exhausted" and result.steps == 20, result.error
    first, last = outcome.evals[0], outcome.evals[-1]
    assert first["step"] == 1 and last["step"] == 20
    assert last["train/loss"] < first["train/loss"]  # it learns
    wl = find_workload(name)
    assert wl.target.metric in last
    for key, value in last.items():
        assert math.isfinite(value), (key, value)


@pytest.mark.slow  # builds the 1000-class data set and trains on it
def test_zipf_classes_logs_the_loss_of_each_frequency_group():
    outcome = run_trial(short_trial("zipf_classes", steps=10, learning_rate=1e-2, warmup_fraction=0.0), one_thread())
    row = outcome.evals[-1]
    groups = [row[f"train/loss_{g}"] for g in ("head", "mid", "tail")]
    assert all(math.isfinite(v) and v > 0 for v in groups)
    # early on, the frequent classes are learnt first: head < mid < tail
    assert groups[0] < groups[1] < groups[2]
    data = build_workload(find_workload("zipf_classes")).data
    counts = torch.bincount(data.data["train"][1], minlength=1000)
    assert counts[0] > 100 * counts[-1] and counts.min() >= 1  # heavy tail, every class present
    # the group means weight the examples, so the split's loss is their example-weighted average
    from optbench.workloads.parts.metrics import class_group_bounds

    head_end, mid_end = class_group_bounds(1000)
    shares = [counts[:head_end].sum(), counts[head_end:mid_end].sum(), counts[mid_end:].sum()]
    mixed = sum(float(s) * g for s, g in zip(shares, groups)) / float(counts.sum())
    assert mixed == pytest.approx(row["train/loss"], rel=1e-4)


def _lbfgs(workload, model, iterations: int = 6) -> None:
    x, y = workload.data.data["train"]
    optimizer = torch.optim.LBFGS(model.parameters(), lr=1, max_iter=200, history_size=50, tolerance_grad=1e-12,
                                  tolerance_change=1e-15, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = workload.loss_fn(model, (x, y))
        loss.backward()
        return loss

    for _ in range(iterations):
        optimizer.step(closure)


@pytest.mark.parametrize("name", [pytest.param("logreg", marks=pytest.mark.slow), "lls"])  # logreg: seconds of L-BFGS
def test_convex_f_star_is_the_minimum_and_sigma2_is_the_gradient_variance_there(name):
    workload = build_workload(find_workload(name))
    meta = workload.data.metadata
    for key in ("f_star", "f_init", "L", "mu", "sigma2", "L_max"):
        assert math.isfinite(meta[key]) and meta[key] >= 0, key
    assert meta["grad_norm_at_f_star"] < 1e-8
    assert meta["L"] > meta["mu"] > 0 and meta["L_max"] >= meta["L"] * 0.99
    # a long full-batch run (L-BFGS on the workload's own loss) approaches f* but never beats it
    model = workload.init_model(0).double()
    workload.data.data = {k: (x.double(), y.double()) for k, (x, y) in workload.data.data.items()}
    _lbfgs(workload, model)
    metrics = workload.evaluate(model)
    assert -1e-7 < metrics["train/suboptimality"] < 1e-6, metrics["train/suboptimality"]
    # sigma2 = 1/m sum_i ||grad f_i(x*)||^2, checked with autograd per example
    x, y = workload.data.data["train"]
    idx = torch.arange(0, len(y), 7)
    per_example = []
    for i in idx[:400]:
        model.zero_grad()
        workload.loss_fn(model, (x[i:i + 1], y[i:i + 1])).backward()
        per_example.append(float(sum(p.grad.pow(2).sum() for p in model.parameters())))
    assert np.mean(per_example) == pytest.approx(meta["sigma2"], rel=0.25)


def test_lls_is_ill_conditioned_off_the_axes():
    meta = build_workload(find_workload("lls")).data.metadata
    assert 500 < meta["condition_number"] < 2000


def test_char_lm_reads_the_standard_library_split_by_file():
    data = build_workload(find_workload("char_lm")).data
    meta = data.metadata
    assert meta["files_train"] > 5 * meta["files_validation"] > 0
    assert len(meta["corpus_sha256"]) == 16
    inputs, targets = next(data.eval_batches("validation", 2048))
    assert inputs.shape == targets.shape and inputs.shape[1] == 64
    assert torch.equal(inputs[0, 1:], targets[0, :-1])  # next-byte targets


def test_click_logs_are_heavy_tailed_fresh_and_deterministic():
    data = build_workload(find_workload("click_dlrm")).data
    first = next(data.train_batches(4096, torch.Generator().manual_seed(1)))
    again = next(data.train_batches(4096, torch.Generator().manual_seed(1)))
    other = next(data.train_batches(4096, torch.Generator().manual_seed(2)))
    assert torch.equal(first[0][1], again[0][1]) and not torch.equal(first[0][1], other[0][1])
    ids = first[0][1][:, 0]
    counts = torch.bincount(ids).sort(descending=True).values
    assert counts[0] > 50 * counts[100]  # a few ids dominate the biggest table
    meta = data.metadata
    assert 0 < meta["bayes_logloss_validation"] < meta["constant_logloss_validation"] < math.log(2) + 1e-6


def test_grokking_split_covers_every_pair_once():
    data = build_workload(find_workload("grokking")).data
    (xt, yt), (xv, yv) = data.data["train"], data.data["validation"]
    pairs = {tuple(r[:2].tolist()) for r in torch.cat([xt, xv])}
    assert len(pairs) == 97 * 97 == len(yt) + len(yv)
    assert torch.equal((xt[:, 0] + xt[:, 1]) % 97, yt)


def test_suites():
    known = suites()
    assert sorted(known["mini"].workloads) == sorted(MINI)
    assert known["default"].workloads == ("logreg", "digits_mlp", "mnist1d_cnn")
    assert len(known["smoke"].workloads) == 2 and set(known["smoke"].workloads) <= set(MINI)


@pytest.mark.parametrize("name", MINI)
def test_mini_yaml_is_calibrated_and_deterministic(name):
    wl = find_workload(name)
    assert wl.eval.every_steps is not None  # steps-to-target is deterministic
    calibration = wl.notes.get("calibration")
    assert calibration and calibration["command"].startswith(f"optbench calibrate {name}")
    assert calibration["target"] == wl.target.value and calibration["budget_seconds"] == wl.budget.seconds
    assert datetime.date.fromisoformat(str(calibration["date"])) <= datetime.date.today()
    if "budget_steps" in calibration:  # the steps-clock rule: the step budget is the search horizon
        assert calibration["budget_steps"] == wl.budget.steps == calibration["search"]["horizon_steps"]
        assert calibration["clock"].startswith("steps")
    else:  # the first rule: the tuned baseline reached the target in at most 60 % of the budget
        assert calibration["median_time_to_target_s"] <= 0.6 * wl.budget.seconds


@pytest.mark.slow  # the smoke suite in a subprocess
def test_smoke_suite_end_to_end_through_the_cli(tmp_path):
    env_policy = os.environ.get("OMP_WAIT_POLICY")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # shared CI machines: no spinning threads
    try:
        proc = run_cli("run", "--suite", "smoke", "--submissions", "adamw", "--results", str(tmp_path),
                       "--name", "smoke", cwd=REPO, timeout=120)
    finally:
        if env_policy is None:
            os.environ.pop("OMP_WAIT_POLICY", None)
    assert proc.returncode == 0, proc.stderr[-2000:]
    trials = sorted((tmp_path / "smoke").rglob("trial.json"))
    assert len(trials) == 2
    for path in trials:
        record = json.loads(path.read_text())
        text = json.dumps(record)
        assert '"failed"' not in text and '"timeout"' not in text, text[:500]
