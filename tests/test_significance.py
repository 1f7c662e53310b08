"""Significance (optbench/scoring/significance.py): identical trials give p = 1, a planted 2x
speed-up over enough studies gives p < 0.01, misses count as the slowest; the speedrun check
against scipy's t distribution; `optbench score --stats` end to end on a hand-made folder."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from optbench.scoring import scoreboard
from optbench.scoring import significance as sig
from tests import hand_results
from tests.conftest import cli, examples

INF = math.inf


def test_identical_trials_give_p_one():
    times = np.array([30.0, 41.0, 35.0, INF, 38.0])
    assert sig.paired_rank_test(times, times.copy()) == pytest.approx(1.0)


def test_planted_two_fold_speedup_is_significant_with_enough_studies():
    rng = np.random.default_rng(1)
    slow = rng.uniform(80, 120, size=8)
    fast = slow / 2
    assert sig.paired_rank_test(fast, slow) == pytest.approx(2.0 ** -8)  # all 8 studies won: the one extreme
    assert sig.paired_rank_test(fast, slow) < 0.01
    assert sig.paired_rank_test(slow, fast) == pytest.approx(1.0)
    # three studies cannot give p < 0.01, however large the effect
    assert sig.paired_rank_test(fast[:3], slow[:3]) == pytest.approx(1 / 8)


def test_one_study_is_two_equally_likely_signs():
    assert sig.paired_rank_test(np.array([1.0]), np.array([2.0])) == 0.5
    assert sig.paired_rank_test(np.array([2.0]), np.array([1.0])) == 1.0


def test_a_miss_ranks_below_any_time():
    # a reaches the target in every study, b only in one (and slower): a miss is the worst outcome
    a = np.array([50.0] * 7)
    b = np.array([INF] * 6 + [60.0])
    assert sig.paired_rank_test(a, b) < 0.01


@settings(max_examples=examples(40), deadline=None)
@given(st.lists(st.one_of(st.floats(1, 1e3, allow_nan=False), st.just(INF)), min_size=1, max_size=9))
def test_p_is_a_probability_and_identical_is_one(times):
    a = np.array(times)
    assert sig.paired_rank_test(a, a.copy()) == 1.0
    b = a[::-1].copy()
    p = sig.paired_rank_test(a, b)
    assert 0 < p <= 1


def test_speedrun_check_against_the_t_distribution():
    values = np.array([0.93, 0.95, 0.94, 0.96])  # accuracy, target 0.92, maximised
    check = sig.speedrun_check(values, 0.92, minimize=False)
    t = (values.mean() - 0.92) / (values.std(ddof=1) / 2)
    assert check.p_value == pytest.approx(stats.t.sf(t, 3))
    n = check.runs_needed
    effect = (values.mean() - 0.92) / values.std(ddof=1)
    assert stats.t.sf(effect * math.sqrt(n), n - 1) < 0.01 <= stats.t.sf(effect * math.sqrt(n - 1), n - 2)
    miss = sig.speedrun_check(np.array([3.4, 3.3, 3.31]), 3.28, minimize=True)  # loss above the target
    assert miss.p_value > 0.5 and miss.runs_needed is None


def planted(root, studies=8):
    """'fast' reaches the target in half the time of 'slow' in every study; 'twin' is 'slow' again."""
    trials = {}
    for study in range(studies):
        base = 100.0 + 7 * study
        for trial in range(2):
            trials[("slow", "w1", study, trial)] = (base + trial, 1000, 0.91 + 0.001 * study)
            trials[("twin", "w1", study, trial)] = (base + trial, 1000, 0.91 + 0.001 * study)
            trials[("fast", "w1", study, trial)] = ((base + trial) / 2, 500, 0.95 + 0.002 * study)
    return hand_results.write(root, trials)


def test_scoreboard_stats(tmp_path):
    board = scoreboard.score_folder(planted(tmp_path / "r"), settings=scoreboard.ScoreSettings(stats=True))
    pairs = board.stats.pairs.set_index(["faster", "slower"])
    assert pairs.loc[("fast", "slow"), "p_value"] == pytest.approx(2.0 ** -8)
    assert pairs.loc[("fast", "slow"), "wins"] == 8
    twins = board.stats.pairs[board.stats.pairs[["faster", "slower"]].apply(set, axis=1) == {"slow", "twin"}]
    assert twins["p_value"].iloc[0] == pytest.approx(1.0) and twins["ties"].iloc[0] == 8
    runs = board.stats.speedrun.set_index("submission")
    assert runs.loc["fast", "p_value"] < 0.01 and runs.loc["fast", "target"] == 0.9
    assert runs.loc["fast", "runs"] == 8


def test_score_stats_cli(tmp_path):
    root = planted(tmp_path / "r")
    out = tmp_path / "o"
    done = cli("score", root, "--out", out, "--stats")
    assert done.returncode == 0, done.stderr
    assert "paired tests" in done.stdout and "speedrun check" in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 80
    pairs = pd.read_csv(out / "pairwise_tests.csv")
    assert len(pairs) == 3 and (out / "speedrun_checks.csv").is_file()
