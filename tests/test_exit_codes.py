"""`optbench run`'s exit codes: 2 for a device this machine lacks (before any trial), 1 when a trial
failed or timed out (with a closing line that counts them), 0 when every trial measured something."""

from __future__ import annotations

import sys

import pytest

from optbench import provenance, store
from optbench.executors.devices import check_device, parse_device
from optbench.experiment import run_outcome
from optbench.report.terminal import MAX_ERROR_CHARS, run_outcome_line
from optbench.spec import TrialResult, TrialSpec
from optbench.workloads import find_workload
from tests.conftest import cli

CPU_ONLY_TORCH = provenance.torch_has_no_gpu_library()


def refused_in_one_line(proc, *fragments: str) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr and "failed" not in proc.stdout
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("device, fragment", [
    pytest.param("cuda", "CPU-only build", marks=pytest.mark.skipif(not CPU_ONLY_TORCH, reason="a CUDA torch")),
    pytest.param("mps", "only on macOS", marks=pytest.mark.skipif(sys.platform == "darwin", reason="macOS")),
    ("gpu", "'gpu' is not a device"),
    ("cuda:0,cpu", "only CUDA devices make a list"),
])
def test_an_absent_or_malformed_device_is_refused_before_any_trial(tmp_path, device, fragment):
    proc = cli("run", "--workloads", "logreg", "--submissions", "adamw", "--device", device,
                   "--results", str(tmp_path / "results"), "--name", "x")
    refused_in_one_line(proc, f"--device {device}", fragment)
    assert not (tmp_path / "results").exists()  # no experiment was started


@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda:3", "cuda:0,cuda:1", " cuda:0 , cuda:1", "mps"])
def test_well_formed_devices_parse(device):
    assert [kind for kind, _ in parse_device(device)] in (["cpu"], ["cuda"], ["cuda", "cuda"], ["mps"])


@pytest.mark.parametrize("device", ["", "CPU", "cuda:", "cuda:-1", "cuda:x", "mps:0", "cpu,cpu", "tpu", "cuda;1"])
def test_malformed_devices_are_one_line(device):
    from optbench.errors import OptbenchError

    with pytest.raises(OptbenchError, match="expected cpu, cuda"):
        check_device(device)


def test_ray_checks_only_the_form_of_a_device():
    check_device("cuda", "ray")  # the cluster's nodes have the GPUs, not this machine
    with pytest.raises(Exception, match="not a device"):
        check_device("gpu", "ray")


def _record(root, planted, status, error=None, trial=0):
    spec = TrialSpec(find_workload("logreg"), "planted", str(planted), {}, seed=0, trial=trial)
    store.write_trial(root, spec, TrialResult(status=status, error=error), [])
    return spec


def test_outcome_counts_failed_and_timed_out_trials_and_quotes_the_first_error(tmp_path):
    long = "RuntimeError: " + "x" * 1000 + "\nsecond line"
    specs = [_record(tmp_path, tmp_path, "reached", trial=0), _record(tmp_path, tmp_path, "diverged", trial=1),
             _record(tmp_path, tmp_path, "failed", long, trial=2),
             _record(tmp_path, tmp_path, "timeout", "no result after 4 s", trial=3),
             _record(tmp_path, tmp_path, "failed", "later error", trial=4)]
    outcome = run_outcome(tmp_path, specs)
    assert (outcome.trials, outcome.failed, outcome.timed_out, outcome.exit_code) == (5, 2, 1, 1)
    line = run_outcome_line(outcome)
    assert line.startswith("3 of 5 trial(s) measured nothing (2 failed, 1 timed out); first: planted/study_0/")
    assert "trial_2: RuntimeError: xxx" in line and "later error" not in line and "second line" not in line
    assert len(line) < MAX_ERROR_CHARS + 120


def test_outcome_of_trials_that_all_measured_something_is_0(tmp_path):
    specs = [_record(tmp_path, tmp_path, status, trial=i)
             for i, status in enumerate(("reached", "budget_exhausted", "diverged"))]
    outcome = run_outcome(tmp_path, specs)
    assert outcome.exit_code == 0 and run_outcome_line(outcome) is None
    missing = TrialSpec(find_workload("logreg"), "planted", str(tmp_path), {}, seed=0, trial=9)
    assert run_outcome(tmp_path, [*specs, missing]).missing == 1


def test_a_run_whose_every_trial_failed_exits_1_with_the_count(tmp_path, tiny_workloads, planted_submissions):
    proc = cli("run", "--workloads", "tiny_digits", "--submissions", "boom",
                   "--workloads-dir", str(tiny_workloads), "--submissions-dir", str(planted_submissions),
                   "--results", str(tmp_path / "results"), "--name", "exp")
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 1 of 1 trial(s) measured nothing (1 failed); first: boom/study_0/tiny_digits/"
                           "trial_0: RuntimeError: planted failure at step 3"), last
    assert "Traceback" not in proc.stderr


def test_run_help_documents_the_exit_codes():
    proc = cli("run", "--help")
    text = " ".join(proc.stdout.split())
    assert "Exit codes: 0 when every trial ended reached, budget_exhausted or diverged; 1 when a trial failed" in text
