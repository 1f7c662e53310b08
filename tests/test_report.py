"""`optbench report`: one self-contained page, every section, escaping, and missing pieces shown."""

from __future__ import annotations

import base64
import dataclasses
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from optbench.report import collect as collect_mod
from optbench.report.html import write_report
from optbench.spec import Target
from tests.conftest import cli as cli_main
from tests.test_compare import WL, cli, write_results

EVIL = 'evil<&>"sub'  # a legal folder name that would break HTML unescaped


def make_results(tmp_path: Path) -> Path:
    root = write_results(tmp_path / "exp", {("adamw", "wl_a"): [100, 120], ("adamw", "wl_b"): [40, 60],
                                            ("sgd", "wl_a"): [150, 130], ("sgd", "wl_b"): [None, None]})
    write_results(root, {(EVIL, "wl_a"): [None]}, experiment=False,
                  hparams={"learning_rate": 0.1, "note": "<script>alert('hp')</script>"},
                  error="RuntimeError: <img src=x onerror=alert(1)> at step 3")
    return root


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return make_results(tmp_path)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """(path, data) of the report of make_results' folder, rendered once: the tests read it."""
    return write_report(make_results(tmp_path_factory.mktemp("report")), tmp_path_factory.mktemp("out") / "r.html")


def test_the_report_has_every_section(rendered):
    out, data = rendered
    html = out.read_text()
    for section in ("leaderboard", "workloads", "trials", "provenance"):
        assert f'<section id="{section}">' in html
    assert "missing" not in re.findall(r'<section id="(\w+)"', html)  # nothing is missing here
    # leaderboard: adamw best on both workloads -> score 1, first
    board = html.split('<section id="leaderboard">')[1].split("</section>")[0]
    assert re.search(r"<td class=\"num\">1</td><td>adamw</td>\s*<td class=\"num score\">1.0000</td>", board)
    assert "2/2" in board and "×1.00" in board and "—" in board  # sgd never reached wl_b
    # figures: the profile, the profiles on both clocks (analyses), and one per workload, inlined, nothing fetched
    images = re.findall(r'<img alt="[^"]*" src="([^"]+)"', html)
    assert len(images) == 4 and all(i.startswith("data:image/svg+xml;base64,") for i in images)
    assert base64.b64decode(images[1].split(",", 1)[1]).lstrip().startswith(b"<?xml")
    assert not re.search(r'(src|href)="(https?:)?//', html) and "<script" not in html
    # per workload: target, budget, step hint, hash
    assert f"validation/accuracy ≥ {WL.target.value:g}" in html and f"hash <code>{dataclasses.replace(WL, name='wl_a').hash}" in html
    # trials: hyperparameters, status, times to target, the error (escaped) with its traceback
    trials = html.split('<section id="trials">')[1].split("</section>")[0]
    assert trials.count("<tr><td>") == 9
    assert 'class="status-failed">failed' in trials and 'class="status-reached">reached' in trials
    assert "learning_rate=0.001" in trials and "120 · 1.2 s" in trials and "600 · 6 s</td>\n<td class=\"num\">—" in trials
    assert "RuntimeError: &lt;img src=x onerror=alert(1)&gt; at step 3" in trials
    assert "<summary>traceback</summary>" in trials
    # provenance: versions, device, CPU, git, command, workload hashes
    prov = html.split('<section id="provenance">')[1]
    for needle in ("2.99.0+cpu", "Test CPU @ 3GHz (2 cores)", "none (CUDA not available)", "cpu",
                   "0123456789abcdef0123456789abcdef01234567 (clean)",
                   "optbench run --suite smoke --name exp", "workloads/wl_a.yaml", "c0ffee"):
        assert needle in prov, needle
    assert data.board is not None and not data.missing


def test_user_strings_are_escaped(rendered):
    html = rendered[0].read_text()
    assert "evil&lt;&amp;&gt;&#34;sub" in html and EVIL not in html
    assert "&lt;script&gt;alert(&#39;hp&#39;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "<script>" not in html


def test_a_folder_with_missing_pieces_still_gets_a_report(tmp_path):
    root = write_results(tmp_path / "exp", {("adamw", "wl_a"): [100, 120, 110]}, experiment=False)
    (root / "adamw/study_1/wl_a/trial_0/evals.csv").unlink()
    (root / "adamw/study_2/wl_a/trial_0/trial.json").write_text('{"status": ')  # damaged by hand
    html = write_report(root, tmp_path / "r.html")[0].read_text()
    missing = html.split('<section id="missing"')[1].split("</section>")[0]
    assert "no experiment.json" in missing
    assert "adamw/study_2/wl_a/trial_0: no complete trial.json" in missing
    assert "no readable evals.csv" in missing and "adamw/study_1/wl_a/trial_0" in missing
    assert "No readable experiment.json" in html  # provenance says what it does not know
    assert "<td>adamw</td>" in html.split('<section id="leaderboard">')[1]  # the rest is shown


def test_an_unscoreable_or_empty_folder_gets_a_report(tmp_path):
    mixed = write_results(tmp_path / "mixed", {("a", "wl"): [100]})
    write_results(mixed, {("b", "wl"): [100]}, experiment=False,
                  workload=dataclasses.replace(WL, target=Target("validation/accuracy", 0.5, "max")))
    html = write_report(mixed, tmp_path / "m.html")[0].read_text()
    assert "cannot score this folder" in html and "different definitions" in html
    assert "No leaderboard" in html
    trials = html.split('<section id="trials">')[1].split("</section>")[0]
    assert trials.count("<tr><td>wl</td>") == 2  # the trials are still listed
    prov = html.split('<section id="provenance">')[1]
    for definition in (WL, dataclasses.replace(WL, target=Target("validation/accuracy", 0.5, "max"))):
        assert dataclasses.replace(definition, name="wl").hash in prov  # both hashes are shown
    (tmp_path / "empty").mkdir()
    html = write_report(tmp_path / "empty", tmp_path / "e.html")[0].read_text()
    assert "no finished trial" in html and "No leaderboard" in html


def test_the_curves_are_median_min_max_over_studies():
    x = [np.array([1.0, 10.0, 20.0]), np.array([1.0, 10.0])]  # the second study stopped at the target
    y = [np.array([0.1, 0.5, 0.9]), np.array([0.1, 0.95])]
    grid = np.array([0.0, 1.0, 5.0, 10.0, 20.0])
    values = collect_mod._step_curve(x, y, grid)
    assert values.tolist() == [[0.1, 0.1, 0.1, 0.5, 0.9], [0.1, 0.1, 0.1, 0.95, 0.95]]


def test_report_command(results, tmp_path, monkeypatch, capsys):
    proc = cli_main("report", results, "-o", tmp_path / "cli.html")  # the console entry point
    assert proc.returncode == 0, proc.stderr
    assert "report written to" in proc.stdout and "Leaderboard" in (tmp_path / "cli.html").read_text()
    code, _, err = cli(monkeypatch, capsys, "report", tmp_path / "nope")
    assert code == 2 and err.startswith("error:") and "no such results folder" in err
    (tmp_path / "plain").mkdir()  # a folder with no trials: a quick report
    code, out, _ = cli(monkeypatch, capsys, "report", tmp_path / "plain")
    assert code == 0 and (tmp_path / "plain" / "report.html").is_file()  # default: inside the results folder


def test_help_lists_the_commands_without_heavy_imports():
    code = ("import sys; sys.argv=['optbench','--help']\nfrom optbench.cli import app\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            "print([m for m in ('torch', 'pandas', 'matplotlib', 'jinja2') if m in sys.modules])")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]")
    assert all(name in out for name in ("compare", "report", "plot"))
