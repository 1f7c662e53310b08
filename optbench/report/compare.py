"""``optbench compare BASELINE CANDIDATE``: did a change make a submission slower to target, or leave
it farther from it?

For CI. Each side is a results folder (docs/design.md §5) or a *baseline file* written by
``optbench compare --save-baseline FILE RESULTS`` and committed to the user's repository
(:mod:`optbench.report.baseline`). Per workload x submission:

- the per-study times to target come from scoring's own steps (:func:`~optbench.scoring.rules.trial_time_to_target`,
  :func:`~optbench.scoring.rules.study_times`), and the value compared is scoring's per-workload
  median over studies (:func:`~optbench.scoring.rules.workload_times`, ``inf`` = not reached
  counted in the median);
- ratio = candidate median / baseline median, with a seeded bootstrap interval: each side's
  studies are resampled with replacement, paired by study number (same seeds) when both sides
  hold the same studies, and the ratio of the resampled medians is taken ``--bootstrap``
  times (:func:`optbench.scoring.bootstrap.bootstrap_ratio`, the convention ``score
  --bootstrap`` uses too). With one study on a side there is nothing to resample: the
  point ratio decides alone (and the output says so);
- verdict: ``worse`` when ratio > 1 + tolerance and the interval lies above 1; ``better`` when
  ratio < 1 - tolerance and the interval lies below 1; ``same`` otherwise; ``newly failing`` /
  ``newly passing`` when only one side reaches the target (median finite); ``missing`` when
  only one side has the pair;
- **when neither side reaches the target**, what was reached is compared instead: each
  study's *distance to the target* (``target - best`` for a maximised metric, ``best - target``
  for a minimised one, ``best`` being the best value of the target metric within the budget;
  on the steps clock both sides ran the same number of steps, so this is the metric at equal
  steps), with the same median, ratio, bootstrap and tolerance: a candidate clearly farther
  from the target is ``worse``. Only a pair where neither side has any value (every trial
  failed) is ``not compared``.

Exit code: 1 when any pair is ``worse`` or ``newly failing``; 2 when nothing at all could be
compared (never a silent "no regression"), and for bad input (unreadable files, a results
folder with no finished trial, other workload hashes, a baseline file of another optbench
major.minor version, sides whose seconds count different clocks); else 0.

``--clock steps`` (the default) compares steps to target: with fixed seeds on the same CPU
they are bit-for-bit reproducible (docs/design.md §4), so a CI check does not flake. ``seconds``
compares each side's own seconds (wall or CPU, as its run counted; both sides must have
counted the same clock).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optbench import __version__
from optbench.errors import OptbenchError
from optbench.report.baseline import Side, load_side
from optbench.report.format import DASH, duration, finite, number
from optbench.scoring.bootstrap import bootstrap_ratio, generator
from optbench.scoring.rules import CLOCK_UNITS, workload_times
from optbench.store import atomic_write_text

BETTER, SAME, WORSE = "better", "same", "worse"
NEWLY_FAILING, NEWLY_PASSING = "newly failing", "newly passing"
NOT_COMPARED, MISSING = "not compared", "missing"
#: What a row compares: time (or steps) to target, or the distance to the target that was left.
TIME, DISTANCE = "time", "distance"
#: Verdicts that make ``optbench compare`` exit 1.
REGRESSIONS = (WORSE, NEWLY_FAILING)


# ============================================================================ the comparison


@dataclass
class Row:
    workload: str
    submission: str
    baseline: float  #: median over studies (inf: not reached; nan: missing)
    candidate: float
    baseline_reached: str  #: "k/n" studies that reached the target
    candidate_reached: str
    ratio: float | None
    interval: tuple[float, float] | None
    verdict: str
    note: str = ""
    basis: str = TIME  #: TIME: medians of time to target; DISTANCE: medians of the distance to the target


@dataclass
class Comparison:
    baseline: Side
    candidate: Side
    clock: str
    tolerance: float
    bootstrap: int
    seed: int
    level: float
    rows: list[Row]
    notes: list[str]

    @property
    def regressions(self) -> list[Row]:
        return [r for r in self.rows if r.verdict in REGRESSIONS]

    @property
    def exit_code(self) -> int:
        return 1 if self.regressions else 0

    @property
    def compared(self) -> list[Row]:
        """Rows that were judged (not missing on a side, not without any value)."""
        return [r for r in self.rows if r.verdict not in (MISSING, NOT_COMPARED)]

    def headline(self) -> str:
        """One line: no regression, or which pairs regressed."""
        bad = self.regressions
        if not bad:
            return f"no regression ({len(self.rows)} workload/submission pairs compared)"
        what = ", ".join(f"{r.submission} on {r.workload} ({r.verdict})" for r in bad)
        return f"REGRESSION in {len(bad)} of {len(self.rows)} pairs: {what}"

    def settings_text(self) -> str:
        """What was compared, and how (the table's caption)."""
        what = "steps to target" if self.clock == "steps" else \
            f"{CLOCK_UNITS.get(self.baseline.clock, 'seconds')} of submission time to target"
        interval = (f"{self.level:.0%} bootstrap interval over studies ({self.bootstrap} resamples, seed "
                    f"{self.seed})" if self.bootstrap else "no bootstrap interval")
        return (f"median over studies of {what} (where neither side reached it: of the distance to the target "
                f"left within the budget); ratio = candidate / baseline; tolerance {self.tolerance:.0%}; {interval}")


def check_comparable(baseline: Side, candidate: Side) -> None:
    """Same ruleset, and the same workload definitions (hashes) for every shared workload."""
    if baseline.ruleset != candidate.ruleset:
        raise OptbenchError(f"rulesets differ: baseline {baseline.path} is {baseline.ruleset}-tuning, candidate "
                            f"{candidate.path} is {candidate.ruleset}-tuning; compare like with like")
    differ = [
        f"{wl} (baseline {baseline.workloads[wl]['hash']}, candidate {candidate.workloads[wl]['hash']})"
        for wl in sorted(set(baseline.workloads) & set(candidate.workloads))
        if baseline.workloads[wl]["hash"] != candidate.workloads[wl]["hash"]
    ]
    if differ:
        raise OptbenchError(
            f"incomparable workload hashes: {'; '.join(differ)}: these workloads' definitions changed between "
            f"{baseline.path} and {candidate.path}; re-create the baseline with `optbench compare --save-baseline`"
        )


def _verdict(ratio: float, interval: tuple[float, float] | None, tolerance: float, level: float,
             basis: str = TIME) -> tuple[str, str]:
    pct = "∞" if math.isinf(ratio) else f"{abs(ratio - 1) * 100:.0f}%"
    worse, better = ("slower", "faster") if basis == TIME else ("farther from the target", "closer to the target")
    if ratio > 1 + tolerance:
        if interval is None or interval[0] > 1:
            return WORSE, f"{pct} {worse}"
        return SAME, f"{pct} {worse}, but the {level:.0%} interval includes 1"
    if ratio < 1 - tolerance:
        if interval is None or interval[1] < 1:
            return BETTER, f"{pct} {better}"
        return SAME, f"{pct} {better}, but the {level:.0%} interval includes 1"
    return SAME, ""


def _ratio(b: float, c: float) -> float:
    return c / b if b > 0 else (1.0 if c == 0 else math.inf)


def _column(clock: str, baseline: Side, candidate: Side) -> str:
    """Which column of the sides the clock compares; their seconds must count the same clock."""
    if clock == "steps":
        return "steps"
    if clock not in ("seconds", "wall", "cpu"):
        raise OptbenchError(f"--clock {clock}: expected steps, seconds, wall or cpu")
    counted = {baseline.clock, candidate.clock} - {"steps"} or {"wall"}  # a steps run keeps wall seconds
    if len(counted) > 1:
        raise OptbenchError(f"--clock {clock}: the baseline counted {baseline.clock} seconds and the candidate "
                            f"{candidate.clock} seconds; compare them with --clock steps")
    if clock in ("wall", "cpu") and clock not in counted:
        raise OptbenchError(f"--clock {clock}: both sides counted {counted.pop()} seconds; use --clock "
                            "seconds or steps")
    return "seconds"


def _counts(studies: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    """(workload, submission) -> (studies, studies that reached the target)."""
    return {key: (len(t), int(np.isfinite(t.to_numpy(float)).sum()))
            for key, t in studies.groupby(["workload", "submission"])["time"]}


def compare(
    baseline: Side,
    candidate: Side,
    clock: str = "steps",
    tolerance: float = 0.05,
    bootstrap: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Comparison:
    """Every (workload, submission) of either side, with its verdict (see the module docstring)."""
    if not 0 <= tolerance < 1:
        raise OptbenchError(f"--tolerance {tolerance}: expected a fraction in [0, 1), e.g. 0.05 for 5%")
    if bootstrap < 0:
        raise OptbenchError(f"--bootstrap must be 0 or more (got {bootstrap})")
    column = _column(clock, baseline, candidate)
    check_comparable(baseline, candidate)
    b_studies, c_studies = baseline.study_times(column), candidate.study_times(column)
    subs = sorted(set(b_studies["submission"]) | set(c_studies["submission"]))
    wls = sorted(set(b_studies["workload"]) | set(c_studies["workload"]))
    b_med, c_med = workload_times(b_studies, subs, wls), workload_times(c_studies, subs, wls)
    b_gap, c_gap = baseline.distances(), candidate.distances()
    b_gap_med, c_gap_med = workload_times(b_gap, subs, wls), workload_times(c_gap, subs, wls)

    def series(studies: pd.DataFrame) -> dict[tuple[str, str], pd.Series]:
        return {k: g.set_index("study")["time"] for k, g in studies.groupby(["workload", "submission"])}

    b_series, c_series = series(b_studies), series(c_studies)
    b_gaps, c_gaps = series(b_gap), series(c_gap)
    b_n, c_n = _counts(b_studies), _counts(c_studies)

    rows: list[Row] = []
    one_study = unpaired = False
    for wl in wls:
        for sub in subs:
            in_b, in_c = (wl, sub) in b_n, (wl, sub) in c_n
            if not (in_b or in_c):
                continue
            b = float(b_med.loc[sub, wl]) if in_b else math.nan
            c = float(c_med.loc[sub, wl]) if in_c else math.nan
            b_reached = f"{b_n[wl, sub][1]}/{b_n[wl, sub][0]}" if in_b else "–"
            c_reached = f"{c_n[wl, sub][1]}/{c_n[wl, sub][0]}" if in_c else "–"
            row = Row(wl, sub, b, c, b_reached, c_reached, None, None, SAME)
            rows.append(row)
            if not (in_b and in_c):
                row.verdict = MISSING
                row.note = "only in the baseline" if in_b else "only in the candidate"
                continue
            if math.isfinite(b) and not math.isfinite(c):
                row.verdict, row.note = NEWLY_FAILING, "the candidate's median study misses the target"
                continue
            if not math.isfinite(b) and math.isfinite(c):
                row.verdict, row.note = NEWLY_PASSING, "the baseline's median study missed the target"
                continue
            base, cand = b_series[wl, sub], c_series[wl, sub]
            if not math.isfinite(b) and not (baseline.has_best and candidate.has_best):
                row.verdict, row.note = NOT_COMPARED, "neither reaches the target, and a format-1 baseline file " \
                                                      "kept no best values to compare"
                continue
            if not math.isfinite(b):  # neither reaches the target: how far each stayed from it
                row.basis, row.baseline, row.candidate = DISTANCE, float(b_gap_med.loc[sub, wl]), \
                    float(c_gap_med.loc[sub, wl])
                base, cand = b_gaps[wl, sub], c_gaps[wl, sub]
                if not (math.isfinite(row.baseline) or math.isfinite(row.candidate)):
                    row.verdict, row.note = NOT_COMPARED, "neither side reached the target or has any value of its metric"
                    continue
            row.ratio = _ratio(row.baseline, row.candidate)
            single = min(b_n[wl, sub][0], c_n[wl, sub][0]) < 2
            if bootstrap and not single:
                row.interval, paired = bootstrap_ratio(base, cand, bootstrap, generator(seed, wl, sub), level)
                unpaired |= not paired
            row.verdict, row.note = _verdict(row.ratio, row.interval, tolerance, level, row.basis)
            if row.basis == DISTANCE:
                row.note = "; ".join(filter(None, ["neither reaches the target: distance to it compared", row.note]))
            if single:
                one_study = True
                row.note = "; ".join(filter(None, [row.note, "one study: point ratio only"]))
    if not rows:
        raise OptbenchError(f"nothing to compare between {baseline.path} and {candidate.path}")
    result = Comparison(baseline, candidate, clock, tolerance, bootstrap, seed, level, rows, [])
    if not result.compared:
        raise OptbenchError(f"nothing could be compared between {baseline.path} and {candidate.path}: every "
                            "workload/submission pair is on one side only or has no value on either side")
    if one_study:
        result.notes.append("Some pairs have a single study on one side: no bootstrap interval, the point ratio "
                            "decides alone. Run more --studies for intervals.")
    if unpaired:
        result.notes.append("Some pairs hold different study numbers on the two sides: their studies were "
                            "resampled independently (wider intervals) instead of paired by seed.")
    if any(r.basis == DISTANCE for r in result.compared):
        result.notes.append("Where neither side reaches the target, the distance to the target that each side "
                            "left within its budget is compared (cells: distance, not time).")
    missing = [r for r in rows if r.verdict == MISSING]
    if missing:
        result.notes.append(f"{len(missing)} workload/submission pair(s) appear on one side only: not compared.")
    return result


def compare_paths(baseline: Path, candidate: Path, ruleset: str | None = None, **kw: Any) -> Comparison:
    return compare(load_side(baseline, ruleset), load_side(candidate, ruleset), **kw)


# ============================================================================ outputs


def side_text(value: float, reached: str, clock: str, basis: str = TIME) -> str:
    """A side's median and how many studies reached the target: ``1,234 (3/3)``; ``–``: no such pair;
    where the row compares distances: ``gap 0.0312 (0/3)``."""
    if reached == DASH:
        return DASH
    if basis == DISTANCE:
        return f"gap {number(value, 3, missing='–')} ({reached})"
    return f"{duration(value, clock, missing=DASH, not_reached='not reached')} ({reached})"


def ratio_text(row: Row) -> str:
    return DASH if row.ratio is None else f"{row.ratio:.3f}"


def interval_text(row: Row) -> str:
    return DASH if row.interval is None else f"{row.interval[0]:.3f}–{row.interval[1]:.3f}"


def _md(text: str) -> str:
    """A markdown table cell: pipes and newlines would break the row, HTML would render."""
    return (str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\n", " "))


def to_markdown(result: Comparison) -> str:
    mark = "❌" if result.regressions else "✅"
    lines = [
        f"### {mark} optbench compare: {_md(result.headline())}",
        "",
        f"Baseline `{_md(result.baseline.path)}` ({result.baseline.kind}, optbench "
        f"{_md(result.baseline.optbench_version)}) vs candidate `{_md(result.candidate.path)}` "
        f"({result.candidate.kind}). {_md(result.settings_text())}. Cells: median (studies reaching the target / studies).",
        "",
        f"| workload | submission | baseline | candidate | ratio | {result.level:.0%} interval | verdict | note |",
        "|---|---|--:|--:|--:|--:|---|---|",
    ]
    for r in result.rows:
        verdict = f"**{r.verdict}**" if r.verdict in REGRESSIONS else r.verdict
        lines.append(
            f"| {_md(r.workload)} | {_md(r.submission)} | {side_text(r.baseline, r.baseline_reached, result.clock, r.basis)} "
            f"| {side_text(r.candidate, r.candidate_reached, result.clock, r.basis)} | {ratio_text(r)} | {interval_text(r)} "
            f"| {verdict} | {_md(r.note)} |"
        )
    lines += [""] + [f"> {_md(n)}" for n in result.notes] + ([""] if result.notes else [])
    return "\n".join(lines) + "\n"


def to_dict(result: Comparison) -> dict[str, Any]:
    """``--json``: numbers with ``null`` for not reached / not applicable (JSON has no inf)."""
    def side(s: Side) -> dict[str, Any]:
        return {"path": s.path, "kind": s.kind, "optbench_version": s.optbench_version, "ruleset": s.ruleset,
                "clock": s.clock, "workload_hashes": {w: v["hash"] for w, v in s.workloads.items()}}

    return {
        "optbench_version": __version__,
        "baseline": side(result.baseline),
        "candidate": side(result.candidate),
        "clock": result.clock, "tolerance": result.tolerance, "bootstrap": result.bootstrap,
        "seed": result.seed, "level": result.level,
        "regression": bool(result.regressions), "exit_code": result.exit_code,
        "rows": [{
            "workload": r.workload, "submission": r.submission,
            "baseline": finite(r.baseline), "candidate": finite(r.candidate),
            "baseline_reached": r.baseline_reached, "candidate_reached": r.candidate_reached,
            "ratio": finite(r.ratio), "interval": None if r.interval is None else [finite(v) for v in r.interval],
            "verdict": r.verdict, "note": r.note, "basis": r.basis,
        } for r in result.rows],
        "notes": result.notes,
    }


def write_outputs(result: Comparison, markdown: Path | None = None, json_file: Path | None = None) -> list[Path]:
    """``--markdown``, ``--json``, and an append to ``$GITHUB_STEP_SUMMARY`` when it is set."""
    written = []
    text = to_markdown(result)
    if markdown is not None:
        atomic_write_text(Path(markdown), text)
        written.append(Path(markdown))
    if json_file is not None:
        atomic_write_text(Path(json_file), json.dumps(to_dict(result), indent=2) + "\n")
        written.append(Path(json_file))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with open(summary, "a", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as exc:
            raise OptbenchError(f"$GITHUB_STEP_SUMMARY={summary}: cannot append ({exc.strerror or exc})") from None
        written.append(Path(summary))
    return written
