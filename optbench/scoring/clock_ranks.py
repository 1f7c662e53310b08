"""The same trials scored on two clocks: steps to target and seconds to target, side by side.

Why: a submission whose steps are expensive (a second-order method, a big preconditioner)
wins on steps and loses on seconds; AlgoPerf's own analysis found 6 of its 16 submissions
changing rank between the two. Scoring both from the same trials shows which claims
depend on the clock. :func:`other_clock` says which second clock a board can have;
:func:`rank_changes` puts the two leaderboards side by side.
(:func:`optbench.scoring.scoreboard.build_scoreboard` builds the second board.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from optbench.errors import OptbenchError
from optbench.scoring.rules import ScoreClock, resolve_clock


def other_clock(clock: ScoreClock, trials: pd.DataFrame) -> ScoreClock | None:
    """The clock to score beside ``clock``: steps beside seconds, the run's seconds beside
    steps; None when the trials carry no steps (nothing to compare)."""
    if clock != "steps":
        steps = pd.to_numeric(trials.get("steps_to_target", pd.Series(dtype=float)), errors="coerce")
        return "steps" if steps.notna().any() else None
    try:
        return resolve_clock("seconds", trials)
    except OptbenchError:  # trials that counted both wall and cpu seconds: no one seconds clock to pick
        return None


def competition_ranks(scores: pd.Series) -> pd.Series:
    """1 = best; equal scores share the better rank (1, 1, 3), so a tie is never a rank change."""
    return scores.rank(method="min", ascending=False).astype(int)


def rank_changes(boards: Mapping[str, Any]) -> pd.DataFrame:
    """Two scoreboards (clock -> board, steps first) as one table: per submission, the rank
    and score on each clock, and ``change`` = rank on the first - rank on the second (> 0:
    better on the second clock). Rows in the first board's order."""
    (first, a), (second, b) = list(boards.items())
    table = pd.DataFrame({
        f"rank_{first}": competition_ranks(a.result.scores), f"score_{first}": a.result.scores,
        f"rank_{second}": competition_ranks(b.result.scores), f"score_{second}": b.result.scores,
    })
    table["change"] = table[f"rank_{first}"] - table[f"rank_{second}"]
    table.index.name = "submission"
    return table.sort_values([f"rank_{first}", f"rank_{second}"], kind="stable")


def changed(table: pd.DataFrame) -> int:
    """How many submissions change rank between the clocks."""
    return int(np.count_nonzero(table["change"].to_numpy()))
