"""What the figures and tables choose to show: a study that missed the target is drawn by its best
trial, a loss far above its target is drawn on a log axis with the target in view, and a board on
which nobody reached anything says so instead of ranking ties."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.console import Console

from optbench.report.collect import Curve, WorkloadInfo
from optbench.report.figures import log_scale, workload_figure
from optbench.scoring.rules import study_times


def trials(times, bests, mode="min"):
    n = len(times)
    return pd.DataFrame({"submission": ["s"] * n, "workload": ["w"] * n, "study": [0] * n, "trial": range(n),
                         "time": times, "best_metric": bests, "target_mode": [mode] * n})


def test_a_study_that_missed_is_represented_by_its_closest_trial():
    chosen = study_times(trials([np.inf] * 3, [0.166, 3.8e-4, 0.02]))  # nadamw/logreg of issue 12
    assert chosen["row"].tolist() == [1] and np.isinf(chosen["time"]).all()
    chosen = study_times(trials([np.inf] * 3, [0.7, 0.9, 0.8], mode="max"))
    assert chosen["row"].tolist() == [1]


def test_a_study_that_reached_is_still_represented_by_its_fastest_trial():
    chosen = study_times(trials([np.inf, 30.0, 20.0], [1e-9, 1e-3, 1e-3]))  # the closest never reached
    assert chosen["row"].tolist() == [2] and chosen["time"].tolist() == [20.0]


def info(values, target, mode="min"):
    x = np.arange(len(values), dtype=float)
    curve = Curve("adamw", x, np.asarray(values, float), np.asarray(values, float), np.asarray(values, float), 1)
    return WorkloadInfo("w", "train/suboptimality", target, mode, 10.0, 100, "h", [curve], [curve])


def test_log_axis_for_a_loss_spanning_decades_or_a_target_below_the_curves():
    assert log_scale(info([1.0, 0.1, 1e-3], target=1e-5))  # spans 3 decades
    assert log_scale(info([0.5, 0.3, 0.2], target=1e-5))  # one decade, but the target sits far below
    assert not log_scale(info([0.5, 0.3, 0.2], target=0.25))  # target within the range: linear is fine
    assert not log_scale(info([0.1, 0.5, 0.9], target=0.95, mode="max"))  # accuracy: never log


def test_the_target_line_is_always_in_view():
    fig = workload_figure(info([0.5, 0.3, 0.2], target=1e-5), {"adamw": ("C0", "-")}, clock="cpu")
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert ax.get_yscale() == "log" and low < 1e-5 < high
    assert "CPU seconds" in ax.get_xlabel() and "clock: cpu" in fig._suptitle.get_text()
    fig = workload_figure(info([0.2, 0.4, 0.6], target=0.97, mode="max"), {"adamw": ("C0", "-")})
    low, high = fig.axes[0].get_ylim()
    assert fig.axes[0].get_yscale() == "linear" and low < 0.97 < high


def test_a_board_where_nobody_reached_anything_says_so(tmp_path):
    from optbench.report.terminal import print_leaderboard
    from optbench.scoring.scoreboard import score_folder
    from tests.test_compare import write_results

    root = write_results(tmp_path / "r", {("adamw", "wl_a"): [None], ("sgd", "wl_a"): [None]})
    board = score_folder(root)
    console = Console(record=True, width=80)
    print_leaderboard(board, console)
    assert "no submission reached any target" in console.export_text()
