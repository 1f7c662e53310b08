"""Both clocks from the same trials (optbench/scoring/clock_ranks.py): a hand-made results folder
where the submission that is faster in steps is slower in seconds, so the ranks swap."""

from __future__ import annotations

import pandas as pd

from optbench.scoring import clock_ranks, scoreboard
from tests import hand_results
from tests.conftest import cli


def swapped(root):
    """'cheap' takes 400 steps at 0.05 s a step (20 s); 'heavy' 100 steps at 0.5 s (50 s): heavy wins on
    steps, cheap on seconds. 'slow' is last on both."""
    trials = {}
    for study in range(3):
        for trial in range(2):
            trials[("cheap", "w1", study, trial)] = (20.0, 400, 0.95)
            trials[("heavy", "w1", study, trial)] = (50.0, 100, 0.95)
            trials[("slow", "w1", study, trial)] = (75.0, 700, 0.95)
    return hand_results.write(root, trials)


def test_ranks_swap_between_the_clocks(tmp_path):
    board = scoreboard.score_folder(swapped(tmp_path / "r"))
    assert board.clock == "wall" and board.other is not None and board.other.clock == "steps"
    assert list(board.boards) == ["steps", "wall"]
    ranks = board.clock_ranks
    assert ranks["rank_steps"].to_dict() == {"heavy": 1, "cheap": 2, "slow": 3}
    assert ranks["rank_wall"].to_dict() == {"heavy": 2, "cheap": 1, "slow": 3}
    assert ranks["change"].to_dict() == {"heavy": -1, "cheap": 1, "slow": 0}
    assert clock_ranks.changed(ranks) == 2
    # the second board is the first one scored on the other clock, not a copy
    on_steps = scoreboard.score_folder(tmp_path / "r", settings=scoreboard.ScoreSettings(clock="steps"))
    assert on_steps.result.scores.to_dict() == board.other.result.scores.to_dict()
    assert on_steps.other.clock == "wall"


def test_ties_are_no_rank_change():
    scores = pd.Series({"a": 1.0, "b": 1.0, "c": 0.5})
    assert clock_ranks.competition_ranks(scores).to_dict() == {"a": 1, "b": 1, "c": 3}


def test_one_clock_only_when_asked(tmp_path):
    board = scoreboard.score_folder(swapped(tmp_path / "r"), settings=scoreboard.ScoreSettings(both_clocks=False))
    assert board.other is None and board.clock_ranks is None


def test_score_prints_rank_changes_in_80_columns(tmp_path):
    root = swapped(tmp_path / "r")
    done = cli("score", root, "--out", tmp_path / "o")
    assert done.returncode == 0, done.stderr
    assert "2 of 3 submission(s) change rank" in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    table = pd.read_csv(tmp_path / "o" / "clock_ranks.csv", index_col="submission")
    assert table.loc["cheap", "change"] == 1 and table.loc["heavy", "change"] == -1
