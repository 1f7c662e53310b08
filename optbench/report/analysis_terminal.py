"""The terminal tables of the analyses beyond the leaderboard (rich, readable at 80 columns):
the score against the tuning budget (``score --tuning-curve``), the ranks on both clocks,
and the significance tests (``score --stats``).

Apart from :mod:`optbench.report.terminal` so that each file keeps one job; the same
conventions (user text escaped, tables printed whole with :func:`~optbench.report.terminal.print_whole`).
"""

from __future__ import annotations

import math
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

#: Pairwise rows printed in full up to this many; beyond, only leaderboard neighbours.
MAX_PAIR_ROWS = 30


def _p(p: float) -> str:
    if p != p:
        return "—"
    text = f"{p:.2g}" if p >= 0.001 else f"{p:.0e}"
    return f"[bold green]{text}[/]" if p < 0.01 else text


def pairs_table(board: Scoreboard) -> tuple[Any, int]:
    """The paired tests, one row per workload x pair; returns (table, rows left out)."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from optbench.report.format import short_duration

    assert board.stats is not None
    pairs = board.stats.pairs
    left_out = 0
    if len(pairs) > MAX_PAIR_ROWS:
        position = {s: i for i, s in enumerate(board.leaderboard.index)}
        near = (pairs["faster"].map(position) - pairs["slower"].map(position)).abs() == 1
        left_out, pairs = int((~near).sum()), pairs[near]
    table = Table(title="is the faster one faster? paired tests over studies", box=box.SIMPLE_HEAD, padding=(0, 1),
                  caption="one-sided permutation test on ranks of the time to target, paired by study (misses "
                          "rank last); W/L/T: studies won, lost, tied; p < 0.01 in green")
    for name in ("workload", "faster", "slower"):
        table.add_column(name, overflow="fold")
    for name in ("medians", "W/L/T", "p"):
        table.add_column(name, justify="right", no_wrap=True)
    for r in pairs.itertuples():
        medians = " ".join(short_duration(t, board.clock) if math.isfinite(t) else "—"
                           for t in (r.median_faster, r.median_slower))
        table.add_row(escape(str(r.workload)), escape(str(r.faster)), escape(str(r.slower)), medians,
                      f"{r.wins}/{r.losses}/{r.ties}", _p(r.p_value))
    return table, left_out


def speedrun_table(board: Scoreboard) -> Any:
    """The speedrun check per submission x workload."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    assert board.stats is not None
    table = Table(title="does the mean final metric beat the target? (speedrun check)", box=box.SIMPLE_HEAD,
                  padding=(0, 1), caption="one-sided t-test over studies of the best metric of each study's "
                                          "chosen trial; runs: needed for p < 0.01 at this mean and spread")
    table.add_column("submission", style="bold", overflow="fold")
    table.add_column("workload", overflow="fold")
    for name in ("n", "mean ± sd", "target", "p", "runs"):
        table.add_column(name, justify="right", no_wrap=True)
    for r in board.stats.speedrun.itertuples():
        spread = f"{r.mean_metric:.4g} ± {r.std_metric:.2g}" if r.std_metric == r.std_metric else f"{r.mean_metric:.4g}"
        runs = "never" if r.runs_needed != r.runs_needed or r.runs_needed is None else str(int(r.runs_needed))
        table.add_row(escape(str(r.submission)), escape(str(r.workload)), str(r.runs), spread, f"{r.target:g}",
                      _p(r.p_value), runs)
    return table


def print_stats(board: Scoreboard, console: Any) -> None:
    table, left_out = pairs_table(board)
    print_whole(console, table)
    if left_out:
        console.print(f"({left_out} more pairs, not neighbours on the leaderboard, in pairwise_tests.csv)")
    print_whole(console, speedrun_table(board))
