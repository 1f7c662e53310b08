"""The terminal tables of the analyses beyond the leaderboard (rich, readable at 80 columns):
the score against the tuning budget (``score --tuning-curve``), the ranks on both clocks,
and the significance tests (``score --stats``).

Apart from :mod:`optbench.report.terminal` so that each file keeps one job; the same
conventions (user text escaped, tables printed whole with :func:`~optbench.report.terminal.print_whole`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from optbench.report.terminal import print_whole

if TYPE_CHECKING:
    from optbench.scoring.scoreboard import Scoreboard

#: At most this many k columns in the tuning table (the first, the last, evenly between).
MAX_K_COLUMNS = 8


def _ks(ks: list[int]) -> list[int]:
    if len(ks) <= MAX_K_COLUMNS:
        return ks
    picks = {ks[round(i * (len(ks) - 1) / (MAX_K_COLUMNS - 1))] for i in range(MAX_K_COLUMNS)}
    return sorted(picks)


def tuning_table(board: Scoreboard) -> Any:
    """Score with k trials per study, one row per submission (leaderboard order)."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    assert board.tuning is not None
    scores = board.tuning.scores
    ks = _ks([int(k) for k in scores.columns])
    table = Table(title="score with k trials per study (tuning-cost curve)", box=box.SIMPLE_HEAD, padding=(0, 1),
                  caption="steps 3-7 on each study's median best of k trials (exact, over every draw of k); "
                          "k = N is the leaderboard")
    table.add_column("submission", style="bold", overflow="fold")
    for k in ks:
        table.add_column(f"k={k}", justify="right", no_wrap=True)
    for sub in board.leaderboard.index:
        table.add_row(escape(str(sub)), *(f"{scores.loc[sub, k]:.3f}" for k in ks))
    return table


def print_tuning(board: Scoreboard, console: Any) -> None:
    print_whole(console, tuning_table(board))


def clocks_table(board: Scoreboard) -> Any:
    """Rank and score on each clock, and the change (▲ better on the second clock)."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from optbench.scoring.clock_ranks import changed
    from optbench.scoring.rules import CLOCK_UNITS

    ranks = board.clock_ranks
    assert ranks is not None
    first, second = list(board.boards)
    n = changed(ranks)
    table = Table(title=f"ranks on both clocks: {n} of {len(ranks)} submission(s) change rank",
                  box=box.SIMPLE_HEAD, padding=(0, 1),
                  caption=f"the same trials scored on {CLOCK_UNITS[first]} and on {CLOCK_UNITS[second]} "
                          f"to target; change > 0: better on {CLOCK_UNITS[second]}")
    table.add_column("submission", style="bold", overflow="fold")
    for clock in (first, second):
        table.add_column(f"#{clock}", justify="right", no_wrap=True)
        table.add_column(f"score {clock}", justify="right", no_wrap=True)
    table.add_column("change", justify="right", no_wrap=True)
    for sub, row in ranks.iterrows():
        change = int(row["change"])
        mark = f"[green]▲{change}[/]" if change > 0 else f"[red]▼{-change}[/]" if change < 0 else "="
        table.add_row(escape(str(sub)), str(int(row[f"rank_{first}"])), f"{row[f'score_{first}']:.3f}",
                      str(int(row[f"rank_{second}"])), f"{row[f'score_{second}']:.3f}", mark)
    return table


def print_clocks(board: Scoreboard, console: Any) -> None:
    print_whole(console, clocks_table(board))
