"""Every command's --help at 80 columns: nothing cut (no line too long, no truncated summary, every
default whole), no `<bool>` metavar on a flag, and text with brackets printed as written."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

from optbench.cli import app

ROOT = typer.main.get_command(app)


def command_paths(command=ROOT, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and group (typer may vendor click: duck-typed, not isinstance)."""
    paths = [path]
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            paths += command_paths(sub, (*path, name))
    return paths


def command_at(path: tuple[str, ...]):
    command = ROOT
    for name in path:
        command = command.commands[name]
    return command


def help_at_80_columns(path: tuple[str, ...]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_is_checked():
    assert {p[0] for p in command_paths() if p} >= {"run", "show", "validate", "score", "compare", "report", "plot",
                                                     "calibrate", "theory", "list", "data"}
    assert ("list", "workloads") in command_paths() and ("data", "check") in command_paths()


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "optbench")
def test_help_is_whole_at_80_columns(path):
    text = help_at_80_columns(path)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80, [line for line in lines if len(line) > 80]
    assert "<bool>" not in text and "…" not in text
    listed = lines[lines.index("Commands:") + 1:] if "Commands:" in lines else []
    assert not [line for line in listed if line.rstrip().endswith("...")], listed  # a cut summary
    joined = " ".join(text.split())
    for param in command_at(path).params:
        if param.param_type_name != "option" or param.is_flag or not param.show_default:
            continue
        if param.default in (None, (), []) or callable(param.default):
            continue
        assert f"[default: {param.default}" in joined, (param.name, param.default)


def test_run_help_prints_brackets_as_written():
    assert "pip install 'optbench[ray]'" in " ".join(help_at_80_columns(("run",)).split())


def test_a_flag_is_one_switch_without_a_value():
    text = help_at_80_columns(("run",))
    for flag in ("--keep-going", "--checkpoint", "--same-points-per-study", "--tf32", "--compile"):
        line = next(line for line in text.splitlines() if line.strip().startswith(flag))
        assert line.split()[0] == flag and not line.split()[1].startswith(("<", "/")), line
