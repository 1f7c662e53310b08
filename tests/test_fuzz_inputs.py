"""The fuzz suite: for every generated malformed input, the CLI either succeeds or prints one line and exits 2.

No traceback, no hang, no silent acceptance of an input known to be invalid, an error line of at most
500 characters, nothing written outside the results folder. The corpus is tests/fuzz/corpus.py
(seeded); the figures over a large sample come from ``benchmarks/fuzz_inputs.py`` (docs/reliability.md).

Fast lane: a sample of the cases that train nothing, in this process through typer's CliRunner (every
other one of them, and all but one damaged results folder (seconds each: score and compare), is marked
slow; the full suite runs the whole sample).
Slow lane: a sample of every format (training ones included) as real subprocesses with a time limit.
"""

from __future__ import annotations

import pytest

from tests.fuzz.corpus import FORMATS, cases
from tests.fuzz.harness import run_inprocess, run_subprocess

FAST = [c for fmt in FORMATS for c in cases(fmt, 24, seed=1) if not c.heavy][::3]
SLOW = [c for fmt in FORMATS for c in cases(fmt, 12, seed=2)][::2]


def _assert_clean(outcome, case) -> None:
    assert outcome.verdict == "clean", (case.fmt, case.label, outcome.verdict, outcome.detail, outcome.stderr[-2000:])


def _fast(i: int, case) -> bool:
    first_results = next(j for j, c in enumerate(FAST) if c.fmt == "results" and j % 2 == 0)
    return i % 2 == 0 and (case.fmt != "results" or i == first_results)


@pytest.mark.parametrize("case", [pytest.param(c, marks=() if _fast(i, c) else pytest.mark.slow)
                                  for i, c in enumerate(FAST)], ids=lambda c: f"{c.fmt}:{c.label[:50]}")
def test_fuzz_inprocess(case, tmp_path):
    root = tmp_path / "case"
    root.mkdir()
    _assert_clean(run_inprocess(case, root), case)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW, ids=lambda c: f"{c.fmt}:{c.label[:50]}")
def test_fuzz_subprocess(case, tmp_path):
    root = tmp_path / "case"
    root.mkdir()
    _assert_clean(run_subprocess(case, root, timeout=180), case)


def test_corpus_is_reproducible_and_covers_every_format():
    for fmt in FORMATS:
        first, again = cases(fmt, 10, seed=3), cases(fmt, 10, seed=3)
        assert first == again and len(first) >= 10
    assert {c.fmt for c in FAST} == set(FORMATS) - {"search_space"}  # search spaces are read by trainings only
    fast_lane = {c.fmt for i, c in enumerate(FAST) if _fast(i, c)}
    assert fast_lane == set(FORMATS) - {"search_space"}  # the fast lane's part too
