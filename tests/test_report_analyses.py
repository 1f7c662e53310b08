"""The report's analysis sections (optbench/report/analysis_html.py + analyses.html.j2) on a
hand-made results folder: each section is there when its data exists, with its caption."""

from __future__ import annotations

import re

from optbench.report.html import write_report
from tests import hand_results


def results(root, trials_per_study=5):
    """'lucky' (one good trial per study, fast in seconds, many steps) and 'steady' (every trial
    alike, few steps but slow): the tuning curve rises for lucky, and the clocks disagree."""
    trials = {}
    for study in range(3):
        for trial in range(trials_per_study):
            good = trial == study % trials_per_study
            trials[("lucky", "w1", study, trial)] = (10.0 if good else 100.0, 900 if good else 5000, 0.95)
            trials[("steady", "w1", study, trial)] = (40.0, 400, 0.93)
    return hand_results.write(root, trials)


def test_report_shows_every_analysis_with_its_caption(tmp_path):
    path, data = write_report(results(tmp_path / "r"))
    page = path.read_text()
    assert data.board is not None and data.board.tuning is not None
    for heading in ("Tuning-cost curves", "Both clocks: 2 of 2 submission(s) change rank", "Significance"):
        assert heading in page, heading
    assert page.count("How to read this") == 4  # tuning, clocks, pairs, speedrun
    assert '<a href="#analyses">' in page
    section = page[page.index('<section id="analyses">'):page.index('<section id="workloads">')]
    assert len(re.findall(r'src="data:image/svg\+xml;base64,', section)) == 2
    # the score table: lucky rises from k=1 to k=5
    assert "k=5" in section and "1.000" in section


def test_report_leaves_out_what_has_no_data(tmp_path):
    path, _ = write_report(results(tmp_path / "r", trials_per_study=1))
    page = path.read_text()
    assert "Tuning-cost curves" not in page  # one trial per study: no curve to draw
    assert "Both clocks" in page and "Significance" in page
