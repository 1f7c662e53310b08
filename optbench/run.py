"""One experiment, start to finish: its folder, experiment.json, running the plan, progress.

The CLI resolves names into workloads, submissions and a plan; this module owns
what happens next, so that `optbench run` and the tests drive exactly the same
code. Results are written by this process as each trial finishes (DESIGN.md §5),
so a killed run loses only the trials that were running.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from optbench import __version__, store
from optbench.executors.local import Finished, LocalExecutor
from optbench.spec import TrialSpec


def default_experiment_name() -> str:
    return datetime.now().strftime("%Y-%m-%d_%H-%M-%S")


def git_state(path: Path) -> dict[str, Any]:
    """Commit and dirtiness of the repository holding ``path`` (empty when not a repo)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, timeout=5)
        if commit.returncode != 0:
            return {}
        status = subprocess.run(["git", "status", "--porcelain"], cwd=path, capture_output=True, text=True, timeout=5)
        return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {}


def environment() -> dict[str, Any]:
    """Versions and hardware, for provenance (torch is imported by the caller anyway)."""
    import torch

    info: dict[str, Any] = {
        "optbench": __version__, "torch": torch.__version__, "python": platform.python_version(),
        "platform": platform.platform(), "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(), "cuda_available": torch.cuda.is_available(),
    }
    if torch.cuda.is_available():
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def experiment_record(name: str, specs: list[TrialSpec], config: dict[str, Any]) -> dict[str, Any]:
    workloads = {s.workload.name: s.workload for s in specs}
    submissions = {s.submission: (s.submission_path, s.submission_hash) for s in specs}
    return {
        "name": name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": sys.argv,
        "config": config,
        "environment": environment(),
        "git": git_state(Path(__file__).parent),
        "workloads": {n: {"hash": w.hash, "version": w.version, "path": w.path, "spec": w.resolved()}
                      for n, w in workloads.items()},
        "submissions": {n: {"path": p, "code_hash": h} for n, (p, h) in submissions.items()},
        "trials": [{"folder": s.folder, "seed": s.seed, "hparams": s.hparams, "study": s.study, "trial": s.trial,
                    "workload": s.workload.name, "submission": s.submission} for s in specs],
    }


def run_experiment(
    root: Path,
    specs: list[TrialSpec],
    executor: LocalExecutor,
    config: dict[str, Any],
    on_finished: Callable[[Finished], None] | None = None,
) -> list[Finished]:
    """Create ``root``, record the plan, run every trial not yet complete, write each result.

    Returns the trials finished by this call. KeyboardInterrupt propagates after
    everything finished has been written.
    """
    store.check_writable(root)
    if not (root / store.EXPERIMENT_FILE).is_file():
        store.write_experiment(root, experiment_record(root.name, specs, config))
    todo = [s for s in specs if not store.is_trial_complete(root / s.folder)]
    finished: list[Finished] = []

    def record(done: Finished) -> None:
        store.write_trial(root, done.spec, done.result, done.evals)
        finished.append(done)
        if on_finished:
            on_finished(done)

    executor.run(todo, on_finished=record)
    return finished


def result_row(spec: TrialSpec, result: Any) -> dict[str, Any]:
    """A flat summary row for tables."""
    return {"workload": spec.workload.name, "submission": spec.submission, "study": spec.study,
            "trial": spec.trial, **{k: v for k, v in asdict(result).items() if k != "traceback"}}


def elapsed_since(start: float) -> str:
    return f"{time.monotonic() - start:.1f} s"
