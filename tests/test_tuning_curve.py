"""Tuning-cost curves (optbench/scoring/tuning_curve.py): the exact best-of-k estimator on
cases computed by hand, its properties (hypothesis), and `optbench score --tuning-curve` on a
hand-made results folder where one submission wins only with many trials."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench.scoring import scoreboard
from optbench.scoring import tuning_curve as tc
from tests import hand_results
from tests.conftest import cli, examples

INF = math.inf


def test_weights_by_hand():
    # 4 trials, k = 2: 6 pairs; the best is trial 0 in 3 of them, trial 1 in 2, trial 2 in 1
    assert tc.best_of_k_weights(4, 2) == pytest.approx([3 / 6, 2 / 6, 1 / 6, 0])
    assert tc.best_of_k_weights(4, 1) == pytest.approx([0.25] * 4)
    assert tc.best_of_k_weights(4, 4) == pytest.approx([1, 0, 0, 0])
    with pytest.raises(ValueError):
        tc.best_of_k_weights(3, 4)


def test_best_of_k_matches_enumerating_every_subset():
    times = [5.0, 8.0, 9.0, INF, INF]
    for k in range(1, 6):
        bests = [min(c) for c in itertools.combinations(times, k)]
        b = tc.best_of_k(times, k)
        assert b.p_reach == pytest.approx(np.mean(np.isfinite(bests)))
        assert b.median == np.quantile(bests, 0.5, method="inverted_cdf")
        assert b.expected == pytest.approx(np.mean(bests) if all(map(math.isfinite, bests)) else INF)


def test_one_rare_good_trial_gives_a_falling_time_and_a_rising_score():
    # "lucky": one trial in five reaches the target fast (10), the rest slowly (100);
    # "steady": every trial 40. With one trial, steady wins; with all five, lucky does.
    rows = []
    for study in range(3):
        for trial in range(5):
            rows.append(("lucky", "w", study, trial, 10.0 if trial == study else 100.0))
            rows.append(("steady", "w", study, trial, 40.0))
    trials = pd.DataFrame(rows, columns=["submission", "workload", "study", "trial", "time"])
    curves = tc.tuning_curves(trials, "time", ["lucky", "steady"], ["w"])
    lucky = curves.per_workload[curves.per_workload.submission == "lucky"].set_index("k")
    # P(the good trial among k of 5) = k/5: the median of the best is 100 until k/5 >= 1/2
    assert lucky["median_time"].tolist() == [100.0, 100.0, 10.0, 10.0, 10.0]
    assert lucky["expected_time"].tolist() == pytest.approx([100 - 90 * k / 5 for k in range(1, 6)])
    scores = curves.scores
    assert scores.loc["lucky"].is_monotonic_increasing and scores.loc["lucky", 1] < scores.loc["steady", 1]
    assert scores.loc["lucky", 5] == 1.0 and scores.loc["steady", 5] < 1.0


ranked_studies = st.lists(
    st.one_of(st.floats(1, 1e4, allow_nan=False), st.just(INF)), min_size=1, max_size=8)


@settings(max_examples=examples(200), deadline=None)
@given(ranked_studies)
def test_best_time_never_rises_with_k_and_is_the_minimum_at_n(times):
    ordered = sorted(times)  # step 2's order under choose="time"
    expected = [tc.best_of_k(ordered, k).expected for k in range(1, len(times) + 1)]
    medians = [tc.best_of_k(ordered, k).median for k in range(1, len(times) + 1)]
    reach = [tc.best_of_k(ordered, k).p_reach for k in range(1, len(times) + 1)]
    for a, b in zip(expected, expected[1:]):
        assert b <= a * (1 + 1e-12)
    assert all(b <= a for a, b in zip(medians, medians[1:]))
    assert all(b >= a - 1e-12 for a, b in zip(reach, reach[1:]))
    assert expected[-1] == min(times) and medians[-1] == min(times)
    assert reach[-1] == (1.0 if any(map(math.isfinite, times)) else 0.0)


@settings(max_examples=examples(50), deadline=None)
@given(st.lists(st.floats(1, 1e4, allow_nan=False), min_size=2, max_size=6), st.randoms())
def test_the_curve_ignores_the_order_trials_come_in(times, rnd):
    shuffled = list(times)
    rnd.shuffle(shuffled)
    frame = pd.DataFrame({"submission": "s", "workload": "w", "study": 0, "trial": range(len(times)),
                          "time": shuffled})
    per_study = tc.study_curves(frame)
    assert per_study["median_time"].iloc[-1] == min(times)
    assert per_study["expected_time"].iloc[0] == pytest.approx(np.mean(times))


def lucky_and_steady(root):
    trials = {}
    for study in range(3):
        for trial in range(5):
            trials[("lucky", "w1", study, trial)] = (10.0 if trial == study else 100.0, 100, 0.95)
            trials[("steady", "w1", study, trial)] = (40.0, 400, 0.95)
    return hand_results.write(root, trials)


def test_scoreboard_at_n_trials_is_the_leaderboard(tmp_path):
    board = scoreboard.score_folder(lucky_and_steady(tmp_path / "r"),
                                    settings=scoreboard.ScoreSettings(tuning_curve=True))
    assert board.tuning is not None
    assert board.tuning.scores[5].to_dict() == pytest.approx(board.result.scores.to_dict())


def test_score_tuning_curve_cli_writes_table_and_figure(tmp_path):
    root = lucky_and_steady(tmp_path / "r")
    out = tmp_path / "scores"
    done = cli("score", root, "--out", out, "--tuning-curve")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "tuning_curve.csv")
    assert set(table.columns) >= {"submission", "workload", "k", "median_time", "expected_time", "time_lo",
                                  "time_hi", "p_reach", "score"}
    lucky = table[table.submission == "lucky"].set_index("k")
    assert lucky["score"].is_monotonic_increasing and lucky.loc[5, "score"] == 1.0
    assert (out / "tuning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "tuning" in done.stdout.lower()


@settings(max_examples=examples(60), deadline=None)
@given(st.integers(1, 6).flatmap(lambda n: st.lists(
    st.lists(st.one_of(st.floats(1, 1e4, allow_nan=False), st.just(INF)), min_size=n, max_size=n),
    min_size=1, max_size=5)))
def test_the_vectorised_table_is_the_per_study_estimator(rows):
    grid = np.array(rows, dtype=float)
    expected, median, reach = tc.best_of_k_table(grid)
    for s, times in enumerate(rows):
        for k in range(1, len(times) + 1):
            b = tc.best_of_k(times, k)
            assert expected[s, k - 1] == pytest.approx(b.expected)
            assert median[s, k - 1] == b.median and reach[s, k - 1] == pytest.approx(b.p_reach)


def test_a_study_with_fewer_trials_keeps_its_value_at_its_own_n():
    trials = pd.DataFrame({"submission": ["a"] * 5, "workload": "w", "study": [0, 0, 0, 1, 1],
                           "trial": [0, 1, 2, 0, 1], "time": [30.0, 10.0, 20.0, 50.0, 40.0]})
    curves = tc.tuning_curves(trials, "time", ["a"], ["w"])
    study1 = curves.per_study[curves.per_study.study == 1].set_index("k")["median_time"]
    # k = 1: P(best <= 40) = 1/2, the lower median; k = 3 > its 2 trials: its best of 2
    assert study1.to_dict() == {1: 40.0, 2: 40.0, 3: 40.0}
    assert curves.per_study[curves.per_study.study == 1].set_index("k")["expected_time"].tolist() == [45.0, 40.0, 40.0]
    study0 = curves.per_study[curves.per_study.study == 0].set_index("k")["expected_time"]
    assert study0.tolist() == pytest.approx([20.0, (10 * 2 + 20 * 1) / 3, 10.0])
