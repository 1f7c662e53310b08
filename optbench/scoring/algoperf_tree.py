"""Where AlgoPerf's logs are: the trial folders of an AlgoPerf results tree, found without reading them.

For ``optbench score --format algoperf`` (:mod:`optbench.scoring.algoperf_logs` reads what is
found here). Layout, as AlgoPerf writes it::

    <root>/[<team>/]<submission>[-YYYY-MM-DD-HH-MM-SS]/study_<j>/<workload>_<jax|pytorch>/trial_<i>/
        eval_measurements.csv

Folders named ``<submission>-YYYY-MM-DD-HH-MM-SS`` are re-runs of ``<submission>``
(AlgoPerf's ``get_experiment_df`` collects every ``<submission>*`` folder with such a
suffix); their trials are pooled into the same studies, each trial kept apart (it is
identified by its folder, not only by ``trial_<i>``).

A folder that is not a study, or holds no studies, is a :class:`~optbench.scoring.inputs.Problem`
(a warning), never an error: real trees hold stray folders.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from optbench.scoring.inputs import Problem

MEASUREMENTS_FILE = "eval_measurements.csv"
#: AlgoPerf's ``TIMESTAMP`` suffix of re-run folders: ``-YYYY-MM-DD-HH-MM-SS``.
TIMESTAMP_SUFFIX = re.compile(r"^(?P<name>.+?)-\d{4}(?:-\d{2}){5}$")
FRAMEWORK_SUFFIX = re.compile(r"^(?P<name>.+)_(?:jax|pytorch)$")
STUDY_DIR = re.compile(r"^study_(?P<n>\d+)$")
TRIAL_DIR = re.compile(r"^trial_(?P<n>\d+)$")


@dataclass(frozen=True)
class TrialLog:
    """One trial folder found in the tree (its CSV may still turn out unreadable)."""

    submission: str
    study: int
    workload: str  #: without the ``_jax``/``_pytorch`` suffix
    trial: int
    experiment: str  #: the submission folder it came from (re-runs have their own)
    path: str  #: the trial folder


def submission_name(folder: str) -> str:
    """``shampoo-2024-05-01-12-00-00`` -> ``shampoo``; other names unchanged."""
    match = TIMESTAMP_SUFFIX.match(folder)
    return match.group("name") if match else folder


def workload_name(folder: str) -> str:
    """``ogbg_pytorch`` -> ``ogbg``: AlgoPerf scores a workload whatever its framework."""
    match = FRAMEWORK_SUFFIX.match(folder)
    return match.group("name") if match else folder


def _subdirs(path: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as it:
            return sorted((e for e in it if e.is_dir()), key=lambda e: e.name)
    except OSError:
        return []


def _has_studies(path: Path) -> bool:
    return any(STUDY_DIR.match(e.name) for e in _subdirs(path))


def find_experiments(root: Path, exclude: Iterable[Path] = ()) -> tuple[list[tuple[str, Path]], list[Problem]]:
    """The submission folders under ``root``: ``[(submission name, folder)]``.

    A folder holding ``study_<j>`` folders is a submission. ``root`` itself may be one;
    otherwise its children are submissions, or (older trees) teams holding submissions.
    """
    root = Path(root)
    excluded = {Path(p).resolve() for p in exclude}
    if _has_studies(root):
        return [(submission_name(root.name), root)], []
    found: list[tuple[str, Path]] = []
    problems: list[Problem] = []
    for entry in _subdirs(root):
        path = Path(entry.path)
        if path.resolve() in excluded or entry.name.startswith("."):
            continue
        if _has_studies(path):
            found.append((submission_name(entry.name), path))
            continue
        team = [(submission_name(e.name), Path(e.path)) for e in _subdirs(path) if _has_studies(Path(e.path))]
        if team:
            found.extend(team)
        else:
            problems.append(Problem(str(path), "no study_<j> folders in it (not a submission); ignored"))
    return found, problems


def find_trial_logs(root: Path, exclude: Iterable[Path] = ()) -> tuple[list[TrialLog], list[Problem]]:
    """Every trial folder of every submission under ``root``, in a stable (sorted) order."""
    experiments, problems = find_experiments(root, exclude)
    logs: list[TrialLog] = []
    for submission, experiment in experiments:
        for study_entry in _subdirs(experiment):
            study = STUDY_DIR.match(study_entry.name)
            if not study:
                problems.append(Problem(study_entry.path, "not a study_<j> folder; ignored"))
                continue
            for wl_entry in _subdirs(Path(study_entry.path)):
                for trial_entry in _subdirs(Path(wl_entry.path)):
                    trial = TRIAL_DIR.match(trial_entry.name)
                    if trial:
                        logs.append(
                            TrialLog(
                                submission,
                                int(study.group("n")),
                                workload_name(wl_entry.name),
                                int(trial.group("n")),
                                str(experiment),
                                trial_entry.path,
                            )
                        )
    return logs, problems
