"""Data-parallel trials (--nproc-per-trial): 2 gloo processes on CPU follow the 1-process loss curve;
a rank that aborts after its work is done (torch 2.13's teardown) never fails the trial; a rank that
fails alone fails it with its error. No Ray needed."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest
import torch

from optbench import store
from optbench.executors.ddp import launch
from optbench.spec import Budget, EvalPolicy, TrialSpec
from optbench.trial import run_trial
from optbench.workloads import find_workload
from tests.conftest import REPO, one_thread, write

CURVE = ("train/loss", "validation/loss", "validation/accuracy")


def digits_spec(submission: str = "adamw", steps: int = 60, path: str | None = None, **fields) -> TrialSpec:
    from optbench.submissions import find_submission

    workload = dataclasses.replace(find_workload("digits_mlp"), budget=Budget(600, 300, max_steps=steps),
                                   eval=EvalPolicy(every_steps=10), batch_size=64)
    path = path or str(find_submission(submission).path)
    return TrialSpec(workload, submission, path, {}, seed=3, stop_at_target=False, **fields)


@pytest.mark.slow  # two DDP ranks plus a one-process run
def test_two_processes_follow_the_one_process_loss_curve():
    one = run_trial(digits_spec(), one_thread())
    rows = []
    two = launch(digits_spec(nproc_per_trial=2), one_thread(), on_eval=rows.append)
    assert one.result.status == two.result.status == "budget_exhausted", two.result.error
    assert [r["step"] for r in two.evals] == [r["step"] for r in one.evals] == [1, 10, 20, 30, 40, 50, 60]
    for a, b in zip(one.evals, two.evals):
        for column in CURVE:
            assert b[column] == pytest.approx(a[column], rel=1e-4, abs=1e-6), (a["step"], column)
    assert rows == two.evals  # rank 0's rows reached on_eval as they came
    assert two.result.steps == 60 and two.result.submission_time > 0
    assert two.result.init_time > 0 and two.result.total_time >= two.result.init_time


def test_each_rank_gets_its_part_of_the_same_global_batches():
    from optbench.workloads.data import TensorData

    x = torch.arange(40.0).reshape(20, 2)
    data = TensorData({"train": (x, torch.arange(20))})
    whole = data.train_batches(8, torch.Generator().manual_seed(0))
    parts = [data.train_batches(8, torch.Generator().manual_seed(0), shard=(r, 2)) for r in range(2)]
    for _ in range(5):  # across an epoch boundary too
        xs, ys = next(whole)
        (x0, y0), (x1, y1) = next(parts[0]), next(parts[1])
        assert torch.equal(torch.cat([y0, y1]), ys) and torch.equal(torch.cat([x0, x1]), xs)


@pytest.mark.slow  # a DDP run in a subprocess
def test_a_ddp_trial_through_the_cli_survives_ranks_aborting_at_exit(tmp_path, tiny_workloads):
    """Every rank aborts (exit -6) right after sending its outcome, as torch 2.13 sometimes does: the
    trial still counts, with the steps-to-target of the same trial on one process."""
    env = {**os.environ, "OPTBENCH_DDP_FAULT": "abort"}
    args = ["run", "--workloads", "tiny_digits", "--submissions", "adamw", "--workloads-dir", str(tiny_workloads),
            "--results", str(tmp_path), "--name", "ddp", "--nproc-per-trial", "2", "--threads", "2"]
    proc = subprocess.run([sys.executable, "-m", "optbench.cli", *args], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=240)
    assert proc.returncode == 0, proc.stderr
    trial = store.load_trials(tmp_path / "ddp").iloc[0]
    assert trial.status == "reached", trial.error
    record = json.loads((tmp_path / "ddp" / "experiment.json").read_text())
    assert record["config"]["nproc_per_trial"] == 2
    from optbench.submissions import find_submission

    alone = run_trial(TrialSpec(find_workload("tiny_digits", [tiny_workloads]), "adamw",
                                str(find_submission("adamw").path), trial.hparams, seed=int(trial.seed)),
                      one_thread())
    assert alone.result.steps_to_target == trial.steps_to_target


RANK_ONE_FAILS = """
import os
import torch

def make_optimizer(params, hparams, ctx):
    class Odd(torch.optim.SGD):
        def step(self, closure=None):
            if ctx.step >= 7 and os.environ.get("RANK") == "1":
                raise RuntimeError("planted failure on rank 1")
            return super().step(closure)
    return Odd(params, lr=0.1)
"""


@pytest.mark.slow  # two DDP ranks in subprocesses
def test_a_rank_that_fails_alone_fails_the_trial_with_its_error(tmp_path):
    write(tmp_path / "odd" / "submission.py", RANK_ONE_FAILS)
    outcome = launch(digits_spec("odd", path=str(tmp_path / "odd"), nproc_per_trial=2), one_thread())
    assert outcome.result.status == "failed"
    assert "planted failure on rank 1" in outcome.result.error
