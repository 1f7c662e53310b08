"""`optbench plot RESULTS --out DIR`: the report's figures as PNG and SVG files."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pytest

from tests.test_compare import cli, write_results


@pytest.mark.slow  # six figures, PNG and SVG (the fast lane draws the report's SVGs: tests/test_report.py)
def test_plot_writes_every_figure_as_png_and_svg(tmp_path, monkeypatch, capsys):
    root = write_results(tmp_path / "exp", {("adamw", "wl_a"): [100, 120], ("sgd", "wl_a"): [150, None],
                                            ("adamw", "wl_b"): [40, 60], ("sgd", "wl_b"): [None, None]})
    code, out, _ = cli(monkeypatch, capsys, "plot", root, "--out", tmp_path / "plots")
    assert code == 0 and "6 files written" in out
    for stem in ("performance_profile", "curves_wl_a", "curves_wl_b"):
        png, svg = tmp_path / "plots" / f"{stem}.png", tmp_path / "plots" / f"{stem}.svg"
        assert svg.read_text().lstrip().startswith("<?xml")
        assert len(np.unique(mpimg.imread(png).reshape(-1, 4), axis=0)) > 20  # drawn, not blank
    assert not list((tmp_path / "plots").glob(".*"))  # no temporary files left


def test_plot_of_a_folder_without_trials_writes_nothing_and_says_why(tmp_path, monkeypatch, capsys):
    (tmp_path / "empty").mkdir()
    code, out, err = cli(monkeypatch, capsys, "plot", tmp_path / "empty")
    assert code == 0 and "0 files written" in out and "no finished trial" in err
    code, _, err = cli(monkeypatch, capsys, "plot", tmp_path / "nope")
    assert code == 2 and "no such results folder" in err
