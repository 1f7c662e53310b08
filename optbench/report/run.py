"""What ``optbench run`` (and ``optbench sweep``'s run) do once their options are parsed.

:mod:`optbench.cli` only parses; ``run`` is one call to :func:`run`, which finds the
workloads and submissions, plans a new experiment or takes the plan of the one to resume,
runs it with live progress and prints what each trial reached. It returns the exit code
(0, 1 when a trial failed or timed out, 130 when interrupted) rather than exiting, so the
caller decides; bad input raises :class:`~optbench.errors.OptbenchError` before any trial.
Results go to ``console``, notes and warnings to ``err_console`` (both rich consoles).
It lives with the printing (layer 8) because most of it is what a run shows while it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.markup import escape

from optbench.errors import OptbenchError
from optbench.spec import RunConfig, TrialSpec

#: The exit code of an interrupted run (the shell's for SIGINT): finished trials are kept.
INTERRUPTED = 130


def split_names(text: str | None) -> list[str]:
    """A comma-separated option (``--workloads a,b``) as its non-empty names."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def run(console: Any, err_console: Any, *, given: Mapping[str, str], workloads: str | None, suite: str | None,
        submissions: str, hparams: str | None, resume: Path | None, force: bool, results: Path, name: str | None,
        workloads_dir: list[Path], submissions_dir: list[Path], scales: str | None, data_dir: Path | None,
        keep_going: bool, compile_model: bool, execution: dict[str, Any], **settings: Any) -> int:
    """``optbench run``: plan (or resume) the experiment, run it, print; the exit code.

    ``given`` maps the options given on the command line (their parameter names) to their flags,
    so that ``--resume`` can refuse the ones that would change the plan; ``execution`` holds the
    options of :attr:`RunConfig.EXECUTION_FIELDS`; ``settings`` go to
    :func:`optbench.experiment.configure` unchanged.
    """
    from optbench import experiment
    from optbench.plan import plan_from_config
    from optbench.safeio import path_part
    from optbench.submissions import check_distinct, find_submission
    from optbench.tuning.spaces import parse_hparams_override
    from optbench.workloads import resolve_workloads, suites
    from optbench.workloads.scales import expand as expand_scales

    if resume is not None:
        extra = [flag for option, flag in given.items()
                 if option not in (*RunConfig.EXECUTION_FIELDS, "resume", "force")]
        if extra:
            raise OptbenchError(f"--resume takes the plan from {resume}/experiment.json; drop {', '.join(extra)} "
                                "(only --workers, --threads, --checkpoint, --force and the --executor options go "
                                "with it)")
        specs, config, resumed = experiment.resume(resume, force, {k: v for k, v in execution.items() if k in given})
        for note in resumed.notes:
            err_console.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
        for change in resumed.changes:
            err_console.print(f"[yellow]warning:[/] --force: {escape(change)}", highlight=False, soft_wrap=True)
        return execute(resume, specs, config, console, err_console, resumed=True)
    if force:
        raise OptbenchError("--force only means something with --resume")
    if execution["executor"] == "ray" and "workers" not in given:
        execution = {**execution, "workers": None}  # as many trials at once as the cluster holds
    names = split_names(workloads)
    suite = suite or (None if names else "default")
    found = expand_scales(resolve_workloads(names, suite, workloads_dir), scales)
    subs = [find_submission(s, submissions_dir) for s in split_names(submissions)]
    if not subs:
        raise OptbenchError("--submissions: name at least one submission")
    check_distinct(subs)
    config = experiment.configure(
        workloads=[w.name for w in found], submissions=[s.name for s in subs], suite=suite,
        hparams=parse_hparams_override(hparams) if hparams else None,
        suite_clock=suites(workloads_dir)[suite].clock if suite else None,
        stop_at_target=not keep_going, data_dir=str(data_dir.resolve()) if data_dir else None,
        compile=compile_model, **settings, **execution)
    plan = plan_from_config(found, subs, config)
    root = results / (path_part(name, "--name") if name else experiment.default_experiment_name())
    return execute(root, plan, config, console, err_console)


def execute(root: Path, plan: list[TrialSpec], config: RunConfig, console: Any, err_console: Any,
            resumed: bool = False) -> int:
    """Run ``plan`` into ``root`` with live progress, print the summary; the exit code."""
    from optbench import experiment, store
    from optbench.executors import make_executor
    from optbench.report.progress import Progress

    executor = make_executor(config)
    executor.start()  # the forkserver imports torch while this process writes experiment.json
    import pandas  # noqa: F401 - for the summary at the end: imported while the workers import torch, it costs no wall time
    if not resumed:
        experiment.start_experiment(root, plan, config)
    warning = experiment.busy_machine_warning()  # after the checks that refuse a run in one line
    if warning:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    console.print(f"[bold]optbench run[/] → {escape(str(root))}  ({len(plan)} trials, {executor.workers} worker(s) "
                  f"× {executor.threads} thread(s), clock {config.clock}{', checkpoints' if config.checkpoint else ''})",
                  highlight=False, soft_wrap=True)
    try:
        with experiment.sigterm_as_interrupt():
            experiment.run_experiment(root, plan, executor, config.checkpoint,
                                      Progress(console, workers=executor.workers))
    except KeyboardInterrupt:
        done = sum(store.is_trial_complete(root / s.folder) for s in plan)
        err_console.print(f"interrupted: {done} of {len(plan)} trials are complete and kept in {root}; "
                          f"continue with: optbench run --resume {root}", highlight=False, soft_wrap=True, markup=False)
        return INTERRUPTED
    return finish(root, plan, console, err_console)


def finish(root: Path, plan: list[TrialSpec], console: Any, err_console: Any) -> int:
    """What each trial reached (one table per workload), the command to type next, and the exit
    code: 1, after a closing line, when a trial failed or timed out (the codes: RUN_EXIT_CODES)."""
    from optbench import experiment
    from optbench.report.terminal import print_next_step, print_run_summary, run_outcome_line

    print_run_summary(root, console)
    print_next_step(root, console)
    outcome = experiment.run_outcome(root, plan)
    line = run_outcome_line(outcome)
    if line:
        err_console.print(f"[red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
        return outcome.exit_code
    return 0
