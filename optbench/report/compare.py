"""``optbench compare BASELINE CANDIDATE``: did a change make a submission slower to target?

For CI. Each side is a results folder (DESIGN.md §5) or a *baseline file* written by
``optbench compare --save-baseline FILE RESULTS`` and committed to the user's repository.
Per workload x submission:

- the per-study times to target come from scoring's own steps (:func:`scoring.trial_time_to_target`,
  :func:`scoring.study_times`), and the value compared is scoring's per-workload median over
  studies (:func:`scoring.workload_times`, ``inf`` = not reached counted in the median);
- ratio = candidate median / baseline median, with a seeded bootstrap interval: each side's
  studies are resampled with replacement, paired by study number (same seeds) when both sides
  hold the same studies (:func:`bootstrap_ratio`), and the ratio of the resampled medians is
  taken ``--bootstrap`` times. With one study on a side there is nothing to resample: the
  point ratio decides alone (and the output says so);
- verdict: ``worse`` when ratio > 1 + tolerance and the interval lies above 1; ``better`` when
  ratio < 1 - tolerance and the interval lies below 1; ``same`` otherwise; ``newly failing`` /
  ``newly passing`` when only one side reaches the target (median finite); ``not reached``
  when neither does; ``missing`` when only one side has the pair.

Exit code: 1 when any pair is ``worse`` or ``newly failing``, else 0; bad input (unreadable
files, a results folder with no finished trial, other workload hashes, a baseline file of
another optbench major.minor version) raises :class:`OptbenchError` (exit 2).

With ``--clock steps`` (the default) and fixed seeds on the same CPU, steps to target are
bit-for-bit reproducible (DESIGN.md §4), so a CI check does not flake; seconds are noisy.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optbench import __version__
from optbench.errors import OptbenchError

BASELINE_FORMAT = "optbench-baseline"
BASELINE_FORMAT_VERSION = 1
CLOCKS = ("steps", "seconds")
#: JSON keys of the per-study lists in a baseline file, per clock.
CLOCK_KEYS = {"steps": "steps_to_target", "seconds": "time_to_target"}

BETTER, SAME, WORSE = "better", "same", "worse"
NEWLY_FAILING, NEWLY_PASSING = "newly failing", "newly passing"
NOT_REACHED, MISSING = "not reached", "missing"
#: Verdicts that make ``optbench compare`` exit 1.
REGRESSIONS = (WORSE, NEWLY_FAILING)


# ============================================================================ one side


@dataclass
class Side:
    """One side of a comparison: per-study times to target, both clocks, ``inf`` = not reached."""

    path: str
    kind: str  #: "results" (a results folder) or "baseline" (a baseline file)
    optbench_version: str
    ruleset: str
    workloads: dict[str, dict[str, Any]]  #: name -> {"hash", "target"}
    studies: pd.DataFrame  #: columns workload, submission, study, steps, seconds
    provenance: dict[str, Any] = field(default_factory=dict)

    def study_times(self, clock: str) -> pd.DataFrame:
        """``submission, workload, study, time`` as scoring's steps 3+ expect them."""
        return self.studies.rename(columns={clock: "time"})[["submission", "workload", "study", "time"]]


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(str(version).split(".")[:2])


def _target_text(row: pd.Series) -> str:
    op = "<=" if row.get("target_mode") == "min" else ">="
    return f"{row.get('target_metric')} {op} {row.get('target_value')}"


def load_results_side(root: Path, ruleset: str | None = None) -> Side:
    """A results folder: every trial must be finished and readable (CI must not judge on
    half a run). Scoring's loader refuses folders with no finished trial and workloads run
    under two definitions; anything it would only warn about is an error here."""
    from optbench import scoring, store

    root = Path(root)
    data = scoring.load_optbench_trials(root, ruleset)  # type: ignore[arg-type]
    if data.problems:
        first = data.problems[0]
        raise OptbenchError(
            f"{root}: {len(data.problems)} unreadable or unfinished trial(s), e.g. {first.path}: {first.message}; "
            "re-run them (optbench run --name <same> resumes) before comparing"
        )
    trials = data.trials
    per_clock = []
    for clock in CLOCKS:
        timed = trials.assign(time=scoring.trial_time_to_target(trials, clock))  # type: ignore[arg-type]
        per_clock.append(scoring.study_times(timed, data.choose).drop(columns="row").rename(columns={"time": clock}))
    studies = per_clock[0].merge(per_clock[1], on=scoring.STUDY_KEY)
    raw = store.load_trials(root)
    raw = raw[raw["ruleset"] == data.ruleset]
    workloads = {
        wl: {"hash": str(group["workload_hash"].iloc[0]), "target": _target_text(group.iloc[0])}
        for wl, group in raw.groupby("workload", sort=True)
    }
    versions = sorted({str(v) for v in raw.get("optbench_version", pd.Series(dtype=str)).dropna()})
    provenance: dict[str, Any] = {}
    try:
        experiment = store.read_experiment(root)
        provenance = {k: experiment.get(k) for k in ("name", "created", "command", "git") if k in experiment}
    except OptbenchError:
        pass  # experiment.json is provenance only; the trials are what is compared
    return Side(str(root), "results", versions[-1] if versions else __version__, data.ruleset, workloads,
                studies[["workload", "submission", "study", "steps", "seconds"]], provenance)


def _bad(path: Path, why: str) -> OptbenchError:
    return OptbenchError(f"{path}: not a usable optbench baseline file ({why}); write one with "
                         "`optbench compare --save-baseline FILE RESULTS`")


def _times(values: Any, path: Path, where: str) -> list[float]:
    if not isinstance(values, list):
        raise _bad(path, f"{where} is not a list")
    out = []
    for v in values:
        if v is None:
            out.append(math.inf)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0:
            out.append(float(v))
        else:
            raise _bad(path, f"{where} holds {v!r}; expected a number or null (not reached)")
    return out


def load_baseline_side(path: Path) -> Side:
    """A baseline file; refused when written by another optbench major.minor version, since
    what counts as a step or a target may change between them."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise OptbenchError(f"{path}: cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    except json.JSONDecodeError as exc:
        raise _bad(path, f"invalid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != BASELINE_FORMAT:
        raise _bad(path, f'no "format": "{BASELINE_FORMAT}"')
    version = str(data.get("optbench_version", "?"))
    if _major_minor(version) != _major_minor(__version__):
        raise OptbenchError(
            f"{path}: baseline written by optbench {version}, this is optbench {__version__} (major.minor must "
            "match): re-create it with `optbench compare --save-baseline FILE RESULTS`"
        )
    workloads, results = data.get("workloads"), data.get("results")
    if not isinstance(workloads, dict) or not isinstance(results, dict):
        raise _bad(path, '"workloads" or "results" missing')
    rows = []
    for wl, subs in results.items():
        if wl not in workloads or not isinstance(workloads[wl], dict) or "hash" not in workloads[wl]:
            raise _bad(path, f"workload {wl} has no hash under \"workloads\"")
        if not isinstance(subs, dict):
            raise _bad(path, f"results.{wl} is not a mapping of submissions")
        for sub, entry in subs.items():
            where = f"results.{wl}.{sub}"
            if not isinstance(entry, dict):
                raise _bad(path, f"{where} is not a mapping")
            steps = _times(entry.get("steps_to_target"), path, f"{where}.steps_to_target")
            seconds = _times(entry.get("time_to_target"), path, f"{where}.time_to_target")
            study = entry.get("study", list(range(len(steps))))
            if not (isinstance(study, list) and len(study) == len(steps) == len(seconds) and study):
                raise _bad(path, f"{where}: study, steps_to_target and time_to_target differ in length or are empty")
            rows += [{"workload": wl, "submission": sub, "study": int(j), "steps": a, "seconds": b}
                     for j, a, b in zip(study, steps, seconds)]
    if not rows:
        raise _bad(path, "no results in it")
    return Side(str(path), "baseline", version, str(data.get("ruleset", "?")),
                {wl: {"hash": str(w["hash"]), "target": w.get("target", "")} for wl, w in workloads.items()},
                pd.DataFrame(rows), data.get("provenance") or {})


def load_side(path: Path, ruleset: str | None = None) -> Side:
    """A folder is a results folder, a file a baseline file."""
    path = Path(path)
    if path.is_dir():
        return load_results_side(path, ruleset)
    if path.is_file():
        return load_baseline_side(path)
    raise OptbenchError(f"{path}: no such results folder or baseline file")


def _json_time(value: float) -> float | int | None:
    if not math.isfinite(value):
        return None
    return int(value) if float(value).is_integer() else float(value)


def baseline_dict(side: Side) -> dict[str, Any]:
    """What ``--save-baseline`` writes: small, sorted, readable in a diff."""
    results: dict[str, dict[str, Any]] = {}
    for (wl, sub), group in side.studies.sort_values(["workload", "submission", "study"]).groupby(
            ["workload", "submission"], sort=True):
        results.setdefault(wl, {})[sub] = {
            "study": [int(s) for s in group["study"]],
            "steps_to_target": [_json_time(v) for v in group["steps"]],
            "time_to_target": [_json_time(v) for v in group["seconds"]],
        }
    return {
        "format": BASELINE_FORMAT,
        "format_version": BASELINE_FORMAT_VERSION,
        "optbench_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": side.path,
        "ruleset": side.ruleset,
        "provenance": side.provenance,
        "workloads": side.workloads,
        "results": results,
    }


def save_baseline(results: Path, out: Path, ruleset: str | None = None) -> Side:
    """Read a results folder and write its baseline file to ``out``."""
    from optbench.store import atomic_write_text

    results = Path(results)
    if not results.is_dir():
        raise OptbenchError(f"--save-baseline: {results} is not a results folder")
    side = load_results_side(results, ruleset)
    atomic_write_text(Path(out), json.dumps(baseline_dict(side), indent=2, default=str) + "\n")
    return side


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


def _rng(seed: int, workload: str, submission: str) -> np.random.Generator:
    """One generator per pair, from the seed and the names: a pair's interval does not change
    when other workloads or submissions come and go."""
    from optbench.spec import stable_hash

    return np.random.default_rng([seed, int(stable_hash([workload, submission]), 16)])


def bootstrap_ratio(
    base: pd.Series, cand: pd.Series, n: int, rng: np.random.Generator, level: float = 0.95
) -> tuple[tuple[float, float] | None, bool]:
    """Percentile interval of median(candidate) / median(baseline) over resampled studies.

    ``base``/``cand``: per-study times indexed by study number. When both sides hold the same
    studies, the resampling is *paired*: study j ran with the same seeds on both sides
    (seeds derive from the base seed, workload, study and trial), so the same draw of study
    numbers is used for both, which removes the seed-to-seed spread that both share. Otherwise
    each side is resampled on its own. Medians keep ``inf`` (not reached); ratios inf/inf
    are dropped. Returns (interval or None, paired).
    """
    b, c = base.sort_index(), cand.sort_index()
    paired = list(b.index) == list(c.index)
    bv, cv = b.to_numpy(float), c.to_numpy(float)
    b_draw = rng.integers(0, len(bv), size=(n, len(bv)))
    c_draw = b_draw if paired else rng.integers(0, len(cv), size=(n, len(cv)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.median(cv[c_draw], axis=1) / np.median(bv[b_draw], axis=1)
    ratio = ratio[~np.isnan(ratio)]
    if ratio.size == 0:
        return None, paired
    alpha = (1 - level) / 2
    interval = (float(np.quantile(ratio, alpha, method="lower")),
                float(np.quantile(ratio, 1 - alpha, method="higher")))
    return interval, paired


def _verdict(ratio: float, interval: tuple[float, float] | None, tolerance: float, level: float) -> tuple[str, str]:
    pct = f"{abs(ratio - 1) * 100:.0f}%"
    if ratio > 1 + tolerance:
        if interval is None or interval[0] > 1:
            return WORSE, f"{pct} slower"
        return SAME, f"{pct} slower, but the {level:.0%} interval includes 1"
    if ratio < 1 - tolerance:
        if interval is None or interval[1] < 1:
            return BETTER, f"{pct} faster"
        return SAME, f"{pct} faster, but the {level:.0%} interval includes 1"
    return SAME, ""


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
    from optbench import scoring

    if clock not in CLOCKS:
        raise OptbenchError(f"--clock {clock}: expected steps or seconds")
    if not 0 <= tolerance < 1:
        raise OptbenchError(f"--tolerance {tolerance}: expected a fraction in [0, 1), e.g. 0.05 for 5%")
    if bootstrap < 0:
        raise OptbenchError(f"--bootstrap must be 0 or more (got {bootstrap})")
    check_comparable(baseline, candidate)
    b_studies, c_studies = baseline.study_times(clock), candidate.study_times(clock)
    subs = sorted(set(b_studies["submission"]) | set(c_studies["submission"]))
    wls = sorted(set(b_studies["workload"]) | set(c_studies["workload"]))
    b_med = scoring.workload_times(b_studies, subs, wls)
    c_med = scoring.workload_times(c_studies, subs, wls)
    b_series = {k: g.set_index("study")["time"] for k, g in b_studies.groupby(["workload", "submission"])}
    c_series = {k: g.set_index("study")["time"] for k, g in c_studies.groupby(["workload", "submission"])}
    b_pairs = set(zip(b_studies["workload"], b_studies["submission"]))
    c_pairs = set(zip(c_studies["workload"], c_studies["submission"]))
    b_n, c_n = _counts(b_studies), _counts(c_studies)

    rows: list[Row] = []
    one_study = unpaired = False
    for wl in wls:
        for sub in subs:
            in_b, in_c = (wl, sub) in b_pairs, (wl, sub) in c_pairs
            if not (in_b or in_c):
                continue
            b = float(b_med.loc[sub, wl]) if in_b else math.nan
            c = float(c_med.loc[sub, wl]) if in_c else math.nan
            b_reached = f"{b_n[wl, sub][1]}/{b_n[wl, sub][0]}" if in_b else "–"
            c_reached = f"{c_n[wl, sub][1]}/{c_n[wl, sub][0]}" if in_c else "–"
            row = Row(wl, sub, b, c, b_reached, c_reached, None, None, SAME)
            if not (in_b and in_c):
                row.verdict = MISSING
                row.note = "only in the baseline" if in_b else "only in the candidate"
            elif math.isfinite(b) and not math.isfinite(c):
                row.verdict, row.note = NEWLY_FAILING, "the candidate's median study misses the target"
            elif not math.isfinite(b) and math.isfinite(c):
                row.verdict, row.note = NEWLY_PASSING, "the baseline's median study missed the target"
            elif not math.isfinite(b):
                row.verdict, row.note = NOT_REACHED, "neither reaches the target"
            else:
                row.ratio = c / b if b > 0 else (1.0 if c == 0 else math.inf)
                single = min(b_n[wl, sub][0], c_n[wl, sub][0]) < 2
                if bootstrap and not single:
                    row.interval, paired = bootstrap_ratio(b_series[wl, sub], c_series[wl, sub], bootstrap,
                                                           _rng(seed, wl, sub), level)
                    unpaired |= not paired
                row.verdict, row.note = _verdict(row.ratio, row.interval, tolerance, level)
                if single:
                    one_study = True
                    row.note = "; ".join(filter(None, [row.note, "one study: point ratio only"]))
            rows.append(row)
    if not rows:
        raise OptbenchError(f"nothing to compare between {baseline.path} and {candidate.path}")
    notes = []
    if one_study:
        notes.append("Some pairs have a single study on one side: no bootstrap interval, the point ratio "
                     "decides alone. Run more --studies for intervals.")
    if unpaired:
        notes.append("Some pairs hold different study numbers on the two sides: their studies were "
                     "resampled independently (wider intervals) instead of paired by seed.")
    if not set(baseline.workloads) & set(candidate.workloads):
        notes.append("The two sides share no workload.")
    missing = [r for r in rows if r.verdict == MISSING]
    if missing:
        notes.append(f"{len(missing)} workload/submission pair(s) appear on one side only: not compared.")
    return Comparison(baseline, candidate, clock, tolerance, bootstrap, seed, level, rows, notes)


def compare_paths(baseline: Path, candidate: Path, ruleset: str | None = None, **kw: Any) -> Comparison:
    return compare(load_side(baseline, ruleset), load_side(candidate, ruleset), **kw)


# ============================================================================ outputs


def _amount(value: float, clock: str) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if not math.isfinite(value):
        return "not reached"
    if clock == "steps":
        return f"{value:,.0f}"
    return f"{value:.3g} s" if value < 100 else f"{value:,.0f} s"


def _cell(value: float, reached: str, clock: str) -> str:
    return "–" if reached == "–" else f"{_amount(value, clock)} ({reached})"


def _ratio(row: Row) -> str:
    return "–" if row.ratio is None else f"{row.ratio:.3f}"


def _ci(row: Row) -> str:
    if row.interval is None:
        return "–"
    return f"{row.interval[0]:.3f}–{row.interval[1]:.3f}"


def _headline(result: Comparison) -> str:
    bad = result.regressions
    if not bad:
        return f"no regression ({len(result.rows)} workload/submission pairs compared)"
    what = ", ".join(f"{r.submission} on {r.workload} ({r.verdict})" for r in bad)
    return f"REGRESSION in {len(bad)} of {len(result.rows)} pairs: {what}"


def _settings(result: Comparison) -> str:
    what = "steps to target" if result.clock == "steps" else "seconds of submission time to target"
    interval = (f"{result.level:.0%} bootstrap interval over studies ({result.bootstrap} resamples, seed "
                f"{result.seed})" if result.bootstrap else "no bootstrap interval")
    return (f"median over studies of {what}; ratio = candidate / baseline; tolerance "
            f"{result.tolerance:.0%}; {interval}")


_VERDICT_STYLE = {BETTER: "green", SAME: "", WORSE: "bold red", NEWLY_FAILING: "bold red",
                  NEWLY_PASSING: "green", NOT_REACHED: "dim", MISSING: "yellow"}


def rich_table(result: Comparison) -> Any:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"optbench compare — {escape(result.baseline.path)} → {escape(result.candidate.path)}",
                  caption=_settings(result), box=box.SIMPLE_HEAD)
    for name in ("workload", "submission"):
        table.add_column(name, overflow="fold")
    for name in ("baseline", "candidate", "ratio", f"{result.level:.0%} interval", "verdict"):
        table.add_column(name, justify="left" if name == "verdict" else "right", no_wrap=True)
    table.add_column("note", overflow="fold", max_width=40)
    for r in result.rows:
        style = _VERDICT_STYLE.get(r.verdict, "")
        verdict = f"[{style}]{r.verdict}[/]" if style else r.verdict
        table.add_row(escape(r.workload), escape(r.submission),
                      _cell(r.baseline, r.baseline_reached, result.clock),
                      _cell(r.candidate, r.candidate_reached, result.clock),
                      _ratio(r), _ci(r), verdict, escape(r.note))
    return table


def print_comparison(result: Comparison, console: Any) -> None:
    from rich.markup import escape
    from rich.measure import Measurement

    table = rich_table(result)
    width = console.width
    if not console.is_terminal:  # a CI log or a pipe: as wide as the table needs, never cropped
        console.width = max(width, Measurement.get(console, console.options.update(width=1000), table).maximum)
    try:
        console.print(table, crop=False)
    finally:
        console.width = width
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    style = "bold red" if result.regressions else "bold green"
    console.print(f"[{style}]{escape(_headline(result))}[/]")


def _md(text: str) -> str:
    """A markdown table cell: pipes and newlines would break the row, HTML would render."""
    return (str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\n", " "))


def to_markdown(result: Comparison) -> str:
    mark = "❌" if result.regressions else "✅"
    lines = [
        f"### {mark} optbench compare: {_md(_headline(result))}",
        "",
        f"Baseline `{_md(result.baseline.path)}` ({result.baseline.kind}, optbench "
        f"{_md(result.baseline.optbench_version)}) vs candidate `{_md(result.candidate.path)}` "
        f"({result.candidate.kind}). {_md(_settings(result))}. Cells: median (studies reaching the target / studies).",
        "",
        f"| workload | submission | baseline | candidate | ratio | {result.level:.0%} interval | verdict | note |",
        "|---|---|--:|--:|--:|--:|---|---|",
    ]
    for r in result.rows:
        verdict = f"**{r.verdict}**" if r.verdict in REGRESSIONS else r.verdict
        lines.append(
            f"| {_md(r.workload)} | {_md(r.submission)} | {_cell(r.baseline, r.baseline_reached, result.clock)} "
            f"| {_cell(r.candidate, r.candidate_reached, result.clock)} | {_ratio(r)} | {_ci(r)} "
            f"| {verdict} | {_md(r.note)} |"
        )
    lines += [""] + [f"> {_md(n)}" for n in result.notes] + ([""] if result.notes else [])
    return "\n".join(lines) + "\n"


def _num(value: float | None) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return None if not math.isfinite(value) else float(value)


def to_dict(result: Comparison) -> dict[str, Any]:
    """``--json``: numbers with ``null`` for not reached / not applicable (JSON has no inf)."""
    def side(s: Side) -> dict[str, Any]:
        return {"path": s.path, "kind": s.kind, "optbench_version": s.optbench_version, "ruleset": s.ruleset,
                "workload_hashes": {w: v["hash"] for w, v in s.workloads.items()}}

    return {
        "optbench_version": __version__,
        "baseline": side(result.baseline),
        "candidate": side(result.candidate),
        "clock": result.clock, "tolerance": result.tolerance, "bootstrap": result.bootstrap,
        "seed": result.seed, "level": result.level,
        "regression": bool(result.regressions), "exit_code": result.exit_code,
        "rows": [{
            "workload": r.workload, "submission": r.submission,
            "baseline": _num(r.baseline), "candidate": _num(r.candidate),
            "baseline_reached": r.baseline_reached, "candidate_reached": r.candidate_reached,
            "ratio": _num(r.ratio), "interval": None if r.interval is None else [_num(v) for v in r.interval],
            "verdict": r.verdict, "note": r.note,
        } for r in result.rows],
        "notes": result.notes,
    }


def write_outputs(result: Comparison, markdown: Path | None = None, json_file: Path | None = None) -> list[Path]:
    """``--markdown``, ``--json``, and an append to ``$GITHUB_STEP_SUMMARY`` when it is set."""
    from optbench.store import atomic_write_text

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
