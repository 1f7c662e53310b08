"""The ``optbench`` command line (typer). Thin: it parses, calls the modules, prints with rich.

Heavy imports (torch, pandas, matplotlib) happen inside the commands that need
them, so ``optbench --help`` and ``import optbench`` stay fast (DESIGN.md §7).
Every :class:`~optbench.errors.OptbenchError` is printed as one line and exits 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List

import typer
from rich.console import Console

from optbench import __version__
from optbench.errors import OptbenchError

app = typer.Typer(
    name="optbench",
    help="Benchmark neural-network training algorithms the AlgoPerf way: time-to-target, "
    "performance profiles, scores.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
list_app = typer.Typer(help="List workloads, suites or submissions.", no_args_is_help=True)
app.add_typer(list_app, name="list")
data_app = typer.Typer(help="Check the data folders that real-data workloads read (never downloads).",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console()
err_console = Console(stderr=True)


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _version(value: bool) -> None:
    if value:
        console.print(f"optbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """optbench: is your optimizer faster to a target than AdamW, counting the cost of tuning?"""


DEFAULT_SUBMISSIONS = "adamw,nadamw,sgd_nesterov"


@app.command()
def run(
    suite: str | None = typer.Option(None, help="A suite of workloads (see `optbench list suites`). "
                                        "Default: `default` when no --workloads are given."),
    workloads: str | None = typer.Option(None, help="Comma-separated workload names or YAML paths."),
    submissions: str = typer.Option(DEFAULT_SUBMISSIONS, help="Comma-separated submission names or folders."),
    ruleset: str = typer.Option("self", help="self: each submission's own defaults, budget x preset multiplier; "
                                "external: quasi-random search over its search space."),
    preset: str | None = typer.Option(None, help="algoperf-v06 or algoperf-v05: trials, studies and the "
                                         "self-tuning budget multiplier. Without it: 1 study, 5 trials."),
    studies: int | None = typer.Option(None, min=1, help="Independent repetitions (seeds, search points)."),
    trials: int | None = typer.Option(None, min=1, help="Search points per study (external tuning)."),
    hparams: str | None = typer.Option(None, help="Fixed hyperparameters k=v,... for every trial "
                                          "(over the submission's defaults); implies one trial per study."),
    same_points_per_study: bool = typer.Option(False, help="Give every study the same search points in a new "
                                               "order, as AlgoPerf's harness does."),
    device: str = typer.Option("cpu", help="cpu, cuda, cuda:1, mps ..."),
    workers: int = typer.Option(1, min=1, help="Trials run at once (CPU threads are split between them)."),
    results: Path = typer.Option(Path("results"), help="Folder that holds experiment folders."),
    name: str | None = typer.Option(None, help="Experiment folder name (default: the date and time)."),
    seed: int = typer.Option(0, help="Base seed; trial seeds derive from it."),
    keep_going: bool = typer.Option(False, help="Do not stop a trial at its target; run its whole budget."),
    workloads_dir: List[Path] = typer.Option([], help="More folders of workload YAML (repeatable)."),
    submissions_dir: List[Path] = typer.Option([], help="More folders of submissions (repeatable)."),
    data_dir: Path | None = typer.Option(None, help="Where workloads that read real data find it."),
    compile_model: bool = typer.Option(False, "--compile", help="torch.compile the training forward; compile "
                                       "and warm-up time is reported as compile_time, never submission time."),
    amp: str | None = typer.Option(None, help="bf16: autocast the training forward and loss to bfloat16."),
    tf32: bool = typer.Option(False, "--tf32", help="CUDA: TF32 matmuls and convolutions."),
    cudnn_benchmark: bool = typer.Option(False, "--cudnn-benchmark", help="CUDA: let cuDNN autotune kernels."),
) -> None:
    """Run submissions on workloads and record every eval in a results folder."""
    from optbench import submissions as subs
    from optbench import tuning
    from optbench.plan import SubmissionRef, build_plan
    from optbench.workloads import resolve_workloads

    names = _split(workloads)
    specs_w = resolve_workloads(names, suite or (None if names else "default"), workloads_dir)
    found = [subs.find_submission(s, submissions_dir) for s in _split(submissions)]
    if not found:
        raise OptbenchError("--submissions: name at least one submission")
    override = tuning.parse_hparams_override(hparams) if hparams else None
    if override is not None or ruleset == "self":
        trials_wanted = 1 if override is not None else trials
    else:
        trials_wanted = trials or (None if preset else 5)
    rules = tuning.resolve_ruleset(preset, ruleset, trials=trials_wanted, studies=studies or (None if preset else 1))
    spaces = {}
    for sub in found:
        if ruleset == "external" and not override:
            if sub.search_space_path is None:
                raise OptbenchError(f"{sub.path}: no search_space.yaml for external tuning")
            spaces[sub.name] = tuning.load_search_space(sub.search_space_path)

    def hparams_for(ref: SubmissionRef, workload, study: int) -> list[dict]:
        if override is not None:
            return [override]
        if ruleset == "self":
            return [{}]
        return tuning.study_points(spaces[ref.name], rules.trials, seed, study,
                                   same_points_per_study=same_points_per_study,
                                   source=str(found_by_name[ref.name].search_space_path))

    found_by_name = {s.name: s for s in found}
    refs = [SubmissionRef(s.name, str(s.path), s.code_hash) for s in found]
    plan = build_plan(specs_w, refs, rules.studies, hparams_for, ruleset="self" if ruleset == "self" else "external",
                      budget_multiplier=rules.budget_multiplier, base_seed=seed, device=device,
                      stop_at_target=not keep_going, data_dir=str(data_dir) if data_dir else None)
    if amp not in (None, "bf16"):
        raise OptbenchError(f"--amp {amp}: only bf16 is supported")
    gpu = {"compile": compile_model, "amp": amp, "tf32": tf32, "cudnn_benchmark": cudnn_benchmark}
    for trial_spec in plan:  # the GPU path: trial.accelerate
        for key, value in gpu.items():
            setattr(trial_spec, key, value)
    root = results / (name or _default_name())
    config = {"suite": suite, "workloads": [w.name for w in specs_w], "submissions": [s.name for s in found],
              "ruleset": ruleset, "preset": rules.preset, "studies": rules.studies, "trials": rules.trials,
              "budget_multiplier": rules.budget_multiplier, "hparams": override, "device": device,
              "workers": workers, "seed": seed, "stop_at_target": not keep_going,
              "same_points_per_study": same_points_per_study, **gpu}
    _execute(root, plan, config, workers, device)


def _default_name() -> str:
    from optbench.run import default_experiment_name

    return default_experiment_name()


def _execute(root: Path, plan: list, config: dict, workers: int, device: str) -> None:
    from optbench.executors.local import LocalExecutor
    from optbench.run import run_experiment

    devices = _split(device) if device.startswith("cuda") and "," in device else None
    executor = LocalExecutor(workers=workers, devices=devices)
    console.print(f"[bold]optbench run[/] → {root}  ({len(plan)} trials, {executor.workers} worker(s))")

    def report(done) -> None:
        r = done.result
        reached = (f"target at step {r.steps_to_target}, {r.time_to_target:.2f} s"
                   if r.reached else (r.error or r.status))
        console.print(f"  {done.spec.folder}: [{_STATUS_STYLE.get(r.status, '')}]{r.status}[/] ({reached})")

    try:
        run_experiment(root, plan, executor, config, on_finished=report)
    except KeyboardInterrupt:
        err_console.print(f"interrupted: finished trials are kept in {root}")
        raise typer.Exit(130) from None
    _print_summary(root)


_STATUS_STYLE = {"reached": "green", "budget_exhausted": "yellow", "diverged": "red", "failed": "red",
                 "timeout": "red"}


def _fmt(value, digits: int = 3) -> str:
    if value is None or value != value:
        return "–"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def _print_summary(root: Path) -> None:
    from rich.table import Table

    from optbench import store

    frame = store.load_trials(root)
    if frame.empty:
        console.print("no finished trials")
        return
    table = Table(title=f"What each trial reached — {root}")
    for column in ("workload", "submission", "study", "trial", "status", "target", "steps to target",
                   "time to target (s)", "best", "steps", "submission time (s)"):
        table.add_column(column, justify="right" if column not in ("workload", "submission", "status") else "left")
    frame = frame.sort_values(["workload", "submission", "study", "trial"])
    for row in frame.itertuples():
        op = "≤" if row.target_mode == "min" else "≥"
        table.add_row(row.workload, row.submission, str(row.study), str(row.trial),
                      f"[{_STATUS_STYLE.get(row.status, '')}]{row.status}[/]",
                      f"{row.target_metric} {op} {row.target_value:g}",
                      _fmt(row.steps_to_target if row.steps_to_target == row.steps_to_target else None),
                      _fmt(row.time_to_target), _fmt(row.best_metric, 4), str(row.steps),
                      _fmt(row.submission_time))
    console.print(table)


@list_app.command("workloads")
def list_workloads(workloads_dir: List[Path] = typer.Option([], help="More folders of workload YAML.")) -> None:
    """Every workload optbench can find, with its target and budget."""
    from rich.table import Table

    from optbench.workloads import discover, load_workload_file

    table = Table(title="Workloads")
    for column in ("name", "suite", "target", "budget (s)", "step hint", "batch", "description"):
        table.add_column(column)
    for name, path in sorted(discover(workloads_dir).items()):
        w = load_workload_file(path)
        op = "≤" if w.target.mode == "min" else "≥"
        table.add_row(name, w.suite, f"{w.target.metric} {op} {w.target.value:g}", f"{w.budget.seconds:g}",
                      str(w.budget.step_hint), str(w.batch_size), w.description.split(".")[0][:60])
    console.print(table)


@list_app.command("suites")
def list_suites(workloads_dir: List[Path] = typer.Option([], help="More folders of workload YAML.")) -> None:
    """Named suites and their workloads."""
    from optbench.workloads import suites

    for suite_name, names in sorted(suites(workloads_dir).items()):
        console.print(f"[bold]{suite_name}[/]: {', '.join(names)}")


@list_app.command("submissions")
def list_submissions(submissions_dir: List[Path] = typer.Option([], help="More folders of submissions.")) -> None:
    """Every submission optbench can find, its form and search space."""
    from rich.table import Table

    from optbench import submissions as subs

    table = Table(title="Submissions")
    for column in ("name", "form", "search space", "code hash", "folder"):
        table.add_column(column)
    for name, folder in sorted(subs.discover(submissions_dir).items()):
        sub = subs.read_submission(folder)
        space = sub.search_space_path.name if sub.search_space_path else "–"
        form = "yaml" if sub.form == "yaml" else "python"
        table.add_row(name, form, space, sub.code_hash, str(folder))
    console.print(table)


@app.command()
def validate(
    path: Path = typer.Argument(..., help="A workload YAML file or a submission folder."),
    steps: int = typer.Option(5, min=1, help="Steps to run as a smoke test."),
    workload: str = typer.Option("digits_mlp", help="Workload used to smoke-test a submission."),
    submission: str = typer.Option("adamw", help="Submission used to smoke-test a workload."),
) -> None:
    """Check a workload YAML or a submission folder, then train it for a few steps."""
    import dataclasses

    from optbench import submissions as subs
    from optbench import tuning
    from optbench.spec import Budget, TrialSpec
    from optbench.trial import run_trial
    from optbench.workloads import find_workload, load_workload_file
    from optbench.workloads.loader import check_names_registered

    if path.is_dir():
        sub = subs.read_submission(path).load()
        if sub.search_space_path:
            space = tuning.load_search_space(sub.search_space_path)
            tuning.sample_points(space, 1, 0, source=str(sub.search_space_path))
        wl, sub_name, sub_path = find_workload(workload), sub.name, str(sub.path)
        console.print(f"submission {sub.name}: {sub.form} form, code hash {sub.code_hash}")
    else:
        wl = load_workload_file(path)
        check_names_registered(wl)
        found = subs.find_submission(submission)
        sub_name, sub_path = found.name, str(found.path)
        console.print(f"workload {wl.name}: version {wl.version}, hash {wl.hash}")
    wl = dataclasses.replace(wl, budget=Budget(wl.budget.seconds, wl.budget.step_hint, max_steps=steps))
    outcome = run_trial(TrialSpec(wl, sub_name, sub_path, {}, seed=0, stop_at_target=False))
    result = outcome.result
    if result.status == "failed":
        raise OptbenchError(f"{path}: failed while training: {result.error}")
    last = outcome.evals[-1] if outcome.evals else {}
    console.print(f"[green]ok[/]: {result.steps} steps ({result.status}), train/loss {last.get('train/loss', float('nan')):.4g}, "
                  f"{wl.target.metric} {last.get(wl.target.metric, float('nan')):.4g}")


@app.command("score")
def score(
    results: Path = typer.Argument(..., help="An experiment folder of ours, or (--format algoperf) AlgoPerf logs."),
    fmt: str = typer.Option("optbench", "--format", help="optbench: our results folder; algoperf: "
                               "AlgoPerf's <submission>/study_<j>/<workload>_<fw>/trial_<i>/ tree."),
    targets: Path | None = typer.Option(None, help="AlgoPerf's workload_targets_v05.json or _v06.json "
                                        "(--format algoperf)."),
    ruleset: str | None = typer.Option(None, help="external or self. Ours: read from trial.json (give it only "
                                       "when a folder holds both); AlgoPerf logs: default external."),
    clock: str = typer.Option("seconds", help="seconds: submission time to target; steps: steps to target."),
    tau_max: float = typer.Option(4.0, "--tau-max", help="Profiles on linspace(1, tau_max, 100); slower than "
                                  "tau_max x the best counts as not reached."),
    reference: str | None = typer.Option(None, help="Take ratios to this submission instead of the best."),
    out: Path | None = typer.Option(None, help="Where the CSVs and figures go (default: <results>/scores)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout instead of the table."),
    strict: bool = typer.Option(False, help="Make every warning (broken logs, wrong counts ...) an error."),
    bootstrap: int = typer.Option(0, min=0, help="Resample studies N times for intervals of scores and medians."),
    seed: int = typer.Option(0, help="Seed of --bootstrap."),
    studies: int | None = typer.Option(None, min=1, help="Studies expected per workload (default: the most "
                                       "common count)."),
    trials: int | None = typer.Option(None, min=1, help="Trials expected per study (default: the most common "
                                      "count; self-tuning: 1)."),
) -> None:
    """Score a results folder: time-to-target, performance profiles, scores (DESIGN.md §6)."""
    import json

    from optbench import scoring

    out_dir = out or results / "scores"
    board = scoring.score_folder(results, fmt, targets, ruleset, clock, tau_max, reference, bootstrap, seed,
                                 studies, trials, exclude=[out_dir])
    if strict and board.problems:
        raise OptbenchError(f"--strict: {len(board.problems)} problem(s); the first: {board.problems[0]}")
    for problem in board.problems[:20]:
        err_console.print(f"[yellow]warning:[/] {problem}", highlight=False, soft_wrap=True)
    if len(board.problems) > 20:
        err_console.print(f"... and {len(board.problems) - 20} more warnings: see {out_dir / 'warnings.txt'}")
    scoring.write_outputs(board, out_dir)
    if as_json:
        sys.stdout.write(json.dumps(scoring.summary_dict(board, out_dir), indent=2) + "\n")
    else:
        scoring.print_leaderboard(board, console)
        console.print(f"CSVs and performance_profile.png/.svg in {out_dir}")


@data_app.command("check")
def data_check(
    workload: str = typer.Argument(..., help="A workload name or YAML path."),
    data_dir: Path = typer.Option(..., help="The folder you would give `optbench run --data-dir`."),
    workloads_dir: List[Path] = typer.Option([], help="More folders of workload YAML."),
) -> None:
    """Check that DATA_DIR holds what WORKLOAD reads (files, formats, sizes, magic numbers); exit 2 if not."""
    from optbench.datacheck import check_workload_data

    if not check_workload_data(workload, data_dir, workloads_dir, console):
        raise typer.Exit(2)


@app.command("compare")
def compare(
    paths: List[Path] = typer.Argument(..., help="BASELINE CANDIDATE: results folders or baseline files "
                                       "(with --save-baseline: one results folder)."),
    save_baseline: Path | None = typer.Option(None, "--save-baseline", help="Write RESULTS' baseline file "
                                              "here (commit it; compare later runs with it) and stop."),
    clock: str = typer.Option("steps", help="steps: steps to target (deterministic with fixed seeds); "
                              "seconds: submission time to target."),
    tolerance: float = typer.Option(0.05, help="Slower by more than this fraction (and the interval "
                                    "excludes 1) is a regression."),
    bootstrap: int = typer.Option(1000, min=0, help="Resamples of studies for the ratio's 95% interval."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
    ruleset: str | None = typer.Option(None, help="external or self, when a results folder holds both."),
    markdown: Path | None = typer.Option(None, "--markdown", help="Write the table as markdown here "
                                         "(it is also appended to $GITHUB_STEP_SUMMARY when set)."),
    json_file: Path | None = typer.Option(None, "--json", help="Write the comparison as JSON here."),
) -> None:
    """Compare a candidate with a baseline per workload x submission; exit 1 on a regression."""
    from optbench.report import compare as cmp

    if save_baseline is not None:
        if len(paths) != 1:
            raise OptbenchError("--save-baseline FILE takes one results folder: optbench compare "
                                "--save-baseline FILE RESULTS")
        side = cmp.save_baseline(paths[0], save_baseline, ruleset)
        console.print(f"baseline of {side.path} ({len(side.studies)} studies) written to {save_baseline}")
        return
    if len(paths) != 2:
        raise OptbenchError("optbench compare takes BASELINE CANDIDATE (or --save-baseline FILE RESULTS)")
    result = cmp.compare_paths(paths[0], paths[1], ruleset, clock=clock, tolerance=tolerance,
                               bootstrap=bootstrap, seed=seed)
    cmp.print_comparison(result, console)
    cmp.write_outputs(result, markdown, json_file)
    raise typer.Exit(result.exit_code)


@app.command("report")
def report(
    results: Path = typer.Argument(..., help="An experiment folder (results/<experiment>)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="The HTML file (default: <results>/report.html)."),
    clock: str = typer.Option("seconds", help="Leaderboard by seconds or steps to target."),
) -> None:
    """One self-contained HTML page: leaderboard, profiles, curves, every trial, provenance."""
    from optbench.report.html import write_report

    path, data = write_report(results, out, clock)
    for line in data.missing:
        err_console.print(f"[yellow]missing:[/] {line}", highlight=False, markup=False, soft_wrap=True)
    console.print(f"report written to {path}")


@app.command("plot")
def plot(
    results: Path = typer.Argument(..., help="An experiment folder (results/<experiment>)."),
    out: Path | None = typer.Option(None, "--out", help="Folder for the figures (default: <results>/plots)."),
    clock: str = typer.Option("seconds", help="Profiles by seconds or steps to target."),
) -> None:
    """The report's figures as PNG and SVG files (performance profile; metric vs time and steps)."""
    from optbench.report.collect import collect
    from optbench.report.figures import write_plots

    if clock not in ("seconds", "steps"):
        raise OptbenchError(f"--clock {clock}: expected seconds or steps")
    data = collect(results, clock)
    for line in data.missing:
        err_console.print(f"missing: {line}", highlight=False, markup=False, soft_wrap=True)
    paths = write_plots(data, out or results / "plots")
    console.print(f"{len(paths)} files written to {out or results / 'plots'}")


def main() -> None:
    """Console-script entry point: one line and exit code 2 for bad input, never a traceback."""
    try:
        app()
    except OptbenchError as exc:
        err_console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
