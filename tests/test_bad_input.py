"""Every bad input gets one clear line on stderr and exit code 2 — never a traceback.

The cases run the command line in this process (``cli``); one runs it as a real subprocess, as a user does."""

from __future__ import annotations

import os
import stat

import pytest

from tests.conftest import assert_one_line_error, cli, run_cli, write

GOOD = """
name: w
version: 1
dataset: {name: digits}
model: {name: mlp}
loss: cross_entropy
metrics: [accuracy]
target: {metric: validation/accuracy, value: 0.9, mode: max}
budget: {seconds: 1, step_hint: 100}
eval: {every_steps: 10}
batch_size: 32
"""


assert_clean_error = assert_one_line_error


@pytest.mark.parametrize("change, fragments", [
    (("batch_size: 32", "batch_size: 32\ncolour: red"), ["unknown key colour"]),
    (("seconds: 1", "seconds: ten"), ["budget.seconds", "expected a finite number"]),
    (("seconds: 1", "seconds: -1"), ["budget.seconds", "> 0"]),
    (("mode: max", "mode: maximise"), ["target.mode", "min or max"]),
    (("metric: validation/accuracy", "metric: accuracy"), ["target.metric", "<split>/<metric>"]),
    (("model: {name: mlp}", "model: {name: transformerz}"), ["unknown model 'transformerz'"]),
    (("eval: {every_steps: 10}", "eval: {}"), ["eval", "exactly one"]),
    (("version: 1\n", ""), ["missing required key version"]),
    (("dataset: {name: digits}", "dataset: {name: digits, params: [1]"), ["not valid YAML"]),
])
def test_bad_workload_yaml(tmp_path, change, fragments):
    path = write(tmp_path / "w.yaml", GOOD.replace(*change))
    assert_clean_error(cli("validate", str(path)), "w.yaml", *fragments)


def test_a_bad_workload_through_a_real_subprocess(tmp_path):
    """As a user meets it: the installed entry point, its own process, one line on stderr, exit 2."""
    path = write(tmp_path / "w.yaml", GOOD.replace("seconds: 1", "seconds: ten"))
    assert_clean_error(run_cli("validate", str(path)), "w.yaml", "budget.seconds")


def test_good_workload_validates(tmp_path):
    proc = cli("validate", str(write(tmp_path / "w.yaml", GOOD)))
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout


def test_unknown_names(tmp_path):
    assert_clean_error(cli("run", "--workloads", "nope", "--results", str(tmp_path)), "unknown workload 'nope'")
    assert_clean_error(cli("run", "--workloads", "digits_mlp", "--submissions", "nope",
                               "--results", str(tmp_path)), "unknown submission 'nope'")
    assert_clean_error(cli("run", "--suite", "nope", "--results", str(tmp_path)), "unknown suite")


def test_submission_missing_functions_or_failing_import(tmp_path):
    write(tmp_path / "empty" / "submission.py", "x = 1\n")
    assert_clean_error(cli("validate", str(tmp_path / "empty")), "defines neither", "make_optimizer(params",
                       "init_optimizer_state(")
    write(tmp_path / "broken" / "submission.py", "import not_a_module_anywhere\n")
    assert_clean_error(cli("validate", str(tmp_path / "broken")), "failed to import", "not_a_module_anywhere")
    write(tmp_path / "syntax" / "submission.py", "def f(:\n")
    assert_clean_error(cli("validate", str(tmp_path / "syntax")), "syntax error")
    (tmp_path / "nothing").mkdir()
    assert_clean_error(cli("validate", str(tmp_path / "nothing")), "not a submission folder")


def test_bad_search_space(tmp_path):
    write(tmp_path / "sub" / "submission.py", "import torch\ndef make_optimizer(p, h, c):\n"
          "    return torch.optim.SGD(p, lr=h.get('learning_rate', 0.1))\n")
    write(tmp_path / "sub" / "search_space.yaml", "learning_rate: {min: 1.0, max: 0.1, scaling: log}\n")
    assert_clean_error(cli("validate", str(tmp_path / "sub")), "search_space.yaml", "learning_rate")
    proc = cli("run", "--workloads", "digits_mlp", "--submissions", str(tmp_path / "sub"),
                   "--ruleset", "external", "--results", str(tmp_path / "r"))
    assert_clean_error(proc, "search_space.yaml")


def test_bad_hparams_flag(tmp_path):
    assert_clean_error(cli("run", "--workloads", "digits_mlp", "--hparams", "learning_rate",
                               "--results", str(tmp_path)), "--hparams")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere, so a read-only folder cannot be tested")
def test_results_folder_not_writable(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    assert_clean_error(cli("run", "--workloads", "digits_mlp", "--results", str(locked / "sub")),
                       "not writable")


def test_results_path_is_a_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_clean_error(cli("run", "--workloads", "digits_mlp", "--results", str(blocker)), "not writable")
