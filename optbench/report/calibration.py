"""What ``optbench calibrate`` prints: each calibration trial as it finishes, then the proposal."""

from __future__ import annotations

from typing import Any

from rich.markup import escape


def _hparams(hparams: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in hparams.items())


def run_line(phase: str, run: Any) -> str:
    """One finished calibration trial, in a line."""
    best = "–" if run.best is None else f"{run.best:.5g}"
    where = f" {run.workload}" if run.workload else ""
    trouble = f", {run.status}" if run.status in ("diverged", "failed", "timeout") else ""
    hit = f", target at step {run.steps_to_target}" if run.steps_to_target is not None else ""
    return (f"  {phase} {run.submission}{where}: best {best} ({run.steps} steps, {run.cpu_seconds:.1f} CPU s"
            f"{hit}{trouble}) {_hparams(run.hparams)}")


def print_target_proposal(proposal: Any, current: Any, console: Any) -> None:
    """The proposed target and budgets beside the workload's current ones (``current``: its spec)."""
    t, op = proposal.target, "<=" if proposal.target.mode == "min" else ">="
    say = lambda text: console.print(text, highlight=False, soft_wrap=True)  # noqa: E731
    say(f"[bold]best[/]: {escape(proposal.best.submission)} {escape(_hparams(proposal.best.hparams))}")
    quantiles = ", ".join(f"{k} {v:.4g}" if v is not None else f"{k} –" for k, v in proposal.quantile_values.items())
    say(f"  values {proposal.quantile:.0%} of the trials reach: {escape(quantiles)}")
    reach = ", ".join(f"{k} {v:.0%} (5-trial study {1 - (1 - v) ** 5:.0%})" for k, v in proposal.reach.items())
    say(f"  trials reaching the target within {proposal.horizon} steps: {escape(reach)}")
    say(f"  the best configuration's re-runs reach it at steps {proposal.seed_steps}")
    per_step = ", ".join(f"{k} {v * 1000:.2f} ms" for k, v in proposal.cpu_per_step.items())
    say(f"  CPU per step: {escape(per_step)}")
    say(f"[bold green]proposal[/]: target {escape(t.metric)} {op} {t.value:g} (now {current.target.value:g}); "
        f"budget {proposal.horizon} steps (now {current.budget.step_budget}), {proposal.budget_seconds:g} s "
        f"(now {current.budget.seconds:g})")
    say(f"  rule: {escape(proposal.rule)}")


def print_defaults_proposal(proposal: Any, console: Any) -> None:
    """The points tried for self-tuning defaults, best first, then the chosen one and its seeds."""
    say = lambda text: console.print(text, highlight=False, soft_wrap=True)  # noqa: E731
    n = len(proposal.workloads)
    for i, point in sorted(enumerate(proposal.points), key=lambda ip: (-ip[1].score, -ip[1].reached))[:8]:
        label = "current defaults" if i == 0 else f"point {i}"
        say(f"  {label}: score {point.score:.3f}, {point.reached}/{n} targets: {escape(_hparams(point.hparams))}")
    for f in proposal.finalists:
        label = "current defaults" if f["point"] == 0 else f"point {f['point']}"
        per_seed = ", ".join(f"{k}/{n}" for k in f["reached_per_seed"])
        say(f"  finalist {label}: targets per seed {per_seed}, mean score {f['mean_score_over_seeds']:.3f}")
    seeds = ", ".join(f"{sum(r.status == 'reached' for r in runs)}/{n}" for runs in proposal.seed_runs)
    say(f"[bold green]defaults[/] for {escape(proposal.submission)}: {escape(repr(proposal.best.hparams))}")
    say(f"  reached {proposal.best.reached}/{n} targets; on new seeds: {seeds or '–'}")
