"""The example GitHub Actions workflow, run here: its own `run:` commands, read from the YAML.

examples/github-actions/optbench-regression.yml runs the smoke suite, saves or compares a
baseline. This test executes those same steps with bash, in the same order a user's CI
would (run -> save the baseline -> run again -> compare: exit 0; then a slower candidate ->
compare: exit 1). Only the env is overridden: a tiny one-workload suite (a few seconds per
trial) instead of `smoke`, and, for the slower candidate, a --submissions-dir holding an
`adamw` with a third of the learning rate under the same name.

The runs are pinned to one core (one torch thread): on a shared, loaded machine two
spinning OpenMP threads make each step 100x slower, and steps to target do not change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, TINY_DIGITS, write

WORKFLOW = REPO / "examples" / "github-actions" / "optbench-regression.yml"

SLOW_ADAMW = '''
import torch
from optbench.submissions import warmup_schedule

DEFAULT_HPARAMS = {"learning_rate": 1e-3, "weight_decay": 1e-2, "beta1": 0.9, "beta2": 0.999,
                   "warmup_fraction": 0.05, "decay_steps_factor": 1.0}

def make_optimizer(params, hparams, ctx):
    opt = torch.optim.AdamW(params, lr=hparams["learning_rate"], betas=(hparams["beta1"], hparams["beta2"]),
                            weight_decay=hparams["weight_decay"])
    return opt, warmup_schedule(opt, hparams, ctx)
'''


def workflow_steps() -> tuple[dict[str, str], dict[str, str]]:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert set(data[True]) >= {"pull_request"}  # YAML 1.1 reads the key `on` as True
    steps = {s["name"]: s["run"] for s in data["jobs"]["regression"]["steps"] if "name" in s and "run" in s}
    return {k: str(v) for k, v in data["env"].items()}, steps


def test_the_workflow_is_what_it_says():
    env, steps = workflow_steps()
    install = steps["Install optbench with CPU-only torch"]
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in install
    assert "--seed 0" in steps["Run the smoke suite"] and env["SUITE"] == "smoke"
    assert "--clock steps" in steps["Compare with the committed baseline"]
    assert "--save-baseline" in steps["Save a new baseline"]
    assert 'optbench report "$RESULTS/candidate"' in steps["HTML report"]  # run in tests/test_report.py


def _one_core() -> None:  # pragma: no cover - runs in the child before exec
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def test_the_workflow_sequence_locally(tmp_path: Path):
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("needs Linux CPU affinity to run the trials on one core")
    env_yaml, steps = workflow_steps()
    shim = tmp_path / "bin" / "optbench"  # `optbench` as the workflow calls it, this checkout's code
    write(shim, f'#!/bin/sh\nexec "{sys.executable}" -m optbench.cli "$@"\n').chmod(0o755)
    # every eval is counted in steps; a generous budget, so a loaded machine cannot miss the target
    write(tmp_path / "workloads" / "ci" / "tiny_digits.yaml",
          TINY_DIGITS.format(name="tiny_digits", target=0.8, seconds=60))
    write(tmp_path / "slow" / "adamw" / "submission.py", textwrap.dedent(SLOW_ADAMW))
    work = tmp_path / "repo"
    work.mkdir()
    env = {**os.environ, **env_yaml, "SUITE": "ci", "SUBMISSIONS": "adamw", "STUDIES": "2",
           "EXTRA_RUN_ARGS": f"--workloads-dir {tmp_path / 'workloads'}", "OMP_NUM_THREADS": "1",
           "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.pop("GITHUB_STEP_SUMMARY", None)

    def step(name: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-euo", "pipefail", "-c", steps[name]], cwd=work, env={**env, **extra},
                              capture_output=True, text=True, timeout=240, preexec_fn=_one_core)

    # 1. the baseline, as `workflow_dispatch` makes it; the user commits it as $BASELINE
    assert step("Run the smoke suite").returncode == 0
    saved = step("Save a new baseline")
    assert saved.returncode == 0, saved.stderr
    baseline = work / env_yaml["BASELINE"]
    baseline.parent.mkdir(parents=True)
    shutil.move(work / "optbench-baseline.json", baseline)

    # 2. a pull request that changes nothing: same steps to target, exit 0
    shutil.rmtree(work / env_yaml["RESULTS"])
    assert step("Run the smoke suite").returncode == 0
    same = step("Compare with the committed baseline")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "no regression" in (work / "optbench-compare.md").read_text()

    # 3. a pull request that makes adamw slower to target: exit 1
    shutil.rmtree(work / env_yaml["RESULTS"])
    slow_args = f"{env['EXTRA_RUN_ARGS']} --submissions-dir {tmp_path / 'slow'}"
    ran = step("Run the smoke suite", EXTRA_RUN_ARGS=slow_args)
    assert ran.returncode == 0, ran.stderr
    worse = step("Compare with the committed baseline", GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"))
    assert worse.returncode == 1, worse.stdout + worse.stderr
    assert "REGRESSION" in worse.stdout and "adamw on tiny_digits" in worse.stdout
    assert "REGRESSION" in (tmp_path / "summary.md").read_text()
    assert '"verdict": "worse"' in (work / "optbench-compare.json").read_text()
