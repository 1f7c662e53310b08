"""The example GitHub Actions workflow, run here: its own `run:` commands, read from the YAML.

examples/github-actions/optbench-regression.yml runs the smoke suite, saves or compares a
baseline. This test executes those same steps with bash, in the same order a user's CI
would (run -> save the baseline -> run again -> compare: exit 0; then a candidate whose adamw
has a 30x smaller learning rate -> compare: exit 1), with the workflow's own defaults (the
smoke suite, 3 studies, the steps clock), once per base seed: the check must catch the
regression and pass the identical re-run in 5 of 5 repeats. Only the env is overridden: SEED,
and for the regressed candidate a --submissions-dir holding an `adamw` (a copy of the built-in
one, learning rate / 30) under the same name.

The runs are pinned to one core (one torch thread): steps to target do not change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, TINY_DIGITS, write

WORKFLOW = REPO / "examples" / "github-actions" / "optbench-regression.yml"

#: Appended to a copy of the built-in adamw: the regression a CI check must catch.
LEARNING_RATE_30X_SMALLER = '''
DEFAULT_HPARAMS = {**DEFAULT_HPARAMS, "learning_rate": DEFAULT_HPARAMS["learning_rate"] / 30}
'''
#: A milder one: still reaches an easy target, only later.
def workflow_steps() -> tuple[dict[str, str], dict[str, str]]:
    data = yaml.safe_load(WORKFLOW.read_text())
    assert set(data[True]) >= {"pull_request"}  # YAML 1.1 reads the key `on` as True
    steps = {s["name"]: s["run"] for s in data["jobs"]["regression"]["steps"] if "name" in s and "run" in s}
    return {k: str(v) for k, v in data["env"].items()}, steps


def test_the_workflow_is_what_it_says():
    env, steps = workflow_steps()
    install = steps["Install optbench with CPU-only torch"]
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in install
    assert '--seed "$SEED"' in steps["Run the smoke suite"] and env["SUITE"] == "smoke"
    assert "--clock steps" in steps["Run the smoke suite"] and "--clock steps" in steps["Compare with the committed baseline"]
    assert "--save-baseline" in steps["Save a new baseline"]
    assert 'optbench report "$RESULTS/candidate"' in steps["HTML report"]  # run in tests/test_report.py


def _one_core() -> None:  # pragma: no cover - runs in the child before exec
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_workflow_passes_a_rerun_and_catches_a_30x_smaller_learning_rate(tmp_path: Path, seed: int):
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("needs Linux CPU affinity to run the trials on one core")
    from optbench.submissions import BUILTIN_SUBMISSIONS_DIR

    env_yaml, steps = workflow_steps()
    shim = tmp_path / "bin" / "optbench"  # `optbench` as the workflow calls it, this checkout's code
    write(shim, f'#!/bin/sh\nexec "{sys.executable}" -m optbench.cli "$@"\n').chmod(0o755)
    regressed = tmp_path / "regressed" / "adamw"
    shutil.copytree(BUILTIN_SUBMISSIONS_DIR / "adamw", regressed)
    with open(regressed / "submission.py", "a") as fh:
        fh.write(LEARNING_RATE_30X_SMALLER)
    work = tmp_path / "repo"
    work.mkdir()
    env = {**os.environ, **env_yaml, "SEED": str(seed), "OMP_NUM_THREADS": "1",
           "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    env.pop("GITHUB_STEP_SUMMARY", None)

    def step(name: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-euo", "pipefail", "-c", steps[name]], cwd=work, env={**env, **extra},
                              capture_output=True, text=True, timeout=900, preexec_fn=_one_core)

    # 1. the baseline, as `workflow_dispatch` makes it; the user commits it as $BASELINE
    ran = step("Run the smoke suite")
    assert ran.returncode == 0, ran.stderr
    saved = step("Save a new baseline")
    assert saved.returncode == 0, saved.stderr
    baseline = work / env_yaml["BASELINE"]
    baseline.parent.mkdir(parents=True)
    shutil.move(work / "optbench-baseline.json", baseline)

    # 2. a pull request that changes nothing: the same steps (or distances), exit 0
    shutil.rmtree(work / env_yaml["RESULTS"])
    assert step("Run the smoke suite").returncode == 0
    same = step("Compare with the committed baseline")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "no regression" in (work / "optbench-compare.md").read_text()

    # 3. a pull request that divides adamw's learning rate by 30: exit 1
    shutil.rmtree(work / env_yaml["RESULTS"])
    ran = step("Run the smoke suite", EXTRA_RUN_ARGS=f"--submissions-dir {regressed.parent}")
    assert ran.returncode == 0, ran.stderr
    worse = step("Compare with the committed baseline")
    assert worse.returncode == 1, worse.stdout + worse.stderr
    assert "REGRESSION" in worse.stdout and "adamw on" in worse.stdout


@pytest.mark.slow
def test_the_workflow_sequence_locally(tmp_path: Path):
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("needs Linux CPU affinity to run the trials on one core")
    env_yaml, steps = workflow_steps()
    shim = tmp_path / "bin" / "optbench"  # `optbench` as the workflow calls it, this checkout's code
    write(shim, f'#!/bin/sh\nexec "{sys.executable}" -m optbench.cli "$@"\n').chmod(0o755)
    # every eval is counted in steps; a generous budget, so a loaded machine cannot miss the target
    write(tmp_path / "workloads" / "ci" / "tiny_digits.yaml",
          TINY_DIGITS.format(name="tiny_digits", target=0.8, seconds=60))
    from optbench.submissions import BUILTIN_SUBMISSIONS_DIR

    shutil.copytree(BUILTIN_SUBMISSIONS_DIR / "adamw", tmp_path / "slow" / "adamw")
    with open(tmp_path / "slow" / "adamw" / "submission.py", "a") as fh:
        fh.write(LEARNING_RATE_30X_SMALLER)
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
    from optbench.report.compare import REGRESSIONS

    verdicts = {row["verdict"] for row in json.loads((work / "optbench-compare.json").read_text())["rows"]}
    assert verdicts and verdicts <= set(REGRESSIONS)  # slower to target, or no longer reaching it
