"""Resuming an experiment: after a real `kill -9` of `optbench run`, with and without mid-trial
checkpoints; refusing a resume when what the results depend on changed; --workers 2 == --workers 1.

Every run uses step budgets (``max_steps``, a generous ``seconds``), evals every 10 steps and one
torch thread, so steps-to-target is the same number on every run of the same plan.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from optbench import store
from tests.conftest import REPO, write
from tests.conftest import cli as in_process

WORKLOAD = """
name: {name}
version: 1
description: digits MLP with a step budget, for resume tests
dataset: {{name: digits, params: {{seed: 0}}}}
model: {{name: mlp, params: {{hidden: 32}}}}
loss: cross_entropy
metrics: [accuracy]
target: {{metric: validation/accuracy, value: {target}, mode: max}}
budget: {{seconds: 60, step_hint: 300, max_steps: {max_steps}}}
eval: {{every_steps: {every}}}
batch_size: 64
"""


#: A submission of the test's own (the built-in ones change as the project tunes them).
SUBMISSION = """
import torch

DEFAULT_HPARAMS = {"learning_rate": 3.0e-3, "weight_decay": 1.0e-2}

def make_optimizer(params, hparams, ctx):
    return torch.optim.AdamW(params, lr=hparams["learning_rate"], weight_decay=hparams["weight_decay"])
"""
SEARCH_SPACE = """
learning_rate: {min: 1.0e-3, max: 3.0e-2, scaling: log}
weight_decay: {min: 1.0e-4, max: 1.0e-1, scaling: log}
"""


def make_submission(folder: Path, name: str = "tadam") -> Path:
    write(folder / name / "submission.py", SUBMISSION)
    write(folder / name / "search_space.yaml", SEARCH_SPACE)
    return folder


def make_workloads(folder: Path) -> Path:
    make_submission(folder.parent / "subs")
    write(folder / "resume" / "rdigits.yaml", WORKLOAD.format(name="rdigits", target=0.93, max_steps=300, every=10))
    write(folder / "resume" / "rdigits_long.yaml", WORKLOAD.format(name="rdigits_long", target=0.93, max_steps=3000,
                                                                        every=50))
    # no trial reaches 1.01: each runs all its 600 steps (a second or more), so six cannot end in a blink
    write(folder / "resume" / "rdigits_endless.yaml", WORKLOAD.format(name="rdigits_endless", target=1.01,
                                                                           max_steps=600, every=50))
    return folder


def cli(*args: str) -> tuple[int, str, str]:
    """`optbench ARGS` in this process (tests.conftest.cli; its forkserver is shared by the tests)."""
    done = in_process(*args)
    return done.returncode, done.stdout, done.stderr


def start_cli(log: Path, *args: str) -> subprocess.Popen:
    """`optbench ARGS` in a subprocess that a test can kill (and interrupt).

    SIGINT is set back to its default in the child: a test runner started as a background job
    of a non-interactive shell (`pytest ... &`, nohup, some CI runners) ignores SIGINT, children
    inherit that, and Python then installs no KeyboardInterrupt handler, so a Ctrl-C test would
    see the run finish with exit 0 (the flaky failure seen once in a backgrounded fast lane)."""
    return subprocess.Popen([sys.executable, "-m", "optbench.cli", *map(str, args)], cwd=REPO,
                            stdout=log.open("w"), stderr=subprocess.STDOUT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for(condition, proc: subprocess.Popen, timeout: float = 60, what: str = "") -> None:
    end = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"optbench run ended (rc {proc.returncode}) before {what}")
        if time.monotonic() > end:
            proc.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def complete(root: Path) -> list[Path]:
    return [p.parent for p in store.trial_files(root)]


def snapshot(root: Path) -> dict[str, tuple]:
    """mtime and bytes of every file of every complete trial."""
    return {str(f.relative_to(root)): (f.stat().st_mtime_ns, f.read_bytes())
            for folder in complete(root) for f in sorted(folder.iterdir())}


def steps_to_target(root: Path) -> dict[str, object]:
    frame = store.load_trials(root)
    return {Path(p).name + "/" + Path(p).parent.parent.name: (s, n)
            for p, s, n in zip(frame.path, frame.steps_to_target.fillna(-1), frame.steps)}


def external(workloads: Path, results: Path, name: str, *more: str) -> list[str]:
    return ["run", "--workloads", "rdigits", "--submissions", "tadam", "--ruleset", "external", "--trials", "6",
            "--threads", "1", "--workloads-dir", workloads, "--submissions-dir", workloads.parent / "subs",
            "--results", results, "--name", name, *more]


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory) -> tuple[Path, Path]:
    """An unbroken run of the external-tuning plan, with one worker: (workloads dir, results dir)."""
    base = tmp_path_factory.mktemp("resume")
    workloads = make_workloads(base / "workloads")
    code, out, err = cli(*external(workloads, base / "results", "whole", "--workers", "1"))
    assert code == 0, err
    summary = out[out.index("What each trial reached"):].splitlines()
    # The summary reads in 80 columns (CI logs), except the closing command, which is never wrapped
    # (print_next_step: it must stay one line to copy) and is as long as the results path.
    text = [line for line in summary if not line.startswith("next: optbench score ")]
    assert len(summary) > 4 and len(text) == len(summary) - 1 and max(map(len, text)) <= 80
    return workloads, base / "results"


@pytest.mark.slow  # kill -9 of a real subprocess run
def test_a_killed_run_resumes_without_rerunning_finished_trials(whole_run, tmp_path):
    workloads, results = whole_run
    proc = start_cli(tmp_path / "log.txt", *external(workloads, results, "crash", "--workers", "1"))
    root = results / "crash"
    wait_for(lambda: len(complete(root)) >= 2, proc, what="two trials to finish")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before, done = snapshot(root), len(complete(root))
    assert 2 <= done < 6, "the kill came too late to test anything"

    code, out, err = cli("run", "--resume", root)
    assert code == 0, err
    assert f"{done} of 6 trials already complete" in out
    after = snapshot(root)
    assert {k: v for k, v in after.items() if k in before} == before  # finished trials untouched
    assert len(complete(root)) == 6 and not list(root.rglob("checkpoint.pt"))
    assert steps_to_target(root) == steps_to_target(results / "whole")
    record = json.loads((root / "experiment.json").read_text())
    assert len(record["trials"]) == 6 and len(record["resumes"]) == 1 and record["resumes"][0]["forced"] == []


@pytest.mark.slow  # six more trials on top of the whole run's
def test_two_workers_give_the_same_steps_to_target_as_one(whole_run):
    workloads, results = whole_run
    code, out, err = cli(*external(workloads, results, "two", "--workers", "2"))
    assert code == 0, err
    assert "2 worker(s)" in out and "running 1" in out  # one finished while the other ran
    assert steps_to_target(results / "two") == steps_to_target(results / "whole")
    assert len(store.load_trials(results / "two")) == 6


@pytest.mark.slow  # kill -9 mid-trial, then two 3000-step runs
def test_a_trial_killed_mid_way_goes_on_from_its_checkpoint(tmp_path):
    workloads = make_workloads(tmp_path / "workloads")
    args = ["run", "--workloads", "rdigits_long", "--submissions", "tadam", "--ruleset", "self", "--keep-going",
            "--threads", "1", "--workloads-dir", workloads, "--submissions-dir", tmp_path / "subs",
            "--results", tmp_path]
    proc = start_cli(tmp_path / "log.txt", *args, "--name", "killed", "--checkpoint")
    trial = tmp_path / "killed" / "tadam" / "study_0" / "rdigits_long" / "trial_0"
    wait_for(lambda: (trial / "checkpoint.pt").is_file(), proc, what="a checkpoint")
    time.sleep(0.2)  # a few more evals (and checkpoints)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = torch.load(trial / "checkpoint.pt", weights_only=False)
    assert 1 <= saved["step"] < 3000 and not (trial / "trial.json").exists(), "the trial ended before the kill"
    stamp = (trial / "checkpoint.pt").stat().st_mtime_ns
    time.sleep(0.5)
    assert (trial / "checkpoint.pt").stat().st_mtime_ns == stamp  # the worker died with the command

    code, out, err = cli("run", "--resume", tmp_path / "killed")
    assert code == 0, err
    assert "checkpoints" in out  # --checkpoint was recorded and is used again
    code, out, err = cli(*args, "--name", "unbroken")
    assert code == 0, err

    resumed, unbroken = (store.load_trials(tmp_path / n).iloc[0] for n in ("killed", "unbroken"))
    assert resumed.preemption_count == 1 and unbroken.preemption_count == 0
    assert resumed.status == unbroken.status == "reached"
    assert (resumed.steps_to_target, resumed.steps) == (unbroken.steps_to_target, 3000)
    clocks = ["submission_time", "submission_wall_time", "submission_cpu_time", "eval_time", "total_time"]
    evals = {n: store.load_evals(tmp_path / n).drop(columns=clocks)
             for n in ("killed", "unbroken")}
    assert evals["killed"].equals(evals["unbroken"])  # every eval, bit for bit
    assert not (trial / "checkpoint.pt").exists()


def test_resume_refuses_changed_workloads_and_code_unless_forced(tmp_path):
    workloads = make_workloads(tmp_path / "workloads")
    subs = make_submission(tmp_path / "subs", "myadam")
    run = ["run", "--workloads", "rdigits", "--submissions", "myadam", "--ruleset", "external", "--trials", "2",
           "--threads", "1", "--workloads-dir", workloads, "--submissions-dir", subs, "--results", tmp_path,
           "--name", "exp"]
    code, _, err = cli(*run)
    assert code == 0, err
    root = tmp_path / "exp"
    code, _, err = cli(*run)  # the same name again: refused, never mixed into the first
    assert code == 2 and "already holds an experiment" in err and "--resume" in err
    yaml_path = workloads / "resume" / "rdigits.yaml"
    original = yaml_path.read_text()

    yaml_path.write_text(original.replace("value: 0.93", "value: 0.95"))
    code, out, err = cli("run", "--resume", root)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "workload rdigits changed" in err and "--force" in err
    yaml_path.write_text(original)

    source = subs / "myadam" / "submission.py"
    source.write_text(source.read_text() + "\n# a change\n")
    code, out, err = cli("run", "--resume", root)
    assert code == 2 and "submission myadam's code changed" in err and len(err.strip().splitlines()) == 1

    redo = root / "myadam" / "study_0" / "rdigits" / "trial_1"
    (redo / "trial.json").unlink()
    code, out, err = cli("run", "--resume", root, "--force")
    assert code == 0, err
    assert "warning: --force: submission myadam's code changed" in err
    record = json.loads((root / "experiment.json").read_text())
    assert record["resumes"][-1]["forced"] and "myadam" in record["resumes"][-1]["forced"][0]
    rerun = json.loads((redo / "trial.json").read_text())
    kept = json.loads((root / "myadam" / "study_0" / "rdigits" / "trial_0" / "trial.json").read_text())
    assert rerun["submission_hash"] != kept["submission_hash"]  # each trial says which code it ran
    assert rerun["hparams"] == record["trials"][1]["hparams"]  # the recorded plan was run


def test_resume_on_a_folder_that_is_not_an_experiment_is_one_line(tmp_path):
    code, out, err = cli("run", "--resume", tmp_path)
    assert code == 2 and err.count("\n") == 1 and "not an optbench experiment" in err
    code, out, err = cli("run", "--resume", tmp_path / "nowhere")
    assert code == 2 and "no such folder" in err


@pytest.mark.slow  # needs the whole run (the fast lane checks the same refusal in the test above)
def test_a_name_already_used_is_refused_not_mixed(whole_run):
    workloads, results = whole_run
    code, out, err = cli(*external(workloads, results, "whole", "--trials", "2"))
    assert code == 2 and "already holds an experiment" in err and "--resume" in err


@pytest.mark.slow  # SIGINT to a real subprocess run
def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path):
    """SIGINT while trials run: exit 130, the finished trials kept, the command to resume printed.

    The trials never reach their target (600 steps each), so the five left after the first take seconds:
    the signal lands mid-run however busy the machine. A run that ended before it fails the test, saying so."""
    workloads = make_workloads(tmp_path / "workloads")
    args = external(workloads, tmp_path, "int")
    args[args.index("rdigits")] = "rdigits_endless"
    proc = start_cli(tmp_path / "log.txt", *args)
    root = tmp_path / "int"
    wait_for(lambda: len(complete(root)) >= 1, proc, timeout=240, what="a trial to finish")  # busy machines
    assert proc.poll() is None and len(complete(root)) < 6, "the run ended before the SIGINT: nothing to test"
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=60)
    log = (tmp_path / "log.txt").read_text()
    assert code == 130, f"exit {code} (the run finished before the signal?):\n{log[-2000:]}"
    assert f"continue with: optbench run --resume {root}" in log
    statuses = [json.loads((f / "trial.json").read_text())["status"] for f in complete(root)]
    assert statuses and "failed" not in statuses  # the interrupted trials are not recorded
    assert len(statuses) < 6


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc), to check that none outlives a kill."""
    found, todo = set(), [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                kids = {int(k) for k in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += sorted(kids - found)
            found |= kids
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_kills_during_start_up_and_during_evals_lose_nothing(whole_run, tmp_path):
    """kill -9 at start-up (before and while experiment.json is written, while the forkserver imports
    torch) and in the middle of trials' evals (with --checkpoint): after the last --resume every trial is
    there, none finished before a kill was changed, the numbers are the unbroken run's, no process is left."""
    workloads, results = whole_run
    root = results / "kills"
    first = external(workloads, results, "kills", "--workers", "1", "--checkpoint")
    kept: dict[str, tuple] = {}

    def start() -> subprocess.Popen:
        resume = (root / "experiment.json").is_file()
        return start_cli(tmp_path / "log.txt", *(["run", "--resume", root] if resume else first))

    def kill(proc: subprocess.Popen) -> None:
        kids = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        end = time.monotonic() + 30
        while any(alive(k) for k in kids) and time.monotonic() < end:
            time.sleep(0.1)
        assert not [k for k in kids if alive(k)], "a worker outlived the killed command"
        now = snapshot(root) if root.is_dir() else {}
        assert {k: v for k, v in now.items() if k in kept} == kept  # finished trials never touched again
        kept.update(now)

    for delay in (0.1, 0.6, 1.5, 3.0):  # start-up: the command, its forkserver, experiment.json
        proc = start()
        time.sleep(delay)
        kill(proc)
    def fresh_checkpoint(since: float) -> bool:
        for path in root.rglob("checkpoint.pt"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime > since:
                    return True
        return False

    for pause in (0.0, 0.15, 0.3):  # during evals: this start has written a checkpoint (one per eval)
        since = time.time()
        proc = start()
        wait_for(lambda since=since: fresh_checkpoint(since), proc, timeout=180, what="an eval of this start")
        time.sleep(pause)
        kill(proc)

    proc = start()
    assert proc.wait(timeout=600) == 0, (tmp_path / "log.txt").read_text()[-2000:]
    assert len(complete(root)) == 6 and not list(root.rglob("checkpoint.pt"))
    assert steps_to_target(root) == steps_to_target(results / "whole")
    assert {k: v for k, v in snapshot(root).items() if k in kept} == kept
