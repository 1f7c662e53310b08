"""The ``optbench`` command line (typer). Thin: it parses, calls the modules, prints with rich.

Each command is its options and one call into the module that does the work (``run``:
:mod:`optbench.report.run`; ``score``, ``compare``, ``report``, ``plot``:
:mod:`optbench.report.commands`; the tools: their ``tools/`` module). Its length is the
options' help text, which is the command line's documentation, so it stays here.

Heavy imports (torch, pandas, matplotlib) happen inside the commands that need
them, so ``optbench --help`` and ``import optbench`` stay fast (docs/design.md §7).
Every :class:`~optbench.errors.OptbenchError` is printed as one line and exits 2.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import List

import typer
from rich.console import Console

from optbench import __version__
from optbench.errors import OptbenchError, one_line
from optbench.tools.validate import DEFAULT_TIMEOUT as VALIDATE_TIMEOUT

# The workers' forkserver preloads this module (optbench.executors.local.PRELOAD), so under `python -m optbench.cli`
# each trial's process would warn that runpy finds the main module already imported: expected, and harmless.
warnings.filterwarnings("ignore", message="'optbench.cli' found in sys.modules", category=RuntimeWarning)

app = typer.Typer(
    name="optbench",
    help="Benchmark neural-network training algorithms the AlgoPerf way: time-to-target, "
    "performance profiles, scores.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # click's help layout: whole at 80 columns, and no markup to eat 'optbench[ray]'
)
list_app = typer.Typer(help="List workloads, suites or submissions.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(list_app, name="list")
data_app = typer.Typer(help="Check the data folders that real-data workloads read (never downloads).",
                       no_args_is_help=True, rich_markup_mode=None)
app.add_typer(data_app, name="data", short_help="Check the data folders that real-data workloads read.")
console = Console()
err_console = Console(stderr=True)


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


@app.command(short_help="Run submissions on workloads; record every eval.")
def run(
    typer_ctx: typer.Context,
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
    same_points_per_study: bool = typer.Option(False, "--same-points-per-study", help="Give every study the same search points in a new "
                                               "order, as AlgoPerf's harness does."),
    device: str = typer.Option("cpu", help="cpu, cuda, cuda:1, mps ...; cuda:0,cuda:1 runs one worker per GPU."),
    workers: int = typer.Option(1, min=1, help="Trials run at once (CPU threads are split between them)."),
    threads: int | None = typer.Option(None, min=1, help="torch threads per trial (default on a CPU: 1, as the "
                                       "budgets were calibrated; on a GPU: cores / workers). Thread counts change "
                                       "float summation order, hence results in the last bits."),
    checkpoint: bool = typer.Option(False, "--checkpoint", help="Save a checkpoint at each eval, so that a killed trial goes on "
                                    "from its last eval on --resume (or on its retry)."),
    resume: Path | None = typer.Option(None, help="Continue the experiment in this folder: run only the trials "
                                       "not complete, with the plan recorded in its experiment.json."),
    force: bool = typer.Option(False, "--force", help="With --resume: go on even if workloads, submissions' code or the "
                               "plan changed since the experiment began."),
    results: Path = typer.Option(Path("results"), help="Folder that holds experiment folders."),
    name: str | None = typer.Option(None, help="Experiment folder name (default: the date and time)."),
    seed: int = typer.Option(0, help="Base seed; trial seeds derive from it."),
    clock: str | None = typer.Option(None, help="What budgets count: wall (AlgoPerf's wall seconds), cpu (the "
                                     "trial's CPU seconds: steady on a busy machine) or steps (reproducible, for "
                                     "CI). Default: the suite's, else cpu on a CPU and wall on a GPU."),
    keep_going: bool = typer.Option(False, "--keep-going", help="Do not stop a trial at its target; run its whole budget."),
    workloads_dir: List[Path] = typer.Option([], metavar="<dir>", help="More folders of workload YAML (repeatable)."),
    submissions_dir: List[Path] = typer.Option([], metavar="<dir>", help="More folders of submissions (repeatable)."),
    data_dir: Path | None = typer.Option(None, help="Where workloads that read real data find it."),
    compile_model: bool = typer.Option(False, "--compile", help="torch.compile the training forward; compile "
                                       "and warm-up time is reported as compile_time, never submission time."),
    amp: str | None = typer.Option(None, help="bf16: autocast the training forward and loss to bfloat16."),
    tf32: bool = typer.Option(False, "--tf32", help="CUDA: TF32 matmuls and convolutions."),
    cudnn_benchmark: bool = typer.Option(False, "--cudnn-benchmark", help="CUDA: let cuDNN autotune kernels."),
    executor: str = typer.Option("local", help="local: worker processes on this machine; ray: one Ray task per "
                                 "trial (pip install 'optbench[ray]'; see docs/cluster.md)."),
    ray_address: str | None = typer.Option(None, help="--executor ray: a running cluster (auto, "
                                           "ray://head:10001); default: start a Ray on this machine."),
    cpus_per_trial: float = typer.Option(1.0, help="--executor ray: CPUs each trial reserves (its torch "
                                         "threads, unless --threads)."),
    gpus_per_trial: float = typer.Option(0.0, help="--executor ray: GPUs each trial reserves (with --device cuda)."),
    nproc_per_trial: int = typer.Option(1, min=1, help="Processes per trial: N > 1 runs each trial data-parallel "
                                        "(DDP: gloo on CPU, NCCL on CUDA; the batch size must divide by N)."),
    scales: str | None = typer.Option(None, help="all: run every rung of the workloads' scale ladders (YAML "
                                      "scales:) as workloads of their own; or comma-separated values of the axis."),
    save_weights: bool = typer.Option(False, "--save-weights", help="Keep each trial's initial and final weights "
                                      "in its folder (weights_init.pt, weights_final.pt) for `optbench landscape`."),
) -> None:
    """Run submissions on workloads and record every eval in a results folder.

    Exit codes: 0 when every trial ended reached, budget_exhausted or diverged; 1 when a trial failed or
    timed out (the last line counts them and quotes the first error); 2 for bad input, before any trial
    (one line); 130 when interrupted (finished trials are kept: continue with --resume).
    """
    from optbench.report.run import run as run_experiment

    given = {p.name: p.opts[0] for p in typer_ctx.command.params if _given(typer_ctx, p.name)}
    raise typer.Exit(run_experiment(
        console, err_console, given=given, workloads=workloads, suite=suite, submissions=submissions,
        hparams=hparams, resume=resume, force=force, results=results, name=name, workloads_dir=workloads_dir,
        submissions_dir=submissions_dir, scales=scales, data_dir=data_dir, keep_going=keep_going,
        compile_model=compile_model, ruleset=ruleset, preset=preset, studies=studies, trials=trials, device=device,
        seed=seed, clock=clock, same_points_per_study=same_points_per_study, amp=amp, tf32=tf32,
        cudnn_benchmark=cudnn_benchmark, nproc_per_trial=nproc_per_trial, save_weights=save_weights,
        execution={"workers": workers, "threads": threads, "checkpoint": checkpoint, "executor": executor,
                   "ray_address": ray_address, "cpus_per_trial": cpus_per_trial, "gpus_per_trial": gpus_per_trial}))


def _given(typer_ctx: typer.Context, option: str) -> bool:
    source = typer_ctx.get_parameter_source(option)  # click's ParameterSource (typer may vendor click)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


@list_app.command("workloads", short_help="Every workload, by suite: target, budget, summary.")
def list_workloads(workloads_dir: List[Path] = typer.Option([], metavar="<dir>", help="More folders of workload YAML.")) -> None:
    """Every workload optbench can find, by suite: target, budget (steps and seconds), summary."""
    from optbench.report.workloads import print_workload_list

    print_workload_list(workloads_dir, console)


@app.command("show", short_help="One workload whole: description, budgets, calibration.")
def show(
    workload: str = typer.Argument(..., help="A workload name or YAML path."),
    workloads_dir: List[Path] = typer.Option([], metavar="<dir>", help="More folders of workload YAML."),
) -> None:
    """One workload whole: description, target, budgets, eval, parts, calibration notes."""
    from optbench.report.workloads import print_workload
    from optbench.workloads import find_workload

    print_workload(find_workload(workload, workloads_dir), console)


@list_app.command("suites")
def list_suites(workloads_dir: List[Path] = typer.Option([], metavar="<dir>", help="More folders of workload YAML.")) -> None:
    """Named suites and their workloads."""
    from optbench.report.workloads import print_suite_list

    print_suite_list(workloads_dir, console)


@list_app.command("submissions", short_help="Every submission: its form and search space.")
def list_submissions(submissions_dir: List[Path] = typer.Option([], metavar="<dir>", help="More folders of submissions.")) -> None:
    """Every submission optbench can find, its form and search space."""
    from optbench.report.submissions import print_submission_list

    print_submission_list(submissions_dir, console)


@app.command(short_help="Check a workload or submission; train it a few steps.")
def validate(
    path: Path = typer.Argument(..., help="A workload YAML file or a submission folder."),
    steps: int = typer.Option(10, min=1, help="Steps to run as a smoke test, whatever they take (enough to get "
                              "past an optimizer's compilation on its first steps, which is timed and reported)."),
    workload: str = typer.Option("digits_mlp", help="Workload used to smoke-test a submission."),
    submission: str = typer.Option("adamw", help="Submission used to smoke-test a workload."),
    timeout: float = typer.Option(VALIDATE_TIMEOUT, help="Seconds the smoke test may take (worker start-up "
                                   "included: a minute on a busy 2-core machine) before it counts as hung."),
) -> None:
    """Check a workload YAML or a submission folder, then train it for a few steps (in a worker process,
    as `run` does: its crash or hang is one line, exit 2)."""
    from optbench.tools.validate import validate as validate_path

    validate_path(path, console, steps=steps, workload=workload, submission=submission, timeout=timeout)


@app.command("score", short_help="Time-to-target, performance profiles, scores.")
def score(
    results: Path = typer.Argument(..., help="An experiment folder of ours, or (--format algoperf) AlgoPerf logs."),
    fmt: str = typer.Option("optbench", "--format", help="optbench: our results folder; algoperf: "
                               "AlgoPerf's <submission>/study_<j>/<workload>_<fw>/trial_<i>/ tree."),
    targets: Path | None = typer.Option(None, help="AlgoPerf's workload_targets_v05.json or _v06.json "
                                        "(--format algoperf)."),
    ruleset: str | None = typer.Option(None, help="external or self. Ours: read from trial.json (give it only "
                                       "when a folder holds both); AlgoPerf logs: default external."),
    clock: str | None = typer.Option(None, help="wall or cpu seconds, or steps, to target (default: the clock the run counted; "
                                     "seconds: the run's own seconds)."),
    tau_max: float = typer.Option(4.0, "--tau-max", help="Profiles on linspace(1, tau_max, 100); slower than "
                                  "tau_max x the best counts as not reached."),
    reference: str | None = typer.Option(None, help="Take ratios to this submission instead of the best."),
    out: Path | None = typer.Option(None, help="Where the CSVs and figures go (default: <results>/scores)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout instead of the table."),
    strict: bool = typer.Option(False, "--strict", help="Make every warning (broken logs, wrong counts ...) an error."),
    bootstrap: int = typer.Option(0, min=0, help="Resample studies N times for intervals of scores and medians."),
    seed: int = typer.Option(0, help="Seed of --bootstrap."),
    studies: int | None = typer.Option(None, min=1, help="Studies expected per workload (default: the most "
                                       "common count)."),
    trials: int | None = typer.Option(None, min=1, help="Trials expected per study (default: the most common "
                                      "count; self-tuning: 1)."),
    both_clocks: bool = typer.Option(True, "--both-clocks/--one-clock", help="Also score on the other clock "
                                     "(steps <-> seconds) and print the rank changes."),
    stats: bool = typer.Option(False, "--stats", help="Paired tests of time to target per workload and pair, "
                               "and the speedrun check (pairwise_tests.csv, speedrun_checks.csv)."),
    tuning_curve: bool = typer.Option(False, "--tuning-curve", help="Also the score and time to target with "
                                      "k = 1..N trials per study (tuning_curve.csv/.png)."),
) -> None:
    """Score a results folder: time-to-target, performance profiles, scores (docs/design.md §6)."""
    from optbench.report import commands

    commands.score(results, console, err_console, fmt=fmt, targets=targets, ruleset=ruleset, clock=clock,
                   tau_max=tau_max, reference=reference, out=out, as_json=as_json, strict=strict,
                   bootstrap=bootstrap, seed=seed, studies=studies, trials=trials, tuning_curve=tuning_curve,
                   both_clocks=both_clocks, stats=stats)


@app.command("sweep", short_help="Run a log grid over two hyperparameters; map steps to target.")
def sweep(
    submission: str = typer.Argument("", help="A submission name or folder (with --plot: a sweep's results folder)."),
    workload: str = typer.Option("", help="One workload name or YAML path."),
    grid: str = typer.Option("", help="Two log grids over declared hyperparameters: name=low:high:count,... "
                             "e.g. learning_rate=1e-4:1e-1:7,weight_decay=1e-5:1e-1:5."),
    studies: int = typer.Option(1, min=1, help="Repetitions of the whole grid (seeds)."),
    plot: bool = typer.Option(False, "--plot", help="Only draw the map of the sweep in SUBMISSION (a results "
                              "folder, e.g. after `optbench run --resume`)."),
    device: str = typer.Option("cpu", help="cpu, cuda ..."),
    workers: int = typer.Option(1, min=1, help="Trials run at once."),
    clock: str | None = typer.Option(None, help="What budgets count: wall, cpu or steps."),
    seed: int = typer.Option(0, help="Base seed."),
    results: Path = typer.Option(Path("results"), help="Folder that holds experiment folders."),
    name: str | None = typer.Option(None, help="Experiment folder name (default: the date and time)."),
    workloads_dir: List[Path] = typer.Option([], help="More folders of workload YAML."),
    submissions_dir: List[Path] = typer.Option([], help="More folders of submissions."),
) -> None:
    """Run a two-hyperparameter log grid as an experiment; draw steps to target over it (sweep/heatmap.png)."""
    from optbench.tools.sweep import sweep_command

    raise typer.Exit(sweep_command(console, err_console, submission, workload, grid, plot=plot, results=results,
                                   name=name, studies=studies, seed=seed, device=device, clock=clock,
                                   workers=workers, workloads_dir=workloads_dir, submissions_dir=submissions_dir))


@data_app.command("check", short_help="Check that a data folder holds what a workload reads.")
def data_check(
    workload: str = typer.Argument(..., help="A workload name or YAML path."),
    data_dir: Path = typer.Option(..., help="The folder you would give `optbench run --data-dir`."),
    workloads_dir: List[Path] = typer.Option([], metavar="<dir>", help="More folders of workload YAML."),
) -> None:
    """Check that DATA_DIR holds what WORKLOAD reads (files, formats, sizes, magic numbers); exit 2 if not."""
    from optbench.tools.datacheck import check_workload_data

    if not check_workload_data(workload, data_dir, workloads_dir, console):
        raise typer.Exit(2)


@app.command("compare", short_help="Candidate against baseline; exit 1 on a regression.")
def compare(
    paths: List[Path] = typer.Argument(..., help="BASELINE CANDIDATE: results folders or baseline files "
                                       "(with --save-baseline: one results folder)."),
    save_baseline: Path | None = typer.Option(None, "--save-baseline", help="Write RESULTS' baseline file "
                                              "here (commit it; compare later runs with it) and stop."),
    clock: str = typer.Option("steps", help="steps: steps to target (bit-for-bit reproducible with fixed seeds); "
                              "seconds: each side's own seconds (both must have counted the same clock)."),
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
    from optbench.report import commands

    raise typer.Exit(commands.compare(paths, console, save_baseline=save_baseline, ruleset=ruleset, clock=clock,
                                      tolerance=tolerance, bootstrap=bootstrap, seed=seed, markdown=markdown,
                                      json_file=json_file))


@app.command("report", short_help="One self-contained HTML page of a results folder.")
def report(
    results: Path = typer.Argument(..., help="An experiment folder (results/<experiment>)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="The HTML file (default: <results>/report.html)."),
    clock: str | None = typer.Option(None, help="wall or cpu seconds, or steps, to target (default: the clock the run counted; "
                                     "seconds: the run's own seconds)."),
) -> None:
    """One self-contained HTML page: leaderboard, profiles, curves, every trial, provenance."""
    from optbench.report import commands

    commands.report(results, console, err_console, out=out, clock=clock)


@app.command("plot", short_help="The report's figures as PNG and SVG files.")
def plot(
    results: Path = typer.Argument(..., help="An experiment folder (results/<experiment>)."),
    out: Path | None = typer.Option(None, "--out", help="Folder for the figures (default: <results>/plots)."),
    clock: str | None = typer.Option(None, help="wall or cpu seconds, or steps, to target (default: the clock the run counted; "
                                     "seconds: the run's own seconds)."),
    groups: bool = typer.Option(False, "--groups", help="Instead: the training loss per class-frequency group "
                                "(workloads with metrics: [group_loss]), one panel per submission."),
) -> None:
    """The report's figures as PNG and SVG files (performance profile; metric vs time and steps)."""
    from optbench.report import commands

    commands.plot(results, console, err_console, out=out, clock=clock, groups=groups)


@app.command("landscape", short_help="Loss landscape around a trained trial; sharpness.")
def landscape_cmd(
    trials: List[Path] = typer.Argument(..., help="One or two trial folders (results/<exp>/<sub>/study_j/<wl>/"
                                        "trial_i) of a run with --save-weights; two are drawn side by side."),
    out: Path | None = typer.Option(None, help="Folder for landscape.json/.png/.svg (default: <first trial>/landscape)."),
    points: int = typer.Option(31, min=3, help="Points of the random 1-D slice."),
    grid: int = typer.Option(15, min=3, help="The plane's grid is GRID x GRID."),
    span: float = typer.Option(1.0, min=0.0, help="Random slices cover [-SPAN, SPAN] filter norms."),
    rho: float = typer.Option(0.05, min=0.0, help="Radius of the sharpness perturbation, in filter norms."),
    max_examples: int = typer.Option(2048, min=1, help="Examples per split the losses are measured on."),
    seed: int = typer.Option(0, help="Seed of the random directions."),
) -> None:
    """Loss along init->final, a random direction and a plane (filter-normalised); sharpness."""
    from optbench.tools.landscape.command import Settings, landscape

    landscape(trials, out, Settings(points=points, grid=grid, span=span, rho=rho, max_examples=max_examples,
                                    seed=seed), console)


@app.command("scaling", short_help="Speed-up over a reference against model size.")
def scaling_cmd(
    results: Path = typer.Argument(..., help="An experiment folder of a run with --scales."),
    reference: str = typer.Option("adamw", help="Speed-ups are this submission's time / each submission's."),
    out: Path | None = typer.Option(None, help="Folder for scaling.csv and scaling_<ladder>.png/.svg "
                                    "(default: <results>/plots)."),
) -> None:
    """Speed-up over a reference (steps and time to target) against parameter count, per scale ladder."""
    from optbench.report.scaling import scaling

    scaling(results, reference, out, console)


@app.command("calibrate", short_help="Set a workload's target and budgets from baselines.")
def calibrate_cmd(
    workload: str | None = typer.Argument(None, help="A workload name or YAML path (not with --defaults)."),
    defaults: str | None = typer.Option(None, help="Instead: choose this submission's self-tuning defaults "
                                        "across --suite."),
    suite: str = typer.Option("mini", help="--defaults: the suite whose targets the defaults must reach."),
    submissions: str = typer.Option("nadamw,adamw", help="Reference submissions whose tuned trials set the target."),
    trials: int = typer.Option(20, min=1, help="Quasi-random search points per reference submission."),
    points: int = typer.Option(12, min=1, help="--defaults: search points tried besides the current defaults."),
    seeds: int = typer.Option(2, min=0, help="Re-runs of the best configuration on new seeds."),
    finalists: int = typer.Option(3, min=1, help="--defaults: the best points of the search (and the current "
                                  "defaults) that re-run on the new seeds; the one reaching most targets on its "
                                  "worst seed wins."),
    horizon: int | None = typer.Option(None, min=1, help="Steps per search trial: the proposed step budget and "
                                       "step_hint (default: the workload's step_hint)."),
    quantile: float = typer.Option(0.4, help="The target is what this fraction of each reference submission's "
                                   "trials reaches within the horizon."),
    headroom: float = typer.Option(1.5, help="Seconds budget = this x the horizon x the CPU seconds per step."),
    multiplier: float = typer.Option(1.5, help="--defaults: the self-tuning budget multiplier."),
    seconds_only: bool = typer.Option(False, "--seconds-only", help="Keep target and step budget; re-measure "
                                      "only the seconds budget (each reference submission's defaults, one trial "
                                      "at a time: run it on a quiet machine)."),
    steps: int = typer.Option(300, min=10, help="--seconds-only: steps per timed run."),
    rounds: int = typer.Option(3, min=1, help="--seconds-only: timed runs per reference submission."),
    target: float | None = typer.Option(None, help="Fix the target instead of taking it from the search."),
    workers: int = typer.Option(1, min=1, help="Trials run at once."),
    threads: int = typer.Option(1, min=1, help="torch threads per trial (1, as optbench run uses on a CPU)."),
    seed: int = typer.Option(0, help="Base seed of the search points and trial seeds."),
    write: bool = typer.Option(False, "--write", help="Write target, budgets and notes into the workload YAML."),
    out: Path | None = typer.Option(None, help="Save every calibration run and the proposal as JSON here."),
    workloads_dir: List[Path] = typer.Option([], metavar="<dir>", help="More folders of workload YAML (repeatable)."),
    submissions_dir: List[Path] = typer.Option([], metavar="<dir>", help="More folders of submissions (repeatable)."),
) -> None:
    """Set a workload's target and budgets from tuned baselines, with AlgoPerf's headroom; or (--defaults)
    a submission's self-tuning defaults across a suite. The rules: optbench/tools/calibrate/."""
    from optbench.report.run import split_names
    from optbench.tools.calibrate.command import CalibrateOptions, calibrate_command

    calibrate_command(CalibrateOptions(
        workload, defaults, suite, tuple(split_names(submissions)), trials, points, seeds, horizon, quantile, headroom,
        multiplier, seconds_only, steps, rounds, target, workers, threads, seed, write, out, tuple(workloads_dir),
        tuple(submissions_dir), finalists=finalists), console)


@app.command("theory", short_help="Plain SGD beside the SGD lecture's bounds.")
def theory_cmd(
    workload: str = typer.Argument(..., help="A convex workload whose dataset records L, mu, sigma2, f*: "
                                   "logreg or lls."),
    out: Path = typer.Option(Path("results/theory"), help="Folder for theory_<workload>.png/.svg/.csv."),
    steps: int = typer.Option(20000, min=1, help="SGD steps per run."),
    batch_size: int | None = typer.Option(None, min=1, help="Examples per step (default: the workload's)."),
    alpha: float | None = typer.Option(None, help="Constant step (default 1/(2 L_B), L_B the mini-batch's "
                                       "expected smoothness)."),
    runs: int = typer.Option(3, min=1, help="Independent runs averaged into E[f(x_k)] - f*."),
    seed: int = typer.Option(0, help="Seed of the first run."),
    cap: bool = typer.Option(True, help="Cap the decreasing step at the constant alpha (--no-cap: the literal "
                             "rule, which starts at 1/(2 mu) and diverges on lls)."),
    workloads_dir: List[Path] = typer.Option([], metavar="<dir>", help="More folders of workload YAML (repeatable)."),
) -> None:
    """Plain SGD beside the SGD lecture's bounds (constant and decreasing step), log scale, PNG + SVG."""
    from optbench.tools.theory import theory_command

    theory_command(workload, workloads_dir, out, console, steps=steps, batch=batch_size, alpha=alpha, runs=runs,
                   seed=seed, cap=cap)


def error_line(exc: OptbenchError) -> str:
    """The one line printed for bad input (folded and capped: optbench.errors.one_line)."""
    return one_line(f"error: {exc}")


def main() -> None:
    """Console-script entry point: one line and exit code 2 for bad input, never a traceback."""
    try:
        app()
    except OptbenchError as exc:
        # messages hold brackets ("pip install 'optbench[ray]'", lists of keys): printed as text, never markup
        err_console.print(error_line(exc), style="red", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
