"""`optbench sweep` (optbench/tools/sweep.py): the grid parser and its errors, the map and the
width of the good region on a hand-made sweep folder with a known optimum, and (slow) a real
sweep of adamw on the tiny logreg workload through the CLI."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from optbench import store
from optbench.errors import OptbenchError
from optbench.spec import Clock, TrialResult, TrialSpec
from optbench.tools import sweep as sw
from tests.hand_results import workload


def test_parse_grid_is_two_log_grids():
    lr, wd = sw.parse_grid("learning_rate=1e-4:1e-1:7,weight_decay=1e-5:1e-1:5")
    assert lr.name == "learning_rate" and len(lr.values) == 7
    assert lr.values[0] == pytest.approx(1e-4) and lr.values[-1] == pytest.approx(1e-1)
    assert np.allclose(np.diff(np.log10(lr.values)), 0.5) and wd.values[2] == pytest.approx(1e-3)
    assert len(sw.grid_points((lr, wd))) == 35


@pytest.mark.parametrize("bad", ["learning_rate=1e-4:1e-1:7", "lr=0:1:3,wd=1e-5:1e-1:5", "lr=1:0.1:3,wd=1e-5:1e-1:5",
                                 "lr=1e-4:1e-1:x,wd=1e-5:1e-1:5", "lr=1e-4:1e-1:3,lr=1e-4:1e-1:3", "lr,wd"])
def test_bad_grids_are_one_clear_error(bad):
    with pytest.raises(OptbenchError, match="--grid"):
        sw.parse_grid(bad)


def test_undeclared_names_are_refused():
    axes = sw.parse_grid("learning_rate=1e-4:1e-1:3,momentum=0.5:0.9:2")
    with pytest.raises(OptbenchError, match="momentum not declared"):
        sw.check_declared(axes, {"learning_rate", "weight_decay"}, "search_space.yaml")


def hand_sweep(root, optimum=(2, 1)):
    """A 4 x 3 grid; steps to target grow with the distance (in grid cells) from ``optimum``,
    100 steps at it; cells more than 2 away miss the target (best metric 0.5)."""
    axes = sw.parse_grid("learning_rate=1e-4:1e-1:4,weight_decay=1e-4:1e-2:3")
    store.atomic_write_json(root / sw.SWEEP_FILE, {"axes": [{"name": a.name, "values": list(a.values)} for a in axes]})
    for trial, point in enumerate(sw.grid_points(axes)):
        i, j = axes[0].values.index(point["learning_rate"]), axes[1].values.index(point["weight_decay"])
        distance = abs(i - optimum[0]) + abs(j - optimum[1])
        reached = distance <= 2
        spec = TrialSpec(workload=workload("w"), submission="adamw", submission_path=".", hparams=point, seed=trial,
                         study=0, trial=trial, ruleset="external", clock=Clock("steps"))
        steps = 100 + 20 * distance
        result = TrialResult(status="reached" if reached else "budget_exhausted", steps_to_target=steps if reached
                             else None, time_to_target=float(steps) if reached else None, steps=steps,
                             best_metric=0.95 if reached else 0.5)
        store.write_trial(root, spec, result, [])
    return root


def test_the_map_finds_the_known_optimum(tmp_path):
    m = sw.sweep_map(hand_sweep(tmp_path))
    best = m.table.loc[m.table["steps"].idxmin()]
    assert best["x"] == pytest.approx(1e-2) and best["y"] == pytest.approx(1e-3)  # grid cell (2, 1)
    # good: within 1.25 x 100 steps -> distance <= 1: the optimum and its 4 neighbours, of 12 cells
    good = m.table[m.table["good"]]
    assert len(good) == 5 and m.width == pytest.approx(5 / 12)
    assert m.reached.sum() == int((m.table["steps"] < math.inf).sum())
    missed = m.table[~np.isfinite(m.table["steps"])]
    assert (missed["best_metric"] == 0.5).all()


def test_write_sweep_draws_the_map(tmp_path):
    m, paths = sw.write_sweep(hand_sweep(tmp_path), "hand")
    assert [p.name for p in paths] == ["sweep.csv", "heatmap.png", "heatmap.svg"]
    table = pd.read_csv(paths[0])
    assert {"learning_rate", "weight_decay", "steps", "best_metric", "good"} <= set(table.columns)
    assert paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_folder_that_is_no_sweep(tmp_path):
    with pytest.raises(OptbenchError, match="not a sweep"):
        sw.sweep_map(tmp_path)


@pytest.mark.slow
def test_sweep_cli_on_logreg(tmp_path):
    done = subprocess.run([sys.executable, "-m", "optbench.cli", "sweep", "adamw", "--workload", "logreg", "--grid",
                           "learning_rate=1e-3:1e-1:3,weight_decay=1e-5:1e-2:2", "--clock", "steps",
                           "--results", str(tmp_path), "--name", "s"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    root = tmp_path / "s"
    table = pd.read_csv(root / "sweep" / "sweep.csv")
    assert len(table) == 6 and len(store.load_trials(root)) == 6
    assert "good region" in done.stdout and (root / "sweep" / "heatmap.png").is_file()
    # the smallest learning rate is the slowest (or misses) on logreg in 2000 steps
    by_lr = table.groupby("learning_rate")["steps"].min()
    assert by_lr.iloc[0] >= by_lr.iloc[-1]
    # the report of the real sweep shows its map (and `plot` writes it)
    for command in (["report", str(root)], ["plot", str(root)]):
        done = subprocess.run([sys.executable, "-m", "optbench.cli", *command], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    html = (root / "report.html").read_text()
    assert '<h3 id="sweep">Sweep: learning_rate × weight_decay, good region' in html
    assert (root / "plots" / "sweep_heatmap.png").is_file() and (root / "plots" / "hparam_scatter_logreg.png").is_file()


def test_the_reports_sweep_section_has_the_map_and_width(tmp_path):
    from optbench.report import analysis_html

    shown = analysis_html.context(None, (), sw.sweep_map(hand_sweep(tmp_path / "s")), "hand")
    assert shown["any"] and shown["tuning"] is None and shown["scatter"] is None
    sweep = shown["sweep"]
    assert (sweep["width"], sweep["reached"], sweep["points"], sweep["factor"]) == ("42%", 10, 12, "1.25")
    assert (sweep["x"], sweep["y"]) == ("learning_rate", "weight_decay")
    assert sweep["figure"].startswith("data:image/svg+xml;base64,")


@pytest.mark.slow
def test_the_report_shows_a_sweeps_map(tmp_path):
    """`optbench report` on a sweep folder: the heat map, the width of the good region and its caption."""
    from optbench.report.html import write_report

    page, data = write_report(hand_sweep(tmp_path / "s"))
    assert data.sweep is not None and data.sweep.width == pytest.approx(5 / 12)
    html = page.read_text()
    section = html[html.index('<h3 id="sweep">'):]
    assert "learning_rate × weight_decay, good region 42% of the grid" in section
    assert "How to read this" in section and "10 of 12 points reach the target" in section
    assert section.count('class="heatmap" alt=') == 1 and 'src="data:image/svg+xml;base64,' in section


@pytest.mark.parametrize("text", ['{"axes": [{"name": "learning_rate", "values": [0.1]}]}', '{"axes": 3}', "[]",
                                  '{"axes": [{"name": "a", "values": ["x"]}, {"name": "b", "values": [1]}]}',
                                  '{"axes": [{"name": "a", "values": [1]}, {"name": "b", "values": [1]}]}', "{"])
def test_a_broken_sweep_file_is_one_line_and_a_missing_piece_of_the_report(tmp_path, text):
    from optbench.report.collect import collect

    root = hand_sweep(tmp_path / "s")
    (root / sw.SWEEP_FILE).write_text(text)
    with pytest.raises(OptbenchError) as caught:
        sw.sweep_map(root)
    assert "\n" not in str(caught.value)
    data = collect(root)
    assert data.sweep is None and any(line.startswith("sweep: ") for line in data.missing)


def test_an_unfinished_sweep_says_which_points_are_missing(tmp_path):
    import shutil

    from optbench.report.collect import collect

    root = hand_sweep(tmp_path / "s")
    for folder in sorted(root.glob("*/study_*/*/trial_*"))[:2]:
        shutil.rmtree(folder)
    data = collect(root)
    assert data.sweep is not None and data.sweep.unfinished == 2
    assert any(line.startswith("sweep: 2 of 12 grid points have no finished trial") for line in data.missing)
