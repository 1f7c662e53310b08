"""`optbench list workloads` at 80 columns (nothing cut but summaries, no line too long) and
`optbench show WORKLOAD` (all of it)."""

from __future__ import annotations

from optbench.report.workloads import summary, workload_lines
from optbench.workloads import discover, find_workload, load_workload_file
from tests.conftest import cli, write


def cli_at_80_columns(*args: str):
    return cli(*args, columns=80)


def test_list_workloads_fits_80_columns_with_whole_names_targets_and_both_budgets():
    proc = cli_at_80_columns("list", "workloads")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, [line for line in lines if len(line) > 80]
    for name, path in discover().items():
        spec = load_workload_file(path)
        row = next((line for line in lines if line.startswith(f"  {name} ")), None)  # a name row, not a summary
        assert row is not None, f"{name} is not whole at the start of a line"
        op = "≤" if spec.target.mode == "min" else "≥"
        assert f"{spec.target.metric} {op} {spec.target.value:g}" in row
        assert f"{spec.budget.step_budget:,} steps · " in row  # both clocks: steps and seconds
        following = lines[lines.index(row) + 1].strip()
        assert summary(spec.description).startswith(following.rstrip("…")), (name, following)
    assert "suite mini" in proc.stdout and "suite gpu" in proc.stdout


def test_a_long_user_name_keeps_whole_and_moves_the_rest_to_its_own_line(tmp_path):
    logreg = find_workload("logreg")
    long_name = "a_workload_with_a_very_long_name_that_fills_most_of_a_line_x"
    path = write(tmp_path / "w" / "mine" / f"{long_name}.yaml",
                 open(logreg.path).read().replace("name: logreg", f"name: {long_name}"))
    specs = [logreg, load_workload_file(path)]
    lines = workload_lines(specs, {}, 80)
    assert f"  {long_name}" in lines and max(len(line) for line in lines) <= 80


def test_show_prints_the_whole_description_target_budgets_and_calibration():
    proc = cli_at_80_columns("show", "logreg")
    assert proc.returncode == 0, proc.stderr
    spec = find_workload("logreg")
    text = " ".join(proc.stdout.split())
    assert " ".join(spec.description.split()) in text  # whole, however it was wrapped
    assert f"target: {spec.target.metric} ≤ {spec.target.value:g}" in text
    assert f"budget: {spec.budget.step_budget:,} steps (steps clock); {spec.budget.seconds:g} s" in text
    calibration = spec.notes["calibration"]
    assert "calibration:" in text and f"command: {calibration['command']}" in text
    assert max(len(line.rstrip()) for line in proc.stdout.splitlines()) <= 80


def test_show_an_unknown_workload_is_one_line():
    proc = cli_at_80_columns("show", "logregg")
    assert proc.returncode == 2 and proc.stderr.startswith("error: unknown workload 'logregg'"), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
