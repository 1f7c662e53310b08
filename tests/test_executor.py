"""The local executor: a worker that dies is noticed at once, recorded as failed and retried once
(from its checkpoint when it has one); threads are split between workers; children die with the run."""

from __future__ import annotations

import json

import pandas as pd

from optbench import store
from optbench.executors.local import LocalExecutor, available_cores
from tests.conftest import write
from tests.test_resume import cli, make_workloads

DYING = """
import os, signal
from pathlib import Path

import torch

DEFAULT_HPARAMS = {{}}

def make_optimizer(params, hparams, ctx):
    log = Path(__file__).with_name("attempts.txt")
    with log.open("a") as fh:
        fh.write("attempt\\n")
    attempt = len(log.read_text().splitlines())

    class Dying(torch.optim.SGD):
        def step(self, closure=None):
            if ctx.step >= 25 and {condition}:
                os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
            return super().step(closure)

    return Dying(params, lr=0.1, momentum=0.9)
"""


def test_a_killed_worker_is_recorded_as_failed_and_retried_once(tmp_path):
    workloads = make_workloads(tmp_path / "workloads")
    subs = tmp_path / "dying"
    write(subs / "die_always" / "submission.py", DYING.format(condition="True"))
    write(subs / "die_once" / "submission.py", DYING.format(condition="attempt == 1"))
    code, out, err = cli("run", "--workloads", "rdigits", "--submissions", "die_always,die_once", "--ruleset", "self",
                         "--checkpoint", "--threads", "1", "--workloads-dir", workloads, "--submissions-dir", subs,
                         "--results", tmp_path, "--name", "exp")
    assert code == 1, err  # die_always failed: the run's exit code and last line say so
    assert err.strip().splitlines()[-1].startswith("error: 1 of 2 trial(s) measured nothing (1 failed); first: "
                                                   "die_always/study_0/rdigits/trial_0: worker process died"), err
    assert out.count("worker process died (killed by signal 9)") >= 3 and "running it once more" in out
    trials = store.load_trials(tmp_path / "exp").set_index("submission")

    always = trials.loc["die_always"]
    assert always.status == "failed" and "died on all 2 attempts" in always.error
    assert always.total_time < 60  # noticed when it died, not at the wall-clock limit
    assert len((subs / "die_always" / "attempts.txt").read_text().splitlines()) == 2

    once = trials.loc["die_once"]
    assert once.status in ("reached", "budget_exhausted") and pd.isna(once.error)
    assert once.preemption_count == 1  # the retry went on from the checkpoint of step 20
    assert len((subs / "die_once" / "attempts.txt").read_text().splitlines()) == 2
    evals = store.load_evals(tmp_path / "exp")
    steps = evals[evals.submission == "die_once"].step.tolist()
    assert steps[:4] == [1, 10, 20, 30] and len(steps) == len(set(steps))  # no eval twice, none lost
    assert not list((tmp_path / "exp").rglob("checkpoint.pt"))
    record = json.loads((tmp_path / "exp" / "experiment.json").read_text())
    assert record["config"]["checkpoint"] is True


def test_threads_are_split_between_workers():
    cores = available_cores()
    assert LocalExecutor(workers=1).threads == cores
    assert LocalExecutor(workers=2).threads == max(1, cores // 2)
    assert LocalExecutor(workers=2, threads_per_worker=3).threads == 3
    gpus = LocalExecutor(workers=1, devices=["cuda:0", "cuda:1"])
    assert gpus.workers == 2
