"""What ``optbench calibrate`` does once its options are parsed: one of the three calibrations, printed
as it goes (:mod:`optbench.report.calibration`), saved with ``--out`` and written with ``--write``."""

from __future__ import annotations

import dataclasses
import json
import shlex
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from rich.markup import escape

from optbench.errors import OptbenchError


@dataclass(frozen=True)
class CalibrateOptions:
    """``optbench calibrate``'s options (see its --help)."""

    workload: str | None
    defaults: str | None
    suite: str
    submissions: tuple[str, ...]
    trials: int
    points: int
    seeds: int
    horizon: int | None
    quantile: float
    headroom: float
    multiplier: float
    seconds_only: bool
    steps: int
    rounds: int
    target: float | None
    workers: int
    threads: int
    seed: int
    write: bool
    out: Path | None
    workloads_dir: tuple[Path, ...]
    submissions_dir: tuple[Path, ...]
    finalists: int = 3


def calibrate_command(o: CalibrateOptions, console: Any) -> None:
    from optbench import submissions as subs
    from optbench.executors.local import LocalExecutor
    from optbench.report.calibration import print_defaults_proposal, print_target_proposal, run_line
    from optbench.tools import calibrate as cal
    from optbench.workloads import find_workload, resolve_workloads

    executor = LocalExecutor(workers=o.workers, threads_per_worker=o.threads)
    command = "optbench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    today = date.today().isoformat()

    def say(text: str) -> None:
        console.print(text, highlight=False, soft_wrap=True)

    def show(phase: str, run: Any) -> None:
        console.print(run_line(phase, run), highlight=False, markup=False, soft_wrap=True)

    def save(record: dict) -> None:
        if o.out is not None:
            from optbench.store import atomic_write_text

            atomic_write_text(o.out, json.dumps({"command": command, **record}, indent=1, default=str))
            console.print(f"  saved to {o.out}", highlight=False, markup=False)

    def yaml_of(spec: Any) -> Path:
        if not spec.path or not Path(spec.path).is_file():
            raise OptbenchError(f"--write: workload {spec.name} has no YAML file to write into")
        return Path(spec.path)

    if o.defaults is not None:
        if o.workload is not None or o.write:
            raise OptbenchError("--defaults SUBMISSION takes --suite, not a WORKLOAD or --write")
        sub = subs.find_submission(o.defaults, list(o.submissions_dir))
        workloads = resolve_workloads([], o.suite, list(o.workloads_dir))
        say(f"[bold]optbench calibrate --defaults {escape(sub.name)}[/]: {o.points + 1} points x {len(workloads)} "
            f"workloads of {escape(o.suite)}, then the best {o.finalists} on {o.seeds} new seed(s)")
        proposal = cal.calibrate_defaults(sub, workloads, executor, points=o.points, seeds=o.seeds,
                                          multiplier=o.multiplier, base_seed=o.seed, finalists=o.finalists,
                                          on_run=show)
        print_defaults_proposal(proposal, console)
        save({"defaults": proposal.summary()})
        return
    if o.workload is None:
        raise OptbenchError("optbench calibrate takes a WORKLOAD (or --defaults SUBMISSION --suite SUITE)")
    spec = find_workload(o.workload, list(o.workloads_dir))
    found = [subs.find_submission(s, list(o.submissions_dir)) for s in o.submissions]
    if not found:
        raise OptbenchError("--submissions: name at least one submission")
    if o.seconds_only:
        say(f"[bold]optbench calibrate {escape(spec.name)} --seconds-only[/]: {len(found)} submission(s) x "
            f"{o.rounds} round(s) of {o.steps} steps, one at a time")
        measured = cal.calibrate_seconds(spec, found, LocalExecutor(workers=1, threads_per_worker=o.threads),
                                         steps=o.steps, rounds=o.rounds, headroom=o.headroom, on_run=show)
        per_step = ", ".join(f"{k} {v * 1000:.2f} ms" for k, v in measured.cpu_per_step.items())
        say(f"[bold green]seconds budget[/]: {measured.budget_seconds:g} s (now {spec.budget.seconds:g}); "
            f"CPU per step: {escape(per_step)}")
        save({"seconds": measured.notes(command, today)})
        if o.write:
            bumped = cal.write_seconds(yaml_of(spec), measured, command, today)
            say(f"  written into {escape(spec.path)}" + (" (version bumped)" if bumped else ""))
        return
    say(f"[bold]optbench calibrate {escape(spec.name)}[/]: {len(found)} x {o.trials} trials of "
        f"{o.horizon or spec.budget.step_hint} steps, then {o.seeds} seed(s) of the best")
    proposal = cal.calibrate_target(spec, found, executor, trials=o.trials, seeds=o.seeds, horizon=o.horizon,
                                    quantile=o.quantile, headroom=o.headroom, target=o.target, base_seed=o.seed,
                                    on_run=show)
    print_target_proposal(proposal, spec, console)
    save({"proposal": proposal.notes(command, today),
          "runs": [dataclasses.asdict(r) for r in proposal.search + proposal.seed_runs]})
    if o.write:
        bumped = cal.write_calibration(yaml_of(spec), proposal, command, today)
        say(f"  written into {escape(spec.path)}" + (" (version bumped)" if bumped else ""))
