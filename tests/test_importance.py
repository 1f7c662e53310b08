"""Which hyperparameters matter (optbench/scoring/importance.py) and the scatter of the trials over
the two that matter most (report/analysis_figures.py's scatter_figure, the report's section,
`optbench plot`): on hand-made results folders with a planted dependence, the planted
hyperparameter must come first."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench.report.collect import collect
from optbench.report.html import write_report
from optbench.scoring import importance as imp
from optbench.scoring.scoreboard import score_folder
from optbench.tuning.spaces import load_search_space
from tests import hand_results
from tests.conftest import examples


def planted(root, studies=3, trials=8, seed=0, clock="wall"):
    """adamw on w1: the time to target falls with the learning rate (lr below 1e-3 misses, its
    best accuracy rising with lr); weight decay and beta1 are drawn but do nothing."""
    rng = np.random.default_rng(seed)
    table = {}
    for study in range(studies):
        for trial in range(trials):
            lr = float(10 ** rng.uniform(-4, -1))
            hp = {"learning_rate": lr, "weight_decay": float(10 ** rng.uniform(-5, -1)),
                  "beta1": float(rng.uniform(0.85, 0.95)), "warmup": 0.05, "name": "x"}
            if lr < 1e-3:
                table[("adamw", "w1", study, trial)] = (None, None, 0.5 + 100 * lr, hp)
            else:
                seconds = 10.0 / lr ** 0.5 / 10
                table[("adamw", "w1", study, trial)] = (seconds, int(seconds * 10), 0.95, hp)
    return hand_results.write(root, table, clock=clock)


def test_outcome_ranks_put_reached_first_then_misses_by_metric():
    time = [5.0, math.inf, 2.0, math.inf, math.inf, 5.0]
    metric = [0.9, 0.7, 0.95, 0.8, float("nan"), 0.91]
    assert imp.outcome_ranks(time, metric, "max").tolist() == [2.5, 5.0, 1.0, 4.0, 6.0, 2.5]
    # minimised metric: the smaller best metric of a miss is the better one
    assert imp.outcome_ranks([math.inf, math.inf], [0.3, 0.1], "min").tolist() == [2.0, 1.0]


@settings(deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.floats(0.01, 1e4)), st.floats(0, 1)), min_size=1, max_size=30),
       st.sampled_from(["min", "max"]))
def test_outcome_ranks_are_ranks_and_every_reached_beats_every_miss(rows, mode):
    time = np.array([math.inf if t is None else t for t, _ in rows])
    ranks = imp.outcome_ranks(time, [m for _, m in rows], mode)
    n = len(rows)
    assert ranks.sum() == pytest.approx(n * (n + 1) / 2)
    reached = np.isfinite(time)
    if reached.any() and (~reached).any():
        assert ranks[reached].max() < ranks[~reached].min()


def test_the_planted_hyperparameter_is_the_most_important(tmp_path):
    root = planted(tmp_path / "r")
    board = score_folder(root)
    trials = collect(root).trials.set_index("path")
    (item,) = imp.importances(board.trials, board.trials["path"].map(trials["hparams"]), board.clock)
    assert item.top[0] == "learning_rate"
    ranking = item.ranking.set_index("hyperparameter")
    assert ranking.loc["learning_rate", "rho"] == pytest.approx(-1.0)  # larger lr: faster, every time
    assert ranking.loc["learning_rate", "p_value"] < 0.01
    assert set(ranking.index) == {"learning_rate", "weight_decay", "beta1"}  # constants and strings left out
    assert (ranking.loc[["weight_decay", "beta1"], "importance"] < 0.6).all()
    # no search space here: log axes for positive values over two decades, linear for beta1
    assert item.is_log("learning_rate") and item.is_log("weight_decay") and not item.is_log("beta1")
    assert len(item.trials) == 24 and item.trials["chosen"].sum() == 3
    best = item.trials.groupby("study")["outcome"].min()  # each study's chosen trial is its best outcome
    assert item.trials[item.trials["chosen"]].set_index("study")["outcome"].equals(best)


def test_a_planted_second_hyperparameter_comes_second(tmp_path):
    """Time falls with the learning rate and grows with weight decay, less steeply (seconds from
    lr: 0..20, from weight decay: 0..8): learning_rate first, weight_decay second, beta1 last."""
    rng = np.random.default_rng(3)
    table = {}
    for study in range(3):
        for trial in range(10):
            lr, wd = float(10 ** rng.uniform(-3, -1)), float(10 ** rng.uniform(-5, -1))
            seconds = 10 + 10 * (-math.log10(lr) - 1) + 2 * (math.log10(wd) + 5)
            table[("adamw", "w1", study, trial)] = (seconds, int(seconds), 0.95, {
                "learning_rate": lr, "weight_decay": wd, "beta1": float(rng.uniform(0.8, 0.99))})
    root = hand_results.write(tmp_path / "r", table)
    (item,) = collect(root).importance
    assert item.top == ["learning_rate", "weight_decay"]
    rho = item.ranking.set_index("hyperparameter")["rho"]
    assert rho["learning_rate"] < -0.7 and rho["weight_decay"] > 0.2 and abs(rho["beta1"]) < abs(rho["weight_decay"])


def test_the_search_space_decides_the_axes(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "search_space.yaml").write_text("learning_rate: {min: 1.0e-4, max: 1.0e-1, scaling: log}\n"
                                           "weight_decay: {min: 0.0, max: 0.1, scaling: linear}\n"
                                           "beta1: {feasible_points: [0.9, 0.95]}\n")
    spaces = imp.search_spaces({"submissions": {"adamw": {"path": str(sub)}, "gone": {"path": str(tmp_path / "no")},
                                                "odd": "not a mapping"}})
    assert spaces["gone"] is None and spaces["odd"] is None
    declared = imp.declared_log(spaces["adamw"])
    assert declared == {"learning_rate": True, "weight_decay": False}
    assert imp.log_axis([1e-5, 1e-1], declared["weight_decay"]) is False  # declared linear wins over the span
    assert imp.log_axis([0.9, 0.95], declared.get("beta1")) is False
    assert imp.log_axis([1e-3, 1e-2], None) is False and imp.log_axis([1e-4, 1e-1], None) is True
    assert load_search_space(sub / "search_space.yaml").names == ("learning_rate", "weight_decay", "beta1")


def test_a_constant_outcome_ranks_nothing_above_zero():
    values = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]})
    ranking = imp.rank_hparams(values, np.array([2.0, 2.0, 2.0]))
    assert ranking["importance"].tolist() == [0.0, 0.0] and ranking["hyperparameter"].tolist() == ["a", "b"]


def test_one_trial_per_study_or_self_tuning_has_no_scatter(tmp_path):
    root = hand_results.write(tmp_path / "r", {("adamw", "w1", s, 0): (10.0 + s, 100, 0.95,
                                                                       {"learning_rate": 10.0 ** -s}) for s in range(3)})
    assert collect(root).importance == []


@pytest.mark.slow
def test_the_report_and_plot_draw_the_scatter(tmp_path):
    from optbench.report import commands

    root = planted(tmp_path / "r", studies=2, trials=5)
    page, data = write_report(root)
    html = page.read_text()
    assert "Trials over their two most important hyperparameters" in html
    section = html[html.index('id="hparam-scatter"'):]
    assert section.count('class="scatter"') == 1 and "<u>learning_rate</u>" in section
    assert section.index("How to read this") < section.index('class="scatter"')  # its caption
    assert "the outcome follows that hyperparameter (ρ &gt; 0: worse as it grows); a good region" in section

    class Quiet:
        def print(self, *args, **kwargs):
            pass

    commands.plot(root, Quiet(), Quiet(), out=tmp_path / "plots")
    png = tmp_path / "plots" / "hparam_scatter_w1.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_figure_draws_misses_only_and_one_hyperparameter(tmp_path):
    """Every trial missed (colour: best metric), and only one hyperparameter varies (against the outcome)."""
    from optbench.report.analysis_figures import scatter_figure

    table = {("adamw", "w1", 0, t): (None, None, 0.5 + 0.01 * t, {"learning_rate": 10.0 ** -t}) for t in range(4)}
    (item,) = collect(hand_results.write(tmp_path / "r", table)).importance
    assert item.top == ["learning_rate"]
    fig = scatter_figure([item], "steps")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "outcome rank (1 = best)"
    assert any("best validation/accuracy" in a.get_ylabel() for a in fig.axes[1:])  # the colour bar


@settings(deadline=None, max_examples=examples(30))
@given(st.lists(st.integers(0, 699), min_size=6, max_size=20, unique=True),
       st.lists(st.tuples(st.floats(1e-5, 1.0), st.floats(0.8, 0.99)), min_size=20, max_size=20),
       st.integers(0, 699), st.sampled_from(["min", "max"]))
def test_a_planted_monotone_dependence_always_comes_first(grid, others, threshold, mode):
    """Whatever the other hyperparameters do, one that orders every outcome (faster as it grows;
    below ``threshold`` a miss, whose best metric also improves as it grows) has |rho| = 1 and is
    ranked first ("a_lr" wins a tie by name). Learning rates 1e-4..1e-1 on a log grid, steps whole
    numbers: no two outcomes tie by rounding."""
    k = np.array(grid)
    lrs = 1e-4 * 10 ** (k / 233)
    reached = k >= threshold
    better = k / 1000 if mode == "max" else -k / 1000  # a miss's best metric, better as lr grows
    trials = pd.DataFrame({
        "submission": "s", "workload": "w", "study": 0, "trial": range(len(k)), "clock": "steps",
        "status": np.where(reached, "reached", "budget_exhausted"),
        "steps_to_target": np.where(reached, 10_000 - 10 * k, np.nan), "time_to_target": np.nan,
        "best_metric": better, "target_mode": mode, "chosen": False})
    hparams = pd.Series([{"a_lr": lr, "wd": wd, "beta1": b1} for lr, (wd, b1) in zip(lrs, others)])
    (item,) = imp.importances(trials, hparams, "steps")
    assert item.top[0] == "a_lr"
    assert item.ranking.set_index("hyperparameter").loc["a_lr", "rho"] == pytest.approx(-1.0)
