"""Everything optbench prints as a table in the terminal (rich), readable at 80 columns.

- :func:`print_leaderboard`: ``optbench score``'s leaderboard;
- :func:`print_run_summary`: what each trial reached, after ``optbench run``;
- :func:`print_comparison`: ``optbench compare``'s verdicts;
- :func:`print_warnings`: scoring's problems, the first few and where the rest are;
- :func:`print_missing`: what ``optbench report`` and ``plot`` could not read.

rich (and compare) are imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from optbench.report.format import number, short_duration
from optbench.scoring.rules import CLOCK_UNITS
from optbench.spec import TrialStatus

if TYPE_CHECKING:
    from optbench.experiment import RunOutcome
    from optbench.report.compare import Comparison
    from optbench.scoring.scoreboard import Scoreboard

#: Colour of each trial status in the run summary.
STATUS_STYLE = {TrialStatus.REACHED.value: "green", TrialStatus.BUDGET_EXHAUSTED.value: "yellow",
                TrialStatus.DIVERGED.value: "red", TrialStatus.FAILED.value: "red", TrialStatus.TIMEOUT.value: "red"}
#: Statuses too long for a narrow column.
STATUS_SHORT = {TrialStatus.BUDGET_EXHAUSTED.value: "budget"}
#: Warnings printed before "... and N more".
MAX_WARNINGS = 20
#: Characters of the first error quoted in ``optbench run``'s closing line (trial.json has all of it).
MAX_ERROR_CHARS = 200


def print_whole(console: Any, table: Any) -> None:
    """Print ``table`` whole: on a console narrower than the table's minimum width (a pipe is
    80 columns) rich would crop columns, so it is rendered at its minimum width instead (a
    terminal then wraps its lines)."""
    from rich.measure import Measurement

    needed = Measurement.get(console, console.options, table).minimum
    console.print(table, width=max(console.width, needed), crop=False)


# ============================================================================ optbench score


def _leaderboard_cell(time: float, ratio: float, clock: str) -> str:
    """A workload cell: the median time to target over the ratio to the best that was scored
    (``—``: not reached; ``cut``: reached, but beyond tau_max x the best or by the held-out rule)."""
    if not math.isfinite(time):
        return "[dim]—[/dim]"
    return f"{short_duration(time, clock)}\n" + (f"×{ratio:.2f}" if math.isfinite(ratio) else "[dim]cut[/dim]")


def leaderboard_table(board: Scoreboard) -> Any:
    """The rich table: rank, submission, score (and interval), workloads reached, then per
    workload the median time to target and its ratio to the best (— = not reached).

    Borderless, and only the workload columns may fold, so that it stays readable in an
    80-column terminal with AlgoPerf's eight workloads."""
    from rich import box
    from rich.table import Table

    lb = board.leaderboard
    clock = CLOCK_UNITS.get(board.clock, str(board.clock))
    title = (f"optbench score — {board.format} logs, {board.ruleset} tuning, {clock} to target, "
             f"τmax={board.tau_max:g}" + (f", ratios to {board.reference}" if board.reference else ""))
    table = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1),
                  caption="cells: median over studies of the time to target, ×ratio to the best "
                          "(— not reached; cut: beyond τmax × the best, or the held-out rule)")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("submission", style="bold", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("reached", justify="right", no_wrap=True)
    for w in board.workloads:
        table.add_column(w, justify="right", overflow="fold", min_width=5)
    for row in lb.itertuples():
        score = f"{row.score:.4f}"
        if board.score_ci is not None:
            score += f"\n[dim]{row.score_lo:.2f}–{row.score_hi:.2f}[/dim]"
        cells = [_leaderboard_cell(board.medians.loc[row.Index, w], board.result.ratios.loc[row.Index, w],
                                   board.clock) for w in board.workloads]
        table.add_row(str(row.rank), str(row.Index), score, f"{row.workloads_reached}/{row.workloads}", *cells)
    return table


def print_leaderboard(board: Scoreboard, console: Any) -> None:
    """Print :func:`leaderboard_table` whole (see :func:`print_whole`); when no submission reached any
    target there is nothing to rank, and that is what is said (with what each did reach)."""
    if not int(board.leaderboard["workloads_reached"].sum()):
        console.print(f"[bold]no submission reached any target[/] ({board.ruleset} tuning, clock {board.clock}): "
                      "the scores below are all 0 and rank nothing; the run summary, `optbench report` and "
                      "`optbench compare` show how close each came", highlight=False)
    print_whole(console, leaderboard_table(board))


def print_warnings(problems: Sequence[Any], console: Any, rest_in: Path | None = None) -> None:
    """``warning: <problem>`` for the first :data:`MAX_WARNINGS`, then how many more and where."""
    from rich.markup import escape

    for problem in problems[:MAX_WARNINGS]:
        console.print(f"[yellow]warning:[/] {escape(str(problem))}", highlight=False, soft_wrap=True)
    if len(problems) > MAX_WARNINGS:
        console.print(f"... and {len(problems) - MAX_WARNINGS} more warnings: see {rest_in}", markup=False)


def print_missing(lines: Sequence[str], console: Any) -> None:
    """``missing: <what>``, one line each (the text is the user's: never read as markup)."""
    from rich.markup import escape

    for line in lines:
        console.print(f"[yellow]missing:[/] {escape(line)}", highlight=False, soft_wrap=True)


# ============================================================================ optbench run


def print_run_summary(root: Path, console: Any) -> None:
    """One compact table per workload (its target in the title): readable in 80 columns."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from optbench import store

    frame = store.load_trials(root)
    if frame.empty:
        console.print("no finished trials")
        return
    console.print(f"[bold]What each trial reached[/] — {escape(str(root))}", highlight=False)
    frame = frame.sort_values(["workload", "submission", "study", "trial"])
    clocks = set(frame["clock"].dropna()) if "clock" in frame else {"wall"}
    for workload, rows in frame.groupby("workload", sort=True):
        first = rows.iloc[0]
        op = "≤" if first.target_mode == "min" else "≥"
        clock = str(first.get("clock") or "wall")
        budget = (f"{int(first.budget_steps)} steps" if clock == "steps"
                  else f"{first.budget_seconds:g} {CLOCK_UNITS.get(clock, 's')}")
        table = Table(title=f"{escape(str(workload))}: {escape(str(first.target_metric))} {op} "
                      f"{first.target_value:g} within {budget}", title_justify="left", box=box.SIMPLE_HEAD,
                      padding=0, pad_edge=False, show_edge=False)
        for column, justify in (("submission", "left"), ("study", "right"), ("trial", "right"),
                                ("status", "left"), ("steps→", "right"), ("s→", "right"), ("best", "right"),
                                ("steps", "right"), ("time s", "right")):
            table.add_column(column, justify=justify, overflow="fold")
        for row in rows.itertuples():
            steps_to = row.steps_to_target if row.steps_to_target == row.steps_to_target else None
            table.add_row(escape(str(row.submission)), str(row.study), str(row.trial),
                          f"[{STATUS_STYLE.get(row.status, '')}]{STATUS_SHORT.get(row.status, row.status)}[/]",
                          number(None if steps_to is None else int(steps_to)), number(row.time_to_target),
                          number(row.best_metric, 4), str(row.steps), number(row.submission_time))
        console.print(table)
    seconds = " / ".join(CLOCK_UNITS[c] for c in sorted(clocks - {"steps"})) or CLOCK_UNITS["wall"]
    console.print(f"steps→, s→: steps and submission seconds ({seconds}) to the target; time s: in all",
                  highlight=False)


def run_outcome_line(outcome: RunOutcome) -> str | None:
    """``optbench run``'s closing line when a trial failed, timed out or is missing (None when none
    did): the counts and the first error, on its first line and cut at :data:`MAX_ERROR_CHARS`."""
    if not outcome.exit_code:
        return None
    counts = [f"{n} {what}" for n, what in ((outcome.failed, "failed"), (outcome.timed_out, "timed out"),
                                            (outcome.missing, "without a result")) if n]
    error = (outcome.first_error or "").strip().splitlines()[0] if outcome.first_error else ""
    if len(error) > MAX_ERROR_CHARS:
        error = error[:MAX_ERROR_CHARS - 1] + "…"
    bad = outcome.failed + outcome.timed_out + outcome.missing
    return (f"{bad} of {outcome.trials} trial(s) measured nothing ({', '.join(counts)}); "
            f"first: {error} (its trial.json holds the whole error)")


def print_next_step(root: Path, console: Any) -> None:
    """The command to type after a run (quoted for a shell when the folder needs it)."""
    import shlex

    from rich.markup import escape

    console.print(f"next: optbench score {escape(shlex.quote(str(root)))}", highlight=False, soft_wrap=True)


# ============================================================================ optbench compare


def comparison_table(result: Comparison) -> Any:
    """The rich table of ``optbench compare``: one row per workload x submission."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from optbench.report import compare

    verdict_style = {compare.BETTER: "green", compare.SAME: "", compare.WORSE: "bold red",
                     compare.NEWLY_FAILING: "bold red", compare.NEWLY_PASSING: "green", compare.NOT_COMPARED: "dim",
                     compare.MISSING: "yellow"}
    table = Table(title=f"optbench compare — {escape(result.baseline.path)} → {escape(result.candidate.path)}",
                  caption=result.settings_text(), box=box.SIMPLE_HEAD)
    for name in ("workload", "submission"):
        table.add_column(name, overflow="fold")
    for name in ("baseline", "candidate", "ratio", f"{result.level:.0%} interval", "verdict"):
        table.add_column(name, justify="left" if name == "verdict" else "right", no_wrap=True)
    table.add_column("note", overflow="fold", max_width=40)
    for r in result.rows:
        style = verdict_style.get(r.verdict, "")
        verdict = f"[{style}]{r.verdict}[/]" if style else r.verdict
        table.add_row(escape(r.workload), escape(r.submission),
                      compare.side_text(r.baseline, r.baseline_reached, result.clock, r.basis),
                      compare.side_text(r.candidate, r.candidate_reached, result.clock, r.basis),
                      compare.ratio_text(r), compare.interval_text(r), verdict, escape(r.note))
    return table


def print_comparison(result: Comparison, console: Any) -> None:
    """The table, its notes and the headline. In a CI log or a pipe the table is as wide as
    it needs, never cropped."""
    from rich.markup import escape
    from rich.measure import Measurement

    table = comparison_table(result)
    width = console.width
    if not console.is_terminal:
        console.width = max(width, Measurement.get(console, console.options.update(width=1000), table).maximum)
    try:
        console.print(table, crop=False)
    finally:
        console.width = width
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    style = "bold red" if result.regressions else "bold green"
    console.print(f"[{style}]{escape(result.headline())}[/]")
