"""One experiment, start to finish: its configuration, its folder and experiment.json, the plan,
running it (or the rest of it, on ``--resume``).

``optbench run`` and the tests drive exactly this code: :func:`configure` turns options
into a :class:`~optbench.spec.RunConfig`, :mod:`optbench.plan` makes the trials, :func:`start_experiment` writes
experiment.json, and :func:`run_experiment` runs every trial not yet complete. On
``--resume``, :func:`resume` rebuilds plan and configuration from experiment.json and
takes from the command line only what may change (how the plan runs). Results are
written by this process as each trial finishes (docs/design.md §5), so a killed run loses
only the trials that were running (and, with ``--checkpoint``, only what they did since
their last eval).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import signal
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Protocol

from optbench import __version__, store
from optbench.errors import OptbenchError
from optbench.executors.base import available_cores
from optbench.plan import Resumed, plan_record, resume_plan
from optbench.provenance import source_checkout, torch_facts
from optbench.spec import Clock, Executor, FinishedTrial, RunConfig, TrialSpec, TrialStatus
from optbench.trial.checkpoint import CHECKPOINT_FILE


class Progress(Protocol):
    """What the run reports as it goes (``optbench.report.progress`` draws it on a terminal)."""

    def begin(self, specs: list[TrialSpec], todo: list[TrialSpec], root: Path) -> None: ...

    def started(self, spec: TrialSpec) -> None: ...

    def eval(self, spec: TrialSpec, row: dict[str, Any]) -> None: ...

    def retry(self, done: FinishedTrial) -> None: ...

    def finished(self, done: FinishedTrial) -> None: ...

    def end(self) -> None: ...


# ------------------------------------------------------------------------ configuration and plan


def configure(*, workloads: list[str], submissions: list[str], suite: str | None, ruleset: str,
              preset: str | None, studies: int | None, trials: int | None, hparams: dict[str, Any] | None,
              clock: str | None = None, suite_clock: Clock | None = None, device: str = "cpu",
              threads: int | None = None, **options: Any) -> RunConfig:
    """The run's configuration from ``optbench run``'s options.

    Without ``--preset`` a run is quick: 1 study, and 5 trials under external tuning;
    the self-tuning budget multiplier is the default preset's. ``--hparams`` means one
    trial per study. ``preset`` is recorded only when one was asked for.

    The clock is ``--clock``, else the suite's (``suites.yaml``), else ``cpu`` on a CPU and
    ``wall`` on an accelerator. On a CPU a trial runs on one torch thread unless
    ``--threads`` says otherwise: the built-in budgets were calibrated so, and on a shared
    machine a second thread costs more than it gives.
    """
    from optbench.tuning import rulesets

    if clock is not None and clock not in {c.value for c in Clock}:
        raise OptbenchError(f"--clock {clock}: expected wall, cpu or steps")
    chosen = Clock(clock) if clock else suite_clock or (Clock.CPU if device == "cpu" else Clock.WALL)
    if chosen == Clock.CPU and device != "cpu":
        raise OptbenchError(f"--clock cpu counts CPU seconds, which do not measure work on {device}; "
                            "use --clock wall (or steps) there")
    if threads is None and device == "cpu":
        threads = 1

    if hparams is not None or ruleset == "self":
        trials_wanted = 1 if hparams is not None else trials
    else:
        trials_wanted = trials or (None if preset else 5)
    rules = rulesets.resolve_ruleset(preset, ruleset, trials=trials_wanted, studies=studies or (None if preset else 1))
    if options.get("save_weights") and options.get("executor") == "ray":
        raise OptbenchError("--save-weights: the Ray executor does not bring weights back yet; use --executor local")
    if options.get("amp") not in (None, "bf16"):
        raise OptbenchError(f"--amp {options['amp']}: only bf16 is supported")
    return RunConfig(workloads=tuple(workloads), submissions=tuple(submissions), suite=suite,
                     ruleset=rules.ruleset, preset=preset, studies=rules.studies, trials=rules.trials,
                     budget_multiplier=rules.budget_multiplier, hparams=hparams, clock=chosen, device=device,
                     threads=threads, **options)


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
    """Versions and hardware, for provenance (without importing torch where it cannot have CUDA)."""
    return {"optbench": __version__, "python": platform.python_version(), "platform": platform.platform(),
            "cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
            "available_cores": available_cores(), "load_average_1min": load_average(), **torch_facts()}


def load_average() -> float | None:
    """The 1-minute load average (None where the platform has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def busy_machine_warning() -> str | None:
    """One line when the machine is already busier than its cores: wall-clock budgets then
    measure the load as much as the submission (the cpu and steps clocks much less)."""
    load, cores = load_average(), available_cores()
    if load is not None and load > cores:
        return (f"the load average is {load:.1f} on {cores} core(s): other processes compete for the CPU; "
                "times will be slower than on an idle machine (least so on --clock cpu or steps)")
    return None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def experiment_record(name: str, specs: list[TrialSpec], config: RunConfig) -> dict[str, Any]:
    """experiment.json: the command, the configuration, provenance, and the whole resolved plan."""
    return {
        "name": name,
        "created": _now(),
        "command": sys.argv,
        "config": config.to_record(),
        "environment": environment(),
        "git": git_state(checkout) if (checkout := source_checkout()) else {},
        **plan_record(specs),
        "resumes": [],
    }


def start_experiment(root: Path, specs: list[TrialSpec], config: RunConfig) -> None:
    """Create ``root`` and write experiment.json; an existing experiment is never overwritten."""
    store.check_writable(root)  # first: it turns any OSError (a name too long, a file in the way) into one line
    if (root / store.EXPERIMENT_FILE).is_file():
        raise OptbenchError(f"{root} already holds an experiment; continue it with `optbench run --resume {root}`, "
                            "or choose another --name")
    store.write_experiment(root, experiment_record(root.name, specs, config))


def resume(root: Path, force: bool, execution: dict[str, Any]) -> tuple[list[TrialSpec], RunConfig, Resumed]:
    """The recorded plan and configuration of the experiment in ``root``, with ``execution`` (the
    options given again: how the plan runs, :attr:`RunConfig.EXECUTION_FIELDS`) taking the place
    of the recorded ones; the resume is noted in experiment.json."""
    unknown = set(execution) - set(RunConfig.EXECUTION_FIELDS)
    if unknown:
        raise OptbenchError(f"--resume cannot change {', '.join(sorted(unknown))}")
    resumed = resume_plan(root, force)
    config = dataclasses.replace(resumed.config, **execution)
    store.check_writable(root)
    entry = {"time": _now(), "command": sys.argv, "forced": resumed.changes,
             **{name: getattr(config, name) for name in ("workers", "threads", "checkpoint")}, **execution}
    store.write_experiment(root, {**resumed.record, "resumes": [*resumed.record.get("resumes", []), entry]})
    return resumed.specs, config, resumed


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """A polite kill (CI cancelling a job) stops the run like Ctrl-C: finished trials are kept."""
    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_experiment(
    root: Path,
    specs: list[TrialSpec],
    executor: Executor,
    checkpoint: bool = False,
    progress: Progress | None = None,
) -> list[FinishedTrial]:
    """Run every trial of ``specs`` whose folder in ``root`` is not complete; write each result.

    experiment.json must exist (:func:`start_experiment`, or a resumed experiment).
    With ``checkpoint`` each trial saves ``checkpoint.pt`` in its folder at each eval and
    continues from it when run again; the file is deleted once the trial is recorded.
    Returns the trials finished by this call. KeyboardInterrupt propagates after
    everything finished has been written.
    """
    for spec in specs:
        if store.is_trial_complete(root / spec.folder):
            (root / spec.folder / CHECKPOINT_FILE).unlink(missing_ok=True)  # left by a kill after trial.json
    todo = [s for s in specs if not store.is_trial_complete(root / s.folder)]
    if executor.workers > 1:  # longest budgets first, so that the workers run out of work together
        todo.sort(key=lambda s: -s.budget_seconds)
    finished: list[FinishedTrial] = []
    if progress:
        progress.begin(specs, todo, root)

    def record(done: FinishedTrial) -> None:
        store.write_trial(root, done.spec, done.result, done.evals, done.runtime, done.weights)
        (root / done.spec.folder / CHECKPOINT_FILE).unlink(missing_ok=True)
        finished.append(done)
        if progress:
            progress.finished(done)

    try:
        executor.run(todo, on_finished=record, on_eval=progress.eval if progress else None,
                     on_start=progress.started if progress else None,
                     on_retry=progress.retry if progress else None,
                     checkpoint_root=str(root.resolve()) if checkpoint else None)
    finally:
        if progress:
            progress.end()
    return finished




# ------------------------------------------------------------------------------- the outcome

#: How a trial may end in a run that exits 0: the algorithm's result, good or bad.
OK_STATUSES = (TrialStatus.REACHED.value, TrialStatus.BUDGET_EXHAUSTED.value, TrialStatus.DIVERGED.value)


@dataclass(frozen=True)
class RunOutcome:
    """How the experiment's trials ended, for ``optbench run``'s exit code and closing line.

    Reaching the target, running out of budget and diverging are results about the
    algorithm; a trial that ``failed`` (an exception, a dead worker) or hung (``timeout``)
    measured nothing, so a run with one must not look like a success to a script or CI.
    """

    trials: int
    failed: int = 0
    timed_out: int = 0
    missing: int = 0  #: trials of the plan with no trial.json (none after a run that was not interrupted)
    first_error: str | None = None  #: "<trial folder>: <error>" of the first bad trial in plan order

    @property
    def exit_code(self) -> int:
        """0: every trial ended reached, budget_exhausted or diverged; 1: any failed, timed out or is missing."""
        return 1 if self.failed or self.timed_out or self.missing else 0


def run_outcome(root: Path, specs: list[TrialSpec]) -> RunOutcome:
    """Read each trial.json of the plan (the whole experiment, resumed trials too)."""
    counts = {"failed": 0, "timeout": 0, "missing": 0}
    first_error = None
    for spec in specs:
        path = root / spec.folder / store.TRIAL_FILE
        try:
            record = store.read_json(path)
        except OptbenchError:
            record = None
        if isinstance(record, dict) and "status" in record:
            status, error = str(record["status"]), record.get("error")
        else:
            status, error = "missing", f"no readable {store.TRIAL_FILE}"
        if status in OK_STATUSES:
            continue
        counts[status if status in counts else "failed"] += 1
        if first_error is None:
            first_error = f"{spec.folder}: {error or status}"
    return RunOutcome(trials=len(specs), failed=counts["failed"], timed_out=counts["timeout"],
                      missing=counts["missing"], first_error=first_error)
