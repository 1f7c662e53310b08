"""What ``optbench score``, ``compare``, ``report`` and ``plot`` do once their options are parsed.

:mod:`optbench.cli` only parses; each of these commands is one call here, which reads
the input, computes (with :mod:`optbench.scoring`), writes the files and prints. The
results go to ``console`` and warnings to ``err_console`` (both rich consoles), so a
caller decides where each stream goes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optbench.errors import OptbenchError
from optbench.report import terminal


def score(
    results: Path,
    console: Any,
    err_console: Any,
    *,
    fmt: str = "optbench",
    targets: Path | None = None,
    ruleset: str | None = None,
    clock: str | None = None,
    tau_max: float = 4.0,
    reference: str | None = None,
    out: Path | None = None,
    as_json: bool = False,
    strict: bool = False,
    bootstrap: int = 0,
    seed: int = 0,
    studies: int | None = None,
    trials: int | None = None,
    tuning_curve: bool = False,
    both_clocks: bool = True,
    stats: bool = False,
) -> None:
    """Score ``results``; write the CSVs, ``summary.json`` and the profile figure to ``out``
    (default ``<results>/scores``); print the leaderboard, or with ``as_json`` the summary.
    ``tuning_curve``: also the score and times with k = 1..N trials per study (table and figure)."""
    from optbench.report import analysis_terminal
    from optbench.report.analysis_figures import plot_tuning_curves
    from optbench.report.figures import plot_performance_profiles
    from optbench.scoring.scoreboard import ScoreSettings, score_folder, summary_dict, write_tables

    settings = ScoreSettings(clock, tau_max, reference, bootstrap, seed, studies, trials,  # type: ignore[arg-type]
                             tuning_curve=tuning_curve, both_clocks=both_clocks,
                             stats=stats)
    out_dir = out or results / "scores"
    board = score_folder(results, fmt, targets, ruleset, settings, exclude=[out_dir])  # type: ignore[arg-type]
    if strict and board.problems:
        raise OptbenchError(f"--strict: {len(board.problems)} problem(s); the first: {board.problems[0]}")
    terminal.print_warnings(board.problems, err_console, out_dir / "warnings.txt")
    write_tables(board, out_dir)
    plot_performance_profiles(board, out_dir)
    if board.tuning is not None:
        plot_tuning_curves(board, out_dir)
    if as_json:
        sys.stdout.write(json.dumps(summary_dict(board, out_dir), indent=2) + "\n")
    else:
        terminal.print_leaderboard(board, console)
        if board.other is not None:
            analysis_terminal.print_clocks(board, console)
        if board.stats is not None:
            analysis_terminal.print_stats(board, console)
        if board.tuning is not None:
            analysis_terminal.print_tuning(board, console)
            console.print(f"tuning_curve.csv and tuning_curve.png/.svg in {out_dir}", markup=False)
        console.print(f"CSVs and performance_profile.png/.svg in {out_dir}", markup=False)


def compare(
    paths: Sequence[Path],
    console: Any,
    *,
    save_baseline: Path | None = None,
    ruleset: str | None = None,
    clock: str = "steps",
    tolerance: float = 0.05,
    bootstrap: int = 1000,
    seed: int = 0,
    markdown: Path | None = None,
    json_file: Path | None = None,
) -> int:
    """``BASELINE CANDIDATE``: print the comparison, write ``markdown``/``json_file``; returns
    the exit code (1: a regression). With ``save_baseline``: write the one results folder's
    baseline file instead, and return 0."""
    from optbench.report import baseline as base
    from optbench.report import compare as cmp

    if save_baseline is not None:
        if len(paths) != 1:
            raise OptbenchError("--save-baseline FILE takes one results folder: optbench compare "
                                "--save-baseline FILE RESULTS")
        side = base.save_baseline(paths[0], save_baseline, ruleset)
        console.print(f"baseline of {side.path} ({len(side.studies)} studies) written to {save_baseline}", markup=False)
        return 0
    if len(paths) != 2:
        raise OptbenchError("optbench compare takes BASELINE CANDIDATE (or --save-baseline FILE RESULTS)")
    result = cmp.compare_paths(paths[0], paths[1], ruleset, clock=clock, tolerance=tolerance,
                               bootstrap=bootstrap, seed=seed)
    terminal.print_comparison(result, console)
    cmp.write_outputs(result, markdown, json_file)
    return result.exit_code


def report(results: Path, console: Any, err_console: Any, *, out: Path | None = None, clock: str | None = None) -> None:
    """Write the HTML page (default ``<results>/report.html``); say what was missing and where it went."""
    from optbench.report.html import write_report

    path, data = write_report(results, out, clock)
    terminal.print_missing(data.missing, err_console)
    console.print(f"report written to {path}", markup=False)


def plot(results: Path, console: Any, err_console: Any, *, out: Path | None = None, clock: str | None = None,
         groups: bool = False) -> None:
    """Write every figure of the report as PNG and SVG (default ``<results>/plots``); with ``groups``
    the per-frequency-group losses instead (an error when no workload logged them)."""
    from optbench.report.analysis_figures import write_analysis_plots
    from optbench.report.collect import collect
    from optbench.report.figures import write_plots
    from optbench.report.groups import write_group_plots

    data = collect(results, clock)
    terminal.print_missing(data.missing, err_console)
    out_dir = out or results / "plots"
    paths = write_group_plots(data, out_dir) if groups else write_plots(data, out_dir) + write_analysis_plots(data, out_dir)
    if groups and not paths:
        raise OptbenchError(f"{results}: no trial logged group losses; add group_loss to the workload's metrics")
    console.print(f"{len(paths)} files written to {out_dir}", markup=False)
