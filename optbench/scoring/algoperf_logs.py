"""Reading AlgoPerf's own logs and target files, as they are, for ``optbench score --format algoperf``.

AlgoPerf's scorer (``scoring/score_submissions.py`` + ``performance_profile.py`` +
``scoring_utils.py`` in mlcommons/algorithmic-efficiency and submissions_algorithms)
walks a tree of ``eval_measurements.csv`` files. :mod:`optbench.scoring.algoperf_tree`
finds those files; this module reads the few columns scoring needs, reduces each trial
to one row (did it reach the target, at which eval index, at what time and step), and :func:`load_algoperf_trials`
hands those rows to the rules as a :class:`~optbench.scoring.inputs.ScoringInput`,
with AlgoPerf's choices switched on. The targets file is read by
:mod:`optbench.scoring.algoperf_targets`; the rules live in
:mod:`optbench.scoring.rules`; nothing here ranks anything.

The tree (where the trial folders are) is walked by :mod:`optbench.scoring.algoperf_tree`.

Why the CSVs are read the way they are: the v0.5 tree has ~3,700 small files, and the
per-call overhead of a CSV reader (``pandas.read_csv``, even with ``engine="pyarrow"``)
costs more than the parsing. :func:`read_trials` joins the bodies of files that share a
header into one buffer and parses it with one multi-threaded ``pyarrow.csv`` call,
keeping only the 3-4 columns scoring needs (see ``benchmarks/score_speed.py``). A file
that does not fit that path (empty, truncated, odd) is read alone, and a truncated one
is re-read with the ``csv`` module, keeping its complete rows.

(The batched reader and the reduction to :class:`TrialRead` are one pipeline over the
same records, so they stay together.)
"""

from __future__ import annotations

import csv
import math
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optbench import safeio
from optbench.errors import OptbenchError
from optbench.scoring.algoperf_targets import Targets, WorkloadTarget
from optbench.scoring.algoperf_tree import MEASUREMENTS_FILE, find_trial_logs
from optbench.scoring.inputs import TRIAL_COLUMNS, Problem, ScoringInput
from optbench.scoring.rules import ALGOPERF_CUT_FACTOR, Ruleset
from optbench.spec import TrialStatus

#: Columns holding the clock: AlgoPerf scores ``score`` (= accumulated submission time at
#: that eval); older logs without it have the same number as ``accumulated_submission_time``.
TIME_COLUMNS = ("score", "accumulated_submission_time")
STEP_COLUMN = "global_step"


# --------------------------------------------------------------------------- the CSVs


@dataclass
class TrialRead:
    """One trial reduced to what scoring needs.

    ``hit_index`` is the index of the first eval that reaches the target (-1: never);
    AlgoPerf chooses a study's trial by it. ``time``/``steps`` are the clock at that
    eval (inf when not reached). ``ok`` is False when the log could not be used at all.
    """

    ok: bool = True
    n_evals: int = 0
    hit_index: int = -1
    time: float = math.inf
    steps: float = math.inf
    best_metric: float = math.nan
    last_time: float = math.nan
    problems: list[str] = field(default_factory=list)


#: (trial folder, its target) -- what :func:`read_trials` reads.
TrialItem = tuple[str, WorkloadTarget]


def _wanted_columns(target: WorkloadTarget) -> tuple[str, ...]:
    return (target.metric, *TIME_COLUMNS, STEP_COLUMN)


def _to_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _salvage_rows(path: str, columns: Sequence[str]) -> tuple[dict[str, np.ndarray] | None, int, int]:
    """Re-read a CSV pyarrow refused, keeping the rows that have every field.

    Returns (columns -> arrays, or None when there is no header; rows kept; rows dropped).
    """
    with open(path, newline="", errors="replace") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return None, 0, 0
    header, body = rows[0], rows[1:]
    good = [r for r in body if len(r) == len(header)]
    data: dict[str, np.ndarray] = {}
    for name in columns:
        if name in header:
            i = header.index(name)
            data[name] = np.array([_to_float(r[i]) for r in good], dtype=float)
    return data, len(good), len(body) - len(good)


def _arrays(table: Any, columns: Iterable[str]) -> tuple[dict[str, np.ndarray], list[str]]:
    """Float arrays of the columns pyarrow found (a null-typed column is missing or empty)."""
    import pyarrow as pa

    data: dict[str, np.ndarray] = {}
    problems: list[str] = []
    for name in columns:
        col = table.column(name)
        if pa.types.is_null(col.type):
            continue
        if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            data[name] = col.to_numpy(zero_copy_only=False).astype(float, copy=False)
        else:
            data[name] = np.array([_to_float(str(v)) if v is not None else math.nan for v in col.to_pylist()])
            problems.append(f"column {name} has non-numeric values (read as missing)")
    return data, problems


def _parse(source: Any, columns: Sequence[str], threads: bool) -> Any:
    import pyarrow.csv as pacsv

    return pacsv.read_csv(
        source,
        read_options=pacsv.ReadOptions(use_threads=threads),
        convert_options=pacsv.ConvertOptions(include_columns=list(columns), include_missing_columns=True),
    )


def _not_a_file(path: str) -> str | None:
    """Why ``path`` cannot be read as a log (a FIFO or a device would block or never end), or None."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "no eval_measurements.csv"
    except OSError as exc:
        return f"eval_measurements.csv not readable ({exc.strerror or exc})"
    if not stat.S_ISREG(info.st_mode):
        return "eval_measurements.csv is not a regular file (a pipe or a device)"
    if info.st_size > safeio.MAX_BYTES:
        return f"eval_measurements.csv has {info.st_size} bytes, more than {safeio.MAX_BYTES}"
    return None


def _read_columns(path: str, columns: Sequence[str]) -> tuple[dict[str, np.ndarray] | None, int, list[str]]:
    """One file: the wanted columns that exist (as float arrays), the row count, problems."""
    import pyarrow as pa

    odd = _not_a_file(path)
    if odd:
        return None, 0, [odd]
    try:
        table = _parse(path, columns, threads=False)
    except FileNotFoundError:
        return None, 0, ["no eval_measurements.csv"]
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return None, 0, ["eval_measurements.csv is empty"]
        data, kept, dropped = _salvage_rows(path, columns)
        if data is None:
            return None, 0, ["eval_measurements.csv is empty"]
        return data, kept, [f"eval_measurements.csv is truncated or malformed: kept {kept} complete row(s), "
                            f"dropped {dropped}"]
    except OSError as exc:
        return None, 0, [f"eval_measurements.csv not readable ({exc})"]
    data, problems = _arrays(table, columns)
    return data, table.num_rows, problems


def _reduce(data: Mapping[str, np.ndarray], n_rows: int, problems: list[str], target: WorkloadTarget) -> TrialRead:
    """The columns of one trial -> its :class:`TrialRead` (first eval reaching the target, ...)."""
    out = TrialRead(n_evals=n_rows, problems=problems)
    if n_rows == 0:
        out.problems.append("eval_measurements.csv has no evals (header only)")
        return out
    metric = data.get(target.metric)
    if metric is None:
        out.problems.append(f"no column {target.metric} (the target metric): counted as not reached")
        return out
    times = next((data[c] for c in TIME_COLUMNS if c in data), None)
    steps = data.get(STEP_COLUMN)
    finite = metric[np.isfinite(metric)]
    if finite.size:
        out.best_metric = float(finite.min() if target.minimize else finite.max())
    if times is not None:
        out.last_time = float(times[-1])
    hits = target.reached(metric)
    if not hits.any():
        return out
    index = int(np.argmax(hits))
    if times is None:
        out.problems.append(f"no clock column ({' or '.join(TIME_COLUMNS)}): counted as not reached")
        return out
    if not math.isfinite(times[index]):
        out.problems.append(f"no time at the eval that reached the target (row {index + 1}): counted as not reached")
        return out
    out.hit_index, out.time = index, float(times[index])
    if steps is not None and math.isfinite(steps[index]):
        out.steps = float(steps[index])
    return out


def read_trial(path: str, target: WorkloadTarget) -> TrialRead:
    """Reduce one trial folder's ``eval_measurements.csv`` to a :class:`TrialRead`.

    The first eval whose ``target.metric`` reaches the target gives ``hit_index``; the
    time there is read from ``score`` (else ``accumulated_submission_time``), the step
    from ``global_step``.
    """
    data, n_rows, problems = _read_columns(os.path.join(path, MEASUREMENTS_FILE), _wanted_columns(target))
    if data is None:
        return TrialRead(ok=False, problems=problems)
    return _reduce(data, n_rows, problems, target)


def _read_group(header: bytes, members: list[tuple[int, bytes, WorkloadTarget]]) -> dict[int, TrialRead] | None:
    """Files sharing one header, parsed as one CSV; None when that is not safe (the
    caller then reads each file alone, which attributes every problem to its file)."""
    import pyarrow as pa

    counts = [body.count(b"\n") for _, body, _ in members]
    columns = list(dict.fromkeys(c for _, _, target in members for c in _wanted_columns(target)))
    try:
        table = _parse(pa.py_buffer(header + b"\n" + b"".join(body for _, body, _ in members)), columns, True)
    except pa.ArrowInvalid:
        return None
    data, problems = _arrays(table, columns)
    if problems or table.num_rows != sum(counts):  # text in a number column; blank lines
        return None
    out, start = {}, 0
    for (k, _, target), n in zip(members, counts):
        out[k] = _reduce({c: v[start : start + n] for c, v in data.items()}, n, [], target)
        start += n
    return out


def read_trials(items: Sequence[TrialItem]) -> list[TrialRead]:
    """Read many trials; files with the same header are parsed together.

    Why: the v0.5 tree has ~3,700 files of ~13 kB; one pyarrow call per file costs more
    in per-call overhead than in parsing. Joining the bodies of files that share a
    header (one workload's files do) into a single buffer makes it ~14 calls, which
    pyarrow parses on all cores (``use_threads``), so no process pool is needed. A file
    that is empty, unterminated (possibly truncated) or otherwise odd is read alone.
    """
    reads: dict[int, TrialRead] = {}
    groups: dict[bytes, list[tuple[int, bytes, WorkloadTarget]]] = {}
    for k, (path, target) in enumerate(items):
        if _not_a_file(os.path.join(path, MEASUREMENTS_FILE)):
            reads[k] = read_trial(path, target)  # reports what is wrong
            continue
        try:
            with open(os.path.join(path, MEASUREMENTS_FILE), "rb") as fh:
                raw = fh.read()
        except OSError:
            reads[k] = read_trial(path, target)  # reports what is wrong
            continue
        header, newline, body = raw.partition(b"\n")
        if newline and body.endswith(b"\n") and b"\n\n" not in body:
            groups.setdefault(header.rstrip(b"\r"), []).append((k, body, target))
        else:
            reads[k] = read_trial(path, target)
    for header, members in groups.items():
        got = _read_group(header, members)
        if got is None:
            got = {k: read_trial(items[k][0], target) for k, _, target in members}
        reads.update(got)
    return [reads[k] for k in range(len(items))]


# --------------------------------------------------------------------------- to the rules


def load_algoperf_trials(
    root: Path,
    targets: Targets,
    ruleset: Ruleset = "external",
    exclude: Sequence[Path] = (),
) -> ScoringInput:
    """AlgoPerf's log tree as trials to score, with AlgoPerf's rules switched on.

    Rules reproduced: the trial chosen per study by the first eval index reaching the
    target; the v0.5 held-out rule (when the targets file lists held-out workloads);
    the cut at 4 x the best time; the profile divided by the number of base workloads.
    Unlike AlgoPerf's script (which raises, or silently drops a trial), unusable input
    is reported: unknown workloads and workloads outside the version's scored set are
    ignored, trials without a readable log are dropped (as AlgoPerf drops a trial with
    no CSV), a truncated CSV keeps its complete rows.
    """
    root = Path(root)
    if not root.is_dir():
        raise OptbenchError(f"{root}: no such folder")
    found, problems = find_trial_logs(root, exclude)
    if not found:
        raise OptbenchError(
            f"{root}: no AlgoPerf trial folders (<submission>/study_<j>/<workload>_<jax|pytorch>/trial_<i>/)"
        )
    found.sort(key=lambda t: (t.submission, t.study, t.workload, t.experiment, t.trial))
    scored = set(targets.scored_set)
    usable, reported = [], set()
    for log in found:
        if log.workload in scored:
            usable.append(log)
            continue
        key = (log.submission, log.workload)
        if key not in reported:
            reported.add(key)
            folder = str(Path(log.path).parent)
            if log.workload in targets.workloads:
                problems.append(Problem(folder, f"workload {log.workload} is not scored in benchmark "
                                                f"v{targets.version} ({targets.path}): ignored"))
            else:
                problems.append(Problem(folder, f"unknown workload {log.workload} (not in {targets.path}): ignored"))
    reads = read_trials([(t.path, targets.workloads[t.workload]) for t in usable])
    rows = []
    for log, read in zip(usable, reads):
        if not read.ok:  # no usable log at all: dropped, as AlgoPerf drops a trial without a CSV
            problems.append(Problem(log.path, f"{'; '.join(read.problems)}: trial dropped"))
            continue
        problems.extend(Problem(log.path, message) for message in read.problems)
        reached = read.hit_index >= 0
        rows.append({
            "submission": log.submission, "study": log.study, "workload": log.workload, "trial": log.trial,
            "status": TrialStatus.REACHED.value if reached else "not_reached",
            "time_to_target": read.time if reached else np.nan,
            "steps_to_target": read.steps if reached else np.nan,
            "best_metric": read.best_metric, "path": log.path,
            "hit_index": read.hit_index, "n_evals": read.n_evals, "last_time": read.last_time,
        })
    columns = [*TRIAL_COLUMNS, "hit_index", "n_evals", "last_time"]
    trials = pd.DataFrame.from_records(rows, columns=columns)
    paths: dict[str, str] = {}
    for log in found:
        paths.setdefault(log.submission, log.experiment)
    return ScoringInput(
        trials, list(targets.scored_set), ruleset, paths, problems, choose="first_hit",
        variants=targets.variants, cut_factor=ALGOPERF_CUT_FACTOR, n_workloads=len(targets.base),
        targets=targets,
    )
