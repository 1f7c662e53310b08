"""The Ray executor: the same plan through `optbench run --executor ray` and the local executor gives the
same results folder; --resume runs the rest on Ray; a task lost with its Ray worker is retried, then
recorded as failed; Ray's files stay in a folder the run owns. Skipped where Ray is not installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from optbench import store
from tests.conftest import REPO, write

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'optbench[ray]')")

#: Columns of evals.csv that depend on the machine's speed, not on the computation.
TIMES = ["submission_time", "submission_wall_time", "submission_cpu_time", "eval_time", "total_time"]


def cli(*args, home: Path, tmpdir: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    """`optbench ...` in a subprocess with its own HOME and TMPDIR (to see where Ray writes)."""
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmpdir)}
    return subprocess.run([sys.executable, "-m", "optbench.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=timeout)


@pytest.fixture
def short_tmp():
    """A TMPDIR with a short path (Ray's socket paths must stay under 108 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="obt-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def trials(root: Path) -> pd.DataFrame:
    frame = store.load_trials(root).set_index(["workload", "study", "trial"]).sort_index()
    return frame[["submission", "seed", "status", "steps_to_target"]]


def reached_evals(root: Path) -> pd.DataFrame:
    """The evals of trials that reached the target (stopped by steps: deterministic), without times."""
    evals = store.load_evals(root)
    done = store.load_trials(root)
    keys = set(map(tuple, done[done.status == "reached"][["workload", "trial"]].values))
    evals = evals[[(w, t) in keys for w, t in zip(evals.workload, evals.trial)]]
    return evals.drop(columns=[c for c in TIMES if c in evals]).sort_values(["workload", "trial", "step"]) \
        .reset_index(drop=True)


def test_ray_run_equals_local_run_and_resumes(tmp_path, tiny_workloads, short_tmp):
    home = tmp_path / "home"
    home.mkdir()
    plan = ["run", "--workloads", "tiny_digits,tiny_digits_hard", "--submissions", "adamw", "--ruleset", "external",
            "--trials", "2", "--workloads-dir", tiny_workloads, "--results", tmp_path]
    local = cli(*plan, "--name", "local", "--workers", "2", home=home, tmpdir=tmp_path)
    assert local.returncode == 0, local.stderr
    on_ray = cli(*plan, "--name", "ray", "--executor", "ray", home=home, tmpdir=short_tmp)
    assert on_ray.returncode == 0, on_ray.stderr
    assert "2 worker(s) × 1 thread(s)" in on_ray.stdout  # the cluster's 2 CPUs, 1 CPU per trial

    pd.testing.assert_frame_equal(trials(tmp_path / "local"), trials(tmp_path / "ray"))
    assert (trials(tmp_path / "ray").status == "reached").sum() == 2
    pd.testing.assert_frame_equal(reached_evals(tmp_path / "local"), reached_evals(tmp_path / "ray"))
    record = json.loads((tmp_path / "ray" / "experiment.json").read_text())
    assert record["config"]["executor"] == "ray" and record["config"]["workers"] is None
    # Ray's session files lived in a folder the run made in TMPDIR, and it was removed; nothing in ~/.ray
    assert not list(short_tmp.iterdir()) and not (home / ".ray").exists()

    # --resume: the trials left run on Ray again (the recorded executor), and agree with the first time
    for folder in ("adamw/study_0/tiny_digits/trial_1", "adamw/study_0/tiny_digits_hard/trial_0"):
        (tmp_path / "ray" / folder / "trial.json").unlink()
    resumed = cli("run", "--resume", tmp_path / "ray", home=home, tmpdir=short_tmp)
    assert resumed.returncode == 0, resumed.stderr
    assert "2 of 4 trials already complete" in resumed.stdout
    pd.testing.assert_frame_equal(trials(tmp_path / "local"), trials(tmp_path / "ray"))
    pd.testing.assert_frame_equal(reached_evals(tmp_path / "local"), reached_evals(tmp_path / "ray"))
    assert not list(short_tmp.iterdir())


KILLER = """
import os, signal, time
from pathlib import Path

import torch

DEFAULT_HPARAMS = {{}}
ATTEMPTS = Path({attempts!r})

def make_optimizer(params, hparams, ctx):
    with ATTEMPTS.open("a") as fh:
        fh.write("attempt\\n")
    attempt = len(ATTEMPTS.read_text().splitlines())

    class Killer(torch.optim.SGD):
        def step(self, closure=None):
            if ctx.step >= 5 and {condition}:
                forkserver = os.getppid()
                stat = Path(f"/proc/{{forkserver}}/stat").read_text()
                ray_worker = int(stat.rsplit(")", 1)[1].split()[1])
                os.kill(ray_worker, signal.SIGKILL)  # the Ray worker goes, as with a lost node
                time.sleep(60)
            return super().step(closure)

    return Killer(params, lr=0.1, momentum=0.9)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the Ray worker")
def test_a_task_lost_with_its_worker_is_retried_then_failed(tmp_path, tiny_workloads):
    from optbench.executors.ray import RayExecutor
    from optbench.spec import TrialSpec
    from optbench.workloads import find_workload

    subs = tmp_path / "subs"
    write(subs / "lost_once" / "submission.py", KILLER.format(attempts=str(tmp_path / "once.txt"),
                                                              condition="attempt == 1"))
    write(subs / "lost_always" / "submission.py", KILLER.format(attempts=str(tmp_path / "always.txt"),
                                                                condition="True"))
    workload = find_workload("tiny_digits", [tiny_workloads])
    specs = [TrialSpec(workload, name, str(subs / name), {}, seed=0) for name in ("lost_once", "lost_always")]
    finished, retried = {}, []
    RayExecutor(workers=2, max_retries=1).run(specs, on_finished=lambda f: finished.update({f.spec.submission: f}),
                                              on_retry=retried.append)

    assert sorted(f.spec.submission for f in retried) == ["lost_always", "lost_once"]
    assert all("Ray task lost (WorkerCrashedError" in f.result.error for f in retried)
    once, always = finished["lost_once"], finished["lost_always"]
    assert once.result.status == "reached" and once.attempts == 2
    assert always.result.status == "failed" and always.attempts == 2
    assert "WorkerCrashedError" in always.result.error and "died on all 2 attempts" in always.result.error
    assert len((tmp_path / "always.txt").read_text().splitlines()) == 2
    assert not ray.is_initialized()  # the executor shut its Ray down


def test_code_is_shipped_and_paths_are_rewritten(tmp_path, tiny_workloads):
    """What a worker gets: a copy of each submission folder, named relative to the working_dir, and the
    user modules that workloads name by dotted path (not installed packages, not optbench)."""
    from optbench.executors.ray import RayExecutor
    from optbench.executors.ray_code import stage_code
    from optbench.spec import ComponentRef, TrialSpec
    from optbench.workloads import find_workload

    write(tmp_path / "mycode" / "mymodels.py", "def make(info):\n    raise NotImplementedError\n")
    write(tmp_path / "subs" / "mine" / "submission.py", "def make_optimizer(params, hparams, ctx):\n    pass\n")
    (tmp_path / "subs" / "mine" / "__pycache__").mkdir()
    workload = find_workload("tiny_digits", [tiny_workloads])
    import dataclasses

    workload = dataclasses.replace(workload, model=ComponentRef("mymodels:make"), loss=ComponentRef("numpy:sum"))
    spec = TrialSpec(workload, "mine", str(tmp_path / "subs" / "mine"), {}, seed=0)
    sys.path.insert(0, str(tmp_path / "mycode"))
    try:
        shipment = stage_code([spec], tmp_path / "code")
    finally:
        sys.path.remove(str(tmp_path / "mycode"))
    assert shipment.submissions == {spec.submission_path: "submissions/mine"}
    assert (tmp_path / "code" / "submissions" / "mine" / "submission.py").is_file()
    assert not (tmp_path / "code" / "submissions" / "mine" / "__pycache__").exists()
    assert (tmp_path / "code" / "pythonpath" / "mymodels.py").is_file()  # numpy is installed: not shipped
    assert shipment.python_paths == ["pythonpath"]
    executor = RayExecutor(address="auto", cpus_per_trial=2)
    remote, runtime = executor.worker_spec(spec, shipment), executor.worker_runtime(spec, "/results/x")
    assert remote.submission_path == "submissions/mine" and runtime.checkpoint_dir is None
    assert runtime.num_threads == 2 and spec.submission_path.startswith("/")
