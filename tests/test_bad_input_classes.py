"""One regression test per class of bad input in issue 14: one line and exit 2 (or a clean success),
never a traceback, a hang, a silent yes or a file outside --results.

In-process (typer's CliRunner, printed the way ``optbench.cli.main`` prints) where nothing trains;
the cases that need a worker process (validate's isolation) are subprocesses, marked slow.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from optbench import safeio
from optbench.cli import app, error_line
from optbench.errors import OptbenchError
from tests.conftest import write
from tests.fuzz.corpus import ALIAS_BOMB, HUGE_INT_TEXT, Case, experiment_files, materialize
from tests.fuzz.harness import MAX_LINE, run_subprocess

GOOD = """
name: w
version: 1
description: a tiny workload
dataset: {name: digits}
model: {name: mlp, params: {hidden: 8}}
loss: cross_entropy
metrics: [accuracy]
target: {metric: validation/accuracy, value: 0.5, mode: max}
budget: {seconds: 5, steps: 20, step_hint: 20}
eval: {every_steps: 5}
batch_size: 32
"""


def cli(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, the error line or stderr): an uncaught exception fails the test."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    exc = result.exception
    if isinstance(exc, OptbenchError):
        return exc.exit_code, result.stdout, error_line(exc)
    if exc is not None and not isinstance(exc, SystemExit):
        raise exc
    return result.exit_code, result.stdout, result.stderr


def refused(*args: str, needle: str = "") -> str:
    code, out, line = cli(*args)
    assert code == 2, (code, out, line)
    assert line.startswith("error:") and "\n" not in line.strip() and len(line) <= MAX_LINE, line
    assert needle in line, line
    return line


def experiment(tmp_path: Path, **replace: bytes) -> Path:
    """The fuzz suite's template experiment (a real 2x2x2 run), with some files replaced."""
    files = {**experiment_files(), **replace}
    materialize(Case("results", "t", (), files, None), tmp_path)
    return tmp_path / "experiment"


# ------------------------------------------------------------------ 1, 3, 9, 13: the safe reader

@pytest.mark.parametrize("raw, needle", [
    (b"name: caf\xe9\n", "not UTF-8"),
    (("version: " + HUGE_INT_TEXT + "\n").encode(), "cannot be read"),
    (("x: " + "[" * 3000 + "]" * 3000 + "\n").encode(), "nested too deeply"),
    (ALIAS_BOMB.encode(), "alias"),
    (GOOD.encode() + b"batch_size: 64\n", "duplicate key"),
])
def test_workload_yaml_unreadable(tmp_path, raw, needle):
    (tmp_path / "wl" / "s").mkdir(parents=True)
    (tmp_path / "wl" / "s" / "w.yaml").write_bytes(raw)
    refused("list", "workloads", "--workloads-dir", tmp_path / "wl", needle=needle)


def test_alias_bomb_is_refused_at_once():
    start = time.perf_counter()
    with pytest.raises(OptbenchError, match="alias"):
        safeio.load_yaml(ALIAS_BOMB, "bomb.yaml")
    with pytest.raises(OptbenchError, match="alias"):
        safeio.load_yaml("a: &x [*x]\n", "self.yaml")
    assert time.perf_counter() - start < 60  # generous: the point is "not 9^9 leaves", not speed


@pytest.mark.parametrize("text, needle", [
    ("[" * 5000 + "]" * 5000, "nested too deeply"), (HUGE_INT_TEXT, "cannot be read"), ("[1, 2]", "JSON object"),
    ("null", "JSON object"), ('{"a": 1, "a": 2}', None),
])
def test_json_parser_limits_and_top_level(tmp_path, text, needle):
    path = tmp_path / "f.json"
    path.write_text(text)
    if needle is None:
        assert safeio.read_json(path) == {"a": 2}  # results files: json's own rule; duplicates=False refuses
        with pytest.raises(OptbenchError, match="duplicate key"):
            safeio.read_json(path, duplicates=False)
        return
    with pytest.raises(OptbenchError, match=needle):
        safeio.read_json(path)


def test_fifo_and_device_are_not_read(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(OptbenchError, match="not a regular file"):
        safeio.read_text(fifo)
    with pytest.raises(OptbenchError, match="not a regular file"):
        safeio.read_text("/dev/zero")


# ------------------------------------------------------------------ 2, 16: results files of the wrong types

@pytest.mark.parametrize("field, value", [("study", "0"), ("submission", 3),  # the fast lane's two; the rest: slow
                                          *(pytest.param(*case, marks=pytest.mark.slow) for case in [
                                              ("study", [0]), ("workload_hash", {}), ("time_to_target", -1.0),
                                              ("study", 0.5)])])
def test_trial_json_wrong_types_are_skipped_with_a_warning(tmp_path, field, value):
    files = experiment_files()
    path = next(p for p in files if p.endswith("trial.json"))
    record = json.loads(files[path])
    record[field] = value
    root = experiment(tmp_path, **{path: json.dumps(record).encode()})
    for command in (["score", root, "--out", tmp_path / "out"], ["compare", root, root]):
        code, out, err = cli(*command)
        assert code in (0, 2), (code, out, err)
        if code == 2:
            assert err.startswith("error:") and "trial" in err


@pytest.mark.parametrize("text", ["[1, 2]", *(pytest.param(t, marks=pytest.mark.slow) for t in ("3", "null"))])
def test_results_json_not_an_object(tmp_path, text):
    files = experiment_files()
    trial = next(p for p in files if p.endswith("trial.json"))
    root = experiment(tmp_path, **{trial: text.encode()})
    assert cli("score", root, "--out", tmp_path / "out")[0] == 0  # the damaged trial is skipped, with a warning
    root2 = experiment(tmp_path / "b", **{"experiment/experiment.json": text.encode()})
    refused("run", "--resume", root2, needle="JSON object")


@pytest.mark.parametrize("key, value, needle", [
    ("threads", -1, "config.threads"), ("ruleset", "lenient", "config.ruleset"), ("studies", "2", "config.studies"),
    ("workloads", {"a": 1}, "config.workloads"),
])
def test_resume_with_a_damaged_config(tmp_path, key, value, needle):
    record = json.loads(experiment_files()["experiment/experiment.json"])
    record["config"][key] = value
    root = experiment(tmp_path, **{"experiment/experiment.json": json.dumps(record).encode()})
    refused("run", "--resume", root, needle=needle)


def test_resume_with_a_damaged_plan_entry(tmp_path):
    record = json.loads(experiment_files()["experiment/experiment.json"])
    record["trials"][0]["study"] = "zero"
    root = experiment(tmp_path, **{"experiment/experiment.json": json.dumps(record).encode()})
    refused("run", "--resume", root, needle="trials.0.study")


def test_baseline_fractional_study(tmp_path):
    root = experiment(tmp_path)
    baseline = json.loads((Path(__file__).parent / "fuzz" / "data" / "baseline.json").read_text())
    baseline["results"]["tiny"]["adamw"]["study"] = [0.5, 1]
    (tmp_path / "b.json").write_text(json.dumps(baseline))
    refused("compare", tmp_path / "b.json", root, needle="study")


# ------------------------------------------------------------------ 4, 6, 14, 15: names and markup

def test_markup_in_user_text_is_printed_as_text(tmp_path):
    write(tmp_path / "wl" / "s" / "w.yaml", GOOD.replace("a tiny workload", "'[/] a [bold]tiny'"))
    code, out, err = cli("list", "workloads", "--workloads-dir", tmp_path / "wl")
    assert code == 0 and "[/]" in out, (out, err)


@pytest.mark.parametrize("name", ["../../../../escape", "/tmp/optbench-abs", "a/b", "..", "x[/]", ".hidden"])
def test_names_that_would_leave_the_results_folder(tmp_path, name):
    write(tmp_path / "w.yaml", GOOD.replace("name: w", f"name: {json.dumps(name)}"))
    refused("run", "--workloads", tmp_path / "w.yaml", "--submissions", "sgd_nesterov", "--results", tmp_path / "out",
            needle="cannot name a folder")
    write(tmp_path / "ok.yaml", GOOD)
    refused("run", "--workloads", tmp_path / "ok.yaml", "--submissions", "sgd_nesterov", "--results",
            tmp_path / "out", "--name", name, needle="--name")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.yaml", "w.yaml"]


def test_same_submission_twice(tmp_path):
    write(tmp_path / "w.yaml", GOOD)
    from optbench.submissions import BUILTIN_SUBMISSIONS_DIR

    for subs in ("sgd_nesterov,sgd_nesterov", f"sgd_nesterov,{BUILTIN_SUBMISSIONS_DIR / 'sgd_nesterov'}"):
        refused("run", "--workloads", tmp_path / "w.yaml", "--submissions", subs, "--results", tmp_path / "out",
                needle="given twice")


def test_unknown_keys_of_mixed_types(tmp_path):
    write(tmp_path / "wl" / "s" / "w.yaml", GOOD + "1: x\ncolour: red\n")
    refused("list", "workloads", "--workloads-dir", tmp_path / "wl", needle="unknown key")


# ------------------------------------------------------------------ 5, 16: AlgoPerf targets

TARGETS = {"benchmark_version": "0.5", "base_workloads": ["wmt"], "held_out_workloads": [],
           "workloads": {"wmt": {"target_metric_name": "bleu", "validation_target_value": 30.0}}}


@pytest.mark.parametrize("change, needle", [
    (lambda t: t.update(base_workloads=[["wmt"]]), "base_workloads: expected a list of workload names"),
    (lambda t: t.update(held_out_workloads=["wmt"]), "listed twice"),
    (lambda t: t.update(workloads=[1]), "workloads: expected a mapping"),
    (lambda t: t["workloads"]["wmt"].update(validation_target_value=float("nan")), "finite"),
    (lambda t: t["workloads"].update(wmt="bleu"), "target_metric_name"),
])
def test_algoperf_targets_of_the_wrong_shape(tmp_path, change, needle):
    targets = json.loads(json.dumps(TARGETS))
    change(targets)
    (tmp_path / "t.json").write_text(json.dumps(targets))
    (tmp_path / "logs").mkdir()
    refused("score", tmp_path / "logs", "--format", "algoperf", "--targets", tmp_path / "t.json", needle=needle)


def test_algoperf_log_that_is_a_fifo(tmp_path):
    (tmp_path / "t.json").write_text(json.dumps(TARGETS))
    trial = tmp_path / "logs" / "sub" / "study_0" / "wmt_jax" / "trial_1"
    trial.mkdir(parents=True)
    os.mkfifo(trial / "eval_measurements.csv")
    code, out, err = cli("score", tmp_path / "logs", "--format", "algoperf", "--targets", tmp_path / "t.json",
                         "--out", tmp_path / "out")
    assert code == 0 and "not a regular file" in err, (code, out, err)  # dropped with a warning, no hang


# ------------------------------------------------------------------ 7, 8: imports and options

def test_relative_and_raising_dotted_paths(tmp_path, monkeypatch):
    from optbench.workloads.registry import resolve_dotted

    with pytest.raises(OptbenchError, match="relative"):
        resolve_dotted(".relative:Thing", "optimizer")
    write(tmp_path / "fz_raises_at_import.py", "raise ValueError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(OptbenchError, match="ValueError: boom"):
        resolve_dotted("fz_raises_at_import:Opt", "optimizer")


@pytest.mark.parametrize("value", ["inf", "nan", "1"])
def test_tau_max_must_be_finite_and_above_1(tmp_path, value):
    refused("score", experiment(tmp_path), "--tau-max", value, "--out", tmp_path / "out", needle="--tau-max")


def test_report_out_is_a_folder(tmp_path):
    root = experiment(tmp_path)
    refused("report", root, "-o", root, needle="is a folder")


def test_results_name_too_long(tmp_path):
    write(tmp_path / "w.yaml", GOOD)
    refused("run", "--workloads", tmp_path / "w.yaml", "--submissions", "sgd_nesterov",
            "--results", tmp_path / ("r" * 300), needle="not writable")


# ------------------------------------------------------------------ 12, 16, 17: values

@pytest.mark.parametrize("value", ["nan", "inf", "-.inf", "1e400"])
def test_non_finite_hyperparameters(tmp_path, value):
    from optbench.tuning import spaces

    with pytest.raises(OptbenchError, match="finite"):
        spaces.parse_hparams_override(f"learning_rate={value}")
    write(tmp_path / "s.yaml", f"lr: {{feasible_points: [0.1, {value}]}}\n")
    with pytest.raises(OptbenchError, match="finite"):
        spaces.load_search_space(tmp_path / "s.yaml")


def test_hparams_alias_is_refused():
    from optbench.tuning import spaces

    with pytest.raises(OptbenchError, match="alias"):
        spaces.parse_hparams_override("x=&a [*a]")


def test_empty_metric_name(tmp_path):
    write(tmp_path / "wl" / "s" / "w.yaml", GOOD.replace("validation/accuracy", "validation/"))
    refused("list", "workloads", "--workloads-dir", tmp_path / "wl", needle="target.metric")


def test_error_lines_are_capped(tmp_path):
    write(tmp_path / "wl" / "s" / "w.yaml", GOOD.replace("batch_size: 32", f"batch_size: {list(range(3000))}"))  # ~15k characters
    line = refused("list", "workloads", "--workloads-dir", tmp_path / "wl", needle="batch_size")
    assert len(line) < 300


# ------------------------------------------------------------------ 10, 11: validate runs the code isolated

SLOW_SUBMISSIONS = {
    "sleep-import": ("import time\ntime.sleep(3600)\n", "no result after"),
    "sys-exit": ("import sys\nsys.exit(3)\n", "SystemExit(3)"),
    "keyboard-interrupt": ("raise KeyboardInterrupt\n", "KeyboardInterrupt"),
    "os-exit": ("import os\nos._exit(0)\n", "died"),
    "segfault": ("import ctypes\nctypes.string_at(0)\n", "signal"),
    "batch-size-negative": ("import torch\nDEFAULT_HPARAMS = {}\ndef make_optimizer(p, h, c):\n"
                            "    return torch.optim.SGD(p, lr=0.1)\ndef get_batch_size(name):\n    return -1\n",
                            "get_batch_size"),
}


@pytest.mark.slow
@pytest.mark.parametrize("label", sorted(SLOW_SUBMISSIONS))
def test_validate_isolates_the_submission(tmp_path, label):
    source, needle = SLOW_SUBMISSIONS[label]
    case = Case("submission", label, ("validate", "@ROOT@/subs/fz", "--steps", "1", "--timeout", "30"),
                {"subs/fz/submission.py": source.encode()}, True)
    root = tmp_path / "case"
    root.mkdir()
    outcome = run_subprocess(case, root, timeout=240)
    assert outcome.verdict == "clean" and outcome.code == 2, (outcome.verdict, outcome.detail, outcome.stderr)
    assert needle in outcome.stderr, outcome.stderr
    assert "digits_mlp" in outcome.stdout  # it names the workload it used


def test_validation_fraction_out_of_range():
    from optbench.workloads.parts.datasets_packaged import digits

    for fractions in ({"validation_fraction": 1.5}, {"validation_fraction": 0.6, "test_fraction": 0.5},
                      {"validation_fraction": -0.1}):
        with pytest.raises(OptbenchError, match="validation_fraction"):
            digits(**fractions)


def test_workloads_dir_with_only_paths_is_refused(tmp_path):
    write(tmp_path / "w.yaml", GOOD)
    (tmp_path / "more").mkdir()
    refused("run", "--workloads", tmp_path / "w.yaml", "--workloads-dir", tmp_path / "more", "--submissions",
            "sgd_nesterov", "--results", tmp_path / "out", needle="--workloads-dir")


@pytest.mark.parametrize("body", ["smoke: {workloads: [a], clock: [x]}", "smoke: {workloads: [a, [b]]}", "[1, 2]",
                                  "smoke: {workloads: [a], clock: {a: 1}}"])
def test_suites_yaml_of_the_wrong_shape(tmp_path, body):
    write(tmp_path / "wl" / "suites.yaml", body + "\n")
    refused("list", "suites", "--workloads-dir", tmp_path / "wl", needle="suites.yaml")
