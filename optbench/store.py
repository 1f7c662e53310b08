"""The results folder (docs/design.md §5): atomic writes, and reading it all back into pandas.

Layout::

    results/<experiment>/
      experiment.json
      <submission>/study_<j>/<workload>/trial_<i>/
        trial.json      # identity + hparams + TrialResult fields, flat
        evals.csv       # one row per eval

Every file is written to a temporary name in the same folder and renamed over the
final name (``os.replace`` is atomic on POSIX), so a killed run never leaves a file
that reads as complete. ``trial.json`` is written last: its presence is what marks
a trial done (:func:`is_trial_complete`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from optbench import __version__
from optbench.errors import OptbenchError
from optbench.spec import TrialResult, TrialRuntime, TrialSpec

if TYPE_CHECKING:
    import pandas as pd

EXPERIMENT_FILE = "experiment.json"
TRIAL_FILE = "trial.json"
EVALS_FILE = "evals.csv"
WEIGHTS_FILE = "weights_{}.pt"  #: --save-weights: weights_init.pt, weights_final.pt (torch state dicts)
#: The first columns of evals.csv, in this order; metric columns follow, sorted.
EVAL_BASE_COLUMNS = ("step", "submission_time", "submission_wall_time", "submission_cpu_time", "eval_time",
                     "total_time", "train/loss")


_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once at import: os.umask can only be read by setting it


class ResultsError(OptbenchError):
    """A results folder that cannot be written or read; the CLI prints it as one line."""


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file + rename, so readers never see half a file."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder, fsync, then rename: a reader (or a
    run killed half-way) sees the old file or the new one, never half of one."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ResultsError(f"cannot write to {path.parent}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "item"):  # numpy / torch scalars
        return obj.item()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    return str(obj)


def finite_or_none(value: Any) -> Any:
    """JSON has no inf/nan: store them as null (a trial that did not reach the target)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_json_default) + "\n")


def read_json(path: Path) -> Any:
    """A JSON object from a results file (optbench.safeio: UTF-8, parser limits, a regular file)."""
    from optbench import safeio

    try:
        return safeio.read_json(path)
    except ResultsError:
        raise
    except OptbenchError as exc:
        raise ResultsError(str(exc)) from None


def read_trial(path: Path) -> dict[str, Any] | None:
    """trial.json's record when it is complete and well-typed (optbench.schemas.TrialRecord), else None:
    a damaged trial counts as not finished (``run --resume`` runs it again; scoring warns and skips it)."""
    from optbench.schemas import TrialRecord, check

    path = Path(path)
    if not path.is_file():
        return None
    try:
        record = read_json(path)
        check(TrialRecord, record, str(path))
    except OptbenchError:
        return None
    return record


def check_writable(root: Path) -> None:
    """Fail early, with one line, when the results folder cannot be created or written."""
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".optbench-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ResultsError(
            f"results folder {root} is not writable ({exc.strerror or exc}); choose another with --results"
        ) from None


def evals_to_csv(rows: Iterable[dict[str, Any]]) -> str:
    rows = list(rows)
    extra = sorted({k for row in rows for k in row} - set(EVAL_BASE_COLUMNS))
    columns = list(EVAL_BASE_COLUMNS) + extra
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buf.getvalue()


def trial_record(spec: TrialSpec, result: TrialResult, runtime: TrialRuntime | None = None) -> dict[str, Any]:
    """The flat content of trial.json: who/what/where, then every TrialResult field.

    ``device`` is where the trial ran (``cuda:1``), from its runtime when known."""
    wl = spec.workload
    record: dict[str, Any] = {
        "optbench_version": __version__,
        "submission": spec.submission,
        "study": spec.study,
        "trial": spec.trial,
        "workload": wl.name,
        "workload_version": wl.version,
        "workload_hash": wl.hash,
        "submission_hash": spec.submission_hash,
        "ruleset": spec.ruleset,
        "seed": spec.seed,
        "hparams": spec.hparams,
        "device": runtime.placement(spec) if runtime else spec.device,
        "clock": str(spec.clock),
        "budget_seconds": spec.budget_seconds,
        "budget_steps": spec.budget_steps,
        "step_hint": wl.budget.step_hint,
        "target_metric": wl.target.metric,
        "target_value": wl.target.value,
        "target_mode": wl.target.mode,
    }
    record.update({k: finite_or_none(v) for k, v in asdict(result).items()})
    record["status"] = str(result.status)
    return record


def write_trial(root: Path, spec: TrialSpec, result: TrialResult, evals: list[dict[str, Any]],
                runtime: TrialRuntime | None = None, weights: dict[str, bytes] | None = None) -> Path:
    """Write one finished trial: evals.csv (and ``weights_<init|final>.pt`` with --save-weights) first,
    trial.json last (it marks completion)."""
    folder = Path(root) / spec.folder
    for name, data in (weights or {}).items():
        atomic_write_bytes(folder / WEIGHTS_FILE.format(name), data)
    atomic_write_text(folder / EVALS_FILE, evals_to_csv(evals))
    atomic_write_json(folder / TRIAL_FILE, trial_record(spec, result, runtime))
    return folder


def is_trial_complete(folder: Path) -> bool:
    """A trial is done when its trial.json exists and parses with a status."""
    return read_trial(Path(folder) / TRIAL_FILE) is not None


def write_experiment(root: Path, data: dict[str, Any]) -> None:
    atomic_write_json(Path(root) / EXPERIMENT_FILE, data)


def read_experiment(root: Path) -> dict[str, Any]:
    root = Path(root)
    if not (root / EXPERIMENT_FILE).is_file():
        raise ResultsError(f"{root} is not an optbench experiment (no {EXPERIMENT_FILE} in it)")
    return read_json(root / EXPERIMENT_FILE)


def trial_files(root: Path) -> list[Path]:
    """Every trial.json under an experiment folder, in a stable order."""
    return sorted(Path(root).glob(f"*/study_*/*/trial_*/{TRIAL_FILE}"))


def load_trials(root: Path) -> pd.DataFrame:
    """One row per finished trial (the fields of trial.json; ``hparams`` stays a dict).

    ``time_to_target``/``steps_to_target`` are NaN for trials that did not reach the
    target; scoring turns those into inf.
    """
    import pandas as pd

    records = []
    for path in trial_files(root):
        record = read_trial(path)
        if record is None:
            continue  # a half-written file cannot exist (atomic writes); a hand-damaged one is skipped
        record["path"] = str(path.parent)
        records.append(record)
    frame = pd.DataFrame.from_records(records)
    for column in ("time_to_target", "wall_time_to_target", "cpu_time_to_target", "steps_to_target", "best_metric"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def load_evals(root: Path) -> pd.DataFrame:
    """Every eval of every finished trial, with submission/study/workload/trial columns."""
    import pandas as pd

    frames = []
    for path in trial_files(root):
        evals_path = path.parent / EVALS_FILE
        if not evals_path.is_file():
            continue
        frame = pd.read_csv(evals_path)
        trial_dir = path.parent
        frame.insert(0, "trial", int(trial_dir.name.removeprefix("trial_")))
        frame.insert(0, "workload", trial_dir.parent.name)
        frame.insert(0, "study", int(trial_dir.parent.parent.name.removeprefix("study_")))
        frame.insert(0, "submission", trial_dir.parent.parent.parent.name)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["submission", "study", "workload", "trial", *EVAL_BASE_COLUMNS])
    return pd.concat(frames, ignore_index=True)
