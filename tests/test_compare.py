"""`optbench compare`: verdicts on hand-made results folders, exit codes 0/1/2, outputs.

Results folders are written with ``store.write_trial`` (no training): each submission
name below encodes one case, with its steps to target per study (None = not reached, with
a best validation accuracy of 0.9; a float below 1 = not reached, with that best value).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from optbench import __version__, store
from optbench.errors import OptbenchError
from optbench.report import baseline, compare
from optbench.spec import Target, TrialResult, TrialSpec
from optbench.workloads import find_workload
from tests.conftest import cli as in_process
from tests.conftest import run_cli

WL = find_workload("digits_mlp")
SECONDS_PER_STEP = 0.01


def write_results(root: Path, table: dict, workload=WL, ruleset: str = "self", experiment: bool = True,
                  hparams: dict | None = None, error: str | None = None) -> Path:
    """``table``: {(submission, workload name): steps per study} — a list (study j = position j)
    or a dict {study: steps}; ``None`` = the target was not reached in that study."""
    for (sub, name), per_study in table.items():
        wl = dataclasses.replace(workload, name=name)
        studies = per_study.items() if isinstance(per_study, dict) else enumerate(per_study)
        for study, steps in studies:
            spec = TrialSpec(wl, sub, f"submissions/{sub}", dict(hparams or {"learning_rate": 1e-3}),
                             seed=100 + study, study=study, ruleset=ruleset)  # type: ignore[arg-type]
            missed_best = steps if isinstance(steps, float) else 0.9
            steps = None if isinstance(steps, float) else steps
            last = steps or 600
            if steps is None:
                result = TrialResult("failed" if error else "budget_exhausted", steps=last,
                                     submission_time=last * SECONDS_PER_STEP, best_metric=None if error else missed_best,
                                     error=error,
                                     traceback=f"Traceback (most recent call last):\n  {error}" if error else None)
            else:
                result = TrialResult("reached", steps_to_target=steps, time_to_target=steps * SECONDS_PER_STEP,
                                     steps=steps, submission_time=steps * SECONDS_PER_STEP, best_metric=0.97)
            reach = steps or 10 * last
            evals = [{"step": s, "submission_time": s * SECONDS_PER_STEP, "eval_time": 0.001, "total_time": s * 0.02,
                      "train/loss": 2.3 * (1 - s / (reach + 50)),
                      "validation/accuracy": min(0.97, 0.1 + 0.86 * s / reach)}
                     for s in [1, *range(10, last + 1, 10)]]
            store.write_trial(root, spec, result, evals)
    if experiment:
        store.write_experiment(root, {
            "name": root.name, "created": "2025-01-01T00:00:00+00:00",
            "command": ["optbench", "run", "--suite", "smoke", "--name", root.name],
            "config": {"ruleset": ruleset, "device": "cpu", "seed": 0},
            "environment": {"optbench": __version__, "torch": "2.99.0+cpu", "python": "3.11.7",
                            "platform": "Linux-test", "cpu": "Test CPU @ 3GHz", "cpu_count": 2,
                            "cuda_available": False},
            "git": {"commit": "0123456789abcdef0123456789abcdef01234567", "dirty": False},
            "workloads": {name: {"hash": dataclasses.replace(workload, name=name).hash, "version": 1,
                                 "path": f"workloads/{name}.yaml"} for _, name in table},
            "submissions": {sub: {"path": f"submissions/{sub}", "code_hash": "c0ffee"} for sub, _ in table},
        })
    return root


#: submission -> (baseline steps per study, candidate steps per study), one workload.
CASES = {
    "same": ([100, 110, 120], [100, 110, 120]),
    "slower": ([100, 110, 120], [130, 140, 150]),  # every seed ~27% slower: worse
    "within_tol": ([100, 110, 120], [103, 113, 123]),  # +2.7%: same at 5%, worse at 1%
    "faster": ([100, 110, 120], [70, 80, 90]),
    "noisy": ([100, 110, 120], [60, 300, 125]),  # median +14%, but seed 0 got faster: interval includes 1
    "breaks": ([100, 110, 120], [None, None, 120]),  # median not reached: newly failing
    "fixed": ([None, None, 120], [100, 110, 120]),
    "never": ([None, None, None], [None, None, None]),  # neither reaches: the same distance left
    "never_worse": ([0.95, 0.94, 0.96], [0.6, 0.62, 0.58]),  # neither reaches; the candidate stays much farther
    "never_better": ([0.6, 0.62, 0.58], [0.95, 0.94, 0.96]),
}


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path]:
    """(baseline, candidate) results folders, written once for the module: tests only read them."""
    tmp_path = tmp_path_factory.mktemp("pair")
    base = write_results(tmp_path / "base", {(s, "wl_a"): b for s, (b, _) in CASES.items()}
                         | {("dropped", "wl_a"): [100, 100, 100]})
    cand = write_results(tmp_path / "cand", {(s, "wl_a"): c for s, (_, c) in CASES.items()}
                         | {("added", "wl_a"): [100, 100, 100]})
    return base, cand


def verdicts(result: compare.Comparison) -> dict[str, compare.Row]:
    return {r.submission: r for r in result.rows}


def test_verdicts_on_hand_made_cases(pair):
    result = compare.compare_paths(*pair)
    rows = verdicts(result)
    assert {s: r.verdict for s, r in rows.items()} == {
        "same": "same", "slower": "worse", "within_tol": "same", "faster": "better", "noisy": "same",
        "breaks": "newly failing", "fixed": "newly passing", "never": "same", "never_worse": "worse",
        "never_better": "better", "dropped": "missing", "added": "missing",
    }
    assert rows["same"].ratio == 1 and rows["same"].interval == (1.0, 1.0)  # paired by seed: no spread
    assert rows["slower"].ratio == pytest.approx(140 / 110) and rows["slower"].interval[0] > 1
    assert rows["faster"].interval[1] < 1
    lo, hi = rows["noisy"].interval
    assert rows["noisy"].ratio > 1.05 and lo < 1 < hi and "includes 1" in rows["noisy"].note
    assert rows["breaks"].baseline == 110 and math.isinf(rows["breaks"].candidate)
    assert rows["breaks"].candidate_reached == "1/3" and rows["same"].baseline_reached == "3/3"
    assert {r.submission for r in result.regressions} == {"slower", "breaks", "never_worse"}
    assert result.exit_code == 1
    assert any("one side only" in n for n in result.notes)
    target = WL.target.value  # neither side reached it: the distance left within the budget is compared
    worse = rows["never_worse"]
    assert worse.basis == "distance" and worse.baseline == pytest.approx(target - 0.95)
    assert worse.candidate == pytest.approx(target - 0.6) and worse.interval[0] > 1
    assert "farther from the target" in worse.note and rows["never"].ratio == 1
    assert any("distance to the target" in n for n in result.notes)


def test_nothing_comparable_is_exit_2_never_a_silent_yes(tmp_path, monkeypatch, capsys):
    """Every trial failed on both sides: no time, no value of the metric; that is not 'no regression'."""
    base = write_results(tmp_path / "b", {("s", "w"): [None, None]}, error="RuntimeError: boom")
    cand = write_results(tmp_path / "c", {("s", "w"): [None, None]}, error="RuntimeError: boom")
    with pytest.raises(OptbenchError, match="nothing could be compared"):
        compare.compare_paths(base, cand)
    code, out, err = cli(monkeypatch, capsys, "compare", base, cand)
    assert code == 2 and "no regression" not in out and err.startswith("error: nothing could be compared")


def test_tolerance_decides_what_counts_as_worse(pair):
    strict = verdicts(compare.compare_paths(*pair, tolerance=0.01))
    loose = verdicts(compare.compare_paths(*pair, tolerance=0.5))
    assert strict["within_tol"].verdict == "worse"
    assert loose["slower"].verdict == "same" and loose["faster"].verdict == "same"
    assert loose["breaks"].verdict == "newly failing"  # tolerance never excuses a missed target


def test_seconds_clock_and_a_seeded_bootstrap(pair):
    a = compare.compare_paths(*pair, clock="seconds", seed=3)
    b = compare.compare_paths(*pair, clock="seconds", seed=3)
    assert verdicts(a)["slower"].baseline == pytest.approx(110 * SECONDS_PER_STEP)
    assert [r.interval for r in a.rows] == [r.interval for r in b.rows]
    assert verdicts(a)["slower"].verdict == "worse"
    none = verdicts(compare.compare_paths(*pair, bootstrap=0))
    assert none["noisy"].interval is None and none["noisy"].verdict == "worse"  # the point ratio alone


def test_one_study_falls_back_to_the_point_ratio(tmp_path):
    base = write_results(tmp_path / "b", {("slow", "w"): [100], ("ok", "w"): [100]})
    cand = write_results(tmp_path / "c", {("slow", "w"): [130], ("ok", "w"): [102]})
    result = compare.compare_paths(base, cand)
    rows = verdicts(result)
    assert rows["slow"].verdict == "worse" and rows["slow"].interval is None
    assert rows["ok"].verdict == "same" and "one study" in rows["ok"].note
    assert any("single study" in n for n in result.notes)
    assert "one study" in compare.to_markdown(result)


def test_different_study_numbers_are_resampled_independently(tmp_path):
    base = write_results(tmp_path / "b", {("s", "w"): {0: 100, 1: 110, 2: 120}})
    cand = write_results(tmp_path / "c", {("s", "w"): {0: 100, 1: 110, 3: 120}})
    result = compare.compare_paths(base, cand)
    assert result.rows[0].verdict == "same" and result.rows[0].interval[0] < 1 < result.rows[0].interval[1]
    assert any("independently" in n for n in result.notes)


def test_save_baseline_then_compare(tmp_path, pair):
    base, cand = pair
    file = tmp_path / "baseline.json"
    baseline.save_baseline(base, file)
    data = json.loads(file.read_text())
    assert data["format"] == "optbench-baseline" and data["optbench_version"] == __version__
    assert data["workloads"]["wl_a"]["hash"] == dataclasses.replace(WL, name="wl_a").hash
    assert data["results"]["wl_a"]["breaks"] == {
        "study": [0, 1, 2], "steps_to_target": [100, 110, 120], "time_to_target": [1.0, 1.1, 1.2],
        "best_metric": [0.97, 0.97, 0.97]}
    assert data["format_version"] == 2 and data["clock"] == "wall"
    assert data["workloads"]["wl_a"]["mode"] == "max" and data["workloads"]["wl_a"]["value"] == WL.target.value
    assert data["results"]["wl_a"]["fixed"]["steps_to_target"] == [None, None, 120]
    assert data["provenance"]["git"]["commit"].startswith("0123")
    from_file = compare.compare_paths(file, cand)
    from_folder = compare.compare_paths(base, cand)
    assert [(r.verdict, r.ratio, r.interval) for r in from_file.rows] == \
        [(r.verdict, r.ratio, r.interval) for r in from_folder.rows]
    assert compare.compare_paths(file, base).exit_code == 0
    # a format-1 file (no best values, no targets, no clock) is still read; it compares times only
    old = json.loads(file.read_text())
    old["format_version"] = 1
    for subs in old["results"].values():
        for entry in subs.values():
            del entry["best_metric"]
    del old["clock"]
    (tmp_path / "v1.json").write_text(json.dumps(old))
    v1 = verdicts(compare.compare_paths(tmp_path / "v1.json", cand))
    assert v1["slower"].verdict == "worse" and v1["breaks"].verdict == "newly failing"
    assert v1["never_worse"].verdict == "not compared"  # no values on the baseline's side


def cli(monkeypatch, capsys, *args: object) -> tuple[int, str, str]:
    """The real entry point (`optbench.cli.main`), in this process (tests.conftest.cli): fast, same code path."""
    done = in_process(*args)
    return done.returncode, done.stdout, done.stderr


def test_cli_exit_1_with_markdown_json_and_step_summary(tmp_path, pair, monkeypatch, capsys):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = cli(monkeypatch, capsys, "compare", *pair, "--markdown", tmp_path / "c.md",
                       "--json", tmp_path / "c.json")
    assert code == 1
    assert "REGRESSION in 3 of 12 pairs" in out and "slower" in out and "newly failing" in out
    md = (tmp_path / "c.md").read_text()
    assert md.startswith("### ❌ optbench compare: REGRESSION")
    assert "| wl_a | slower | 110 (3/3) | 140 (3/3) | 1.273 |" in md and "**worse**" in md
    assert summary.read_text() == "earlier step\n" + md + "\n"  # appended, not overwritten
    data = json.loads((tmp_path / "c.json").read_text())
    assert data["exit_code"] == 1 and data["regression"] is True and data["clock"] == "steps"
    rows = {r["submission"]: r for r in data["rows"]}
    assert rows["slower"]["verdict"] == "worse" and rows["slower"]["interval"][0] > 1
    assert rows["breaks"]["candidate"] is None and rows["breaks"]["verdict"] == "newly failing"
    assert data["baseline"]["workload_hashes"] == data["candidate"]["workload_hashes"]


def test_cli_exit_0_and_save_baseline(tmp_path, pair, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    base, _ = pair
    code, out, _ = cli(monkeypatch, capsys, "compare", "--save-baseline", tmp_path / "b.json", base)
    assert code == 0 and "written to" in out
    code, out, _ = cli(monkeypatch, capsys, "compare", tmp_path / "b.json", base, "--markdown", tmp_path / "m.md")
    assert code == 0 and "no regression" in out
    assert (tmp_path / "m.md").read_text().startswith("### ✅ optbench compare: no regression")


def test_bad_input_is_one_line_and_exit_2(tmp_path, pair, monkeypatch, capsys):
    base, cand = pair
    other = write_results(tmp_path / "other", {("same", "wl_a"): [100]},
                          workload=dataclasses.replace(WL, target=Target("validation/accuracy", 0.5, "max")))
    old = tmp_path / "old.json"
    baseline.save_baseline(base, old)
    old.write_text(old.read_text().replace(f'"optbench_version": "{__version__}"', '"optbench_version": "9.3.1"'))
    damaged = write_results(tmp_path / "damaged", {("same", "wl_a"): [100, 110]})
    (damaged / "same/study_1/wl_a/trial_0/trial.json").write_text('{"status": "reach')
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "score.json").write_text('{"submissions": []}')
    cases = {
        ("compare", base, other): ["incomparable workload hashes", "wl_a",
                                   dataclasses.replace(WL, name="wl_a").hash],
        ("compare", old, cand): ["optbench 9.3.1", f"this is optbench {__version__}", "--save-baseline"],
        ("compare", base, damaged): ["unreadable or unfinished trial", "study_1"],
        ("compare", base, tmp_path / "empty"): ["no finished trials"],
        ("compare", tmp_path / "junk.json", cand): ["not valid JSON"],
        ("compare", tmp_path / "score.json", cand): ["not a usable optbench baseline file"],
        ("compare", tmp_path / "nope", cand): ["no such results folder or baseline file"],
        ("compare", base): ["BASELINE CANDIDATE"],
        ("compare", "--save-baseline", tmp_path / "x.json", tmp_path / "empty"): ["no finished trials"],
        ("compare", base, cand, "--clock", "hours"): ["--clock hours"],
        ("compare", base, cand, "--clock", "cpu"): ["--clock cpu", "wall seconds"],
    }
    for args, needles in cases.items():
        code, out, err = cli(monkeypatch, capsys, *args)
        assert code == 2, (args, out, err)
        line = " ".join(err.split())  # rich may wrap; the message is one line
        assert err.startswith("error:") and "Traceback" not in err, err
        for needle in needles:
            assert needle in line, (args, needle, err)
    assert "wl_a (baseline" in " ".join(
        cli(monkeypatch, capsys, "compare", base, other)[2].split())  # says which workload, with both hashes


def test_compare_through_a_real_subprocess(pair):
    """The console entry point as CI calls it: the exit code reaches the shell (0 and 1 are
    checked the same way by tests/test_compare_workflow.py)."""
    base, _ = pair
    proc = run_cli("compare", str(base), str(base.parent / "missing"))
    assert proc.returncode == 2 and proc.stderr.startswith("error:") and "missing" in proc.stderr


def test_rulesets_must_match(tmp_path):
    base = write_results(tmp_path / "b", {("s", "w"): [100]}, ruleset="self")
    cand = write_results(tmp_path / "c", {("s", "w"): [100]}, ruleset="external")
    with pytest.raises(OptbenchError, match="rulesets differ"):
        compare.compare_paths(base, cand)
