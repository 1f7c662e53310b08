"""``optbench report RESULTS -o report.html``: one self-contained HTML page to send to a colleague.

Sections: what is missing (when anything is), the leaderboard and the performance
profile, the analyses (tuning-cost curves, both clocks, significance: :mod:`optbench.report.analysis_html`), per workload the target metric against submission time and against steps,
every trial (hyperparameters, status, time and steps to target, error), and provenance
from experiment.json (versions, device, CPU/GPU, git state, workload hashes, the exact
command). Figures are inlined as base64 SVG; the page has no script and fetches nothing,
so it opens from an e-mail attachment. The template is Jinja2 with autoescaping on:
every name, hyperparameter, error message and command is escaped.
"""

from __future__ import annotations

import json
import math
import os
import shlex
from pathlib import Path
from typing import Any

from optbench import __version__
from optbench.errors import OptbenchError
from optbench.report.collect import ReportData, collect
from optbench.report.format import EM_DASH, duration, finite, number
from optbench.report.lab import lab_items
from optbench.scoring.rules import CLOCK_UNITS

#: The page's Jinja2 template, a file of the package (see pyproject.toml's package-data).
TEMPLATE = "report.html.j2"


def _hparam(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def _board(data: ReportData) -> dict[str, Any] | None:
    board = data.board
    if board is None:
        return None
    lb = board.leaderboard
    rows = []
    for sub, row in lb.iterrows():
        cells = []
        for w in board.workloads:
            time, ratio = board.medians.loc[sub, w], board.result.ratios.loc[sub, w]
            if not math.isfinite(time):
                cells.append({"time": EM_DASH, "ratio": ""})
            else:
                cells.append({"time": duration(time, board.clock),
                              "ratio": f"×{ratio:.2f}" if math.isfinite(ratio) else "cut"})
        rows.append({"rank": int(row["rank"]), "submission": str(sub), "score": f"{row['score']:.4f}",
                     "reached": f"{int(row['workloads_reached'])}/{int(row['workloads'])}", "cells": cells})
    return {"ruleset": board.ruleset, "tau_max": f"{board.tau_max:g}", "workloads": board.workloads, "rows": rows,
            "clock_text": CLOCK_UNITS.get(board.clock, str(board.clock)),
            "none_reached": not int(lb["workloads_reached"].sum())}


def _trial_rows(data: ReportData) -> list[dict[str, Any]]:
    rows = []
    for t in data.trials.to_dict("records"):
        hparams = t.get("hparams")
        hp = sorted((str(k), _hparam(v)) for k, v in hparams.items()) if isinstance(hparams, dict) else []
        status = str(t.get("status") or "?")
        error = t.get("error") if isinstance(t.get("error"), str) else ""
        traceback = t.get("traceback") if isinstance(t.get("traceback"), str) else ""
        rows.append({
            "workload": t.get("workload"), "submission": t.get("submission"), "study": t.get("study"),
            "trial": t.get("trial"), "chosen": bool(t.get("chosen")), "status": status,
            "status_class": status if status.replace("_", "").isalnum() else "unknown",
            "hparams": hp, "seed": t.get("seed", EM_DASH), "steps": duration(t.get("steps"), "steps"),
            "submission_time": duration(t.get("submission_time"), "seconds"),
            "time_to_target": duration(t.get("time_to_target"), "seconds"),
            "steps_to_target": duration(t.get("steps_to_target"), "steps"),
            "best_metric": number(t.get("best_metric"), 4, missing=EM_DASH),
            "reached": finite(t.get("steps_to_target")) is not None or finite(t.get("time_to_target")) is not None,
            "error": error, "traceback": traceback,
        })
    return rows


def _unique(data: ReportData, column: str) -> str:
    if data.trials.empty or column not in data.trials:
        return "unknown"
    values = sorted({str(v) for v in data.trials[column].dropna()})
    return ", ".join(values) if values else "unknown"


def _provenance(data: ReportData) -> tuple[list[tuple[str, str]], str, list[dict[str, str]], list[dict[str, str]], str]:
    exp = data.experiment or {}
    env = exp.get("environment") if isinstance(exp.get("environment"), dict) else {}
    git = exp.get("git") if isinstance(exp.get("git"), dict) else {}
    config = exp.get("config") if isinstance(exp.get("config"), dict) else {}

    def get(mapping: dict[str, Any], key: str) -> str:
        value = mapping.get(key)
        return "unknown" if value in (None, "") else str(value)

    gpus = env.get("gpus")
    if git.get("commit"):
        git_text = f"{git['commit']}" + (" (with uncommitted changes)" if git.get("dirty") else " (clean)")
    else:
        git_text = "unknown (not run from a git checkout)" if data.experiment else "unknown"
    items = [
        ("experiment", get(exp, "name") if exp else data.root.name),
        ("created", get(exp, "created")),
        ("optbench (run)", get(env, "optbench") if env else _unique(data, "optbench_version")),
        ("torch", get(env, "torch")),
        ("python", get(env, "python")),
        ("platform", get(env, "platform")),
        ("device", get(config, "device") if config else _unique(data, "device")),
        ("CPU", get(env, "cpu") + (f" ({env['cpu_count']} cores)" if env.get("cpu_count") else "")),
        ("GPUs", ", ".join(map(str, gpus)) if isinstance(gpus, list) and gpus else
         ("none (CUDA not available)" if env.get("cuda_available") is False else "unknown")),
        ("git", git_text),
        ("ruleset", get(config, "ruleset") if config else _unique(data, "ruleset")),
    ]
    command = exp.get("command")
    if isinstance(command, list):
        command = shlex.join(str(c) for c in command)
    elif command is not None:
        command = str(command)

    exp_workloads = exp.get("workloads") if isinstance(exp.get("workloads"), dict) else {}
    trial_hashes: dict[str, set[str]] = {}
    if not data.trials.empty and "workload_hash" in data.trials:
        for wl, h in zip(data.trials["workload"], data.trials["workload_hash"]):
            trial_hashes.setdefault(str(wl), set()).add(str(h))
    workload_rows = []
    for name in sorted(set(exp_workloads) | set(trial_hashes)):
        info = exp_workloads.get(name) if isinstance(exp_workloads.get(name), dict) else {}
        hashes = set(trial_hashes.get(name, set()))
        if info.get("hash"):
            hashes.add(str(info["hash"]))
        workload_rows.append({"name": name, "version": str(info.get("version", "—")),
                              "hash": ", ".join(sorted(hashes)) or "unknown", "path": str(info.get("path", "—"))})
    subs = exp.get("submissions") if isinstance(exp.get("submissions"), dict) else {}
    submission_rows = [{"name": str(n), "hash": str((v or {}).get("code_hash", "—")),
                        "path": str((v or {}).get("path", "—"))}
                       for n, v in sorted(subs.items()) if isinstance(v, dict) or v is None]
    config_text = json.dumps(config, indent=2, default=str) if config else ""
    return items, command or "", workload_rows, submission_rows, config_text


def _workloads(data: ReportData, figures: dict[str, str]) -> list[dict[str, Any]]:
    from optbench.report.figures import file_stem

    out = []
    for w in data.workloads:
        op = "≤" if w.mode == "min" else "≥"
        out.append({
            "name": w.name, "metric": w.metric,
            "target": f"{w.metric} {op} {w.target:g}" if w.target is not None else f"{w.metric} (value unknown)",
            "budget": f"{w.budget_seconds:g} s" if w.budget_seconds is not None else "unknown",
            "step_hint": f"{w.step_hint:g}" if w.step_hint is not None else "unknown",
            "hash": w.hash, "note": w.note, "figure": figures.get(f"curves_{file_stem(w.name)}"),
        })
    return out


def render(data: ReportData) -> str:
    """The page as a string."""
    import jinja2

    from optbench.report import analysis_html
    from optbench.report import figures as figs

    uris = {stem: figs.svg_data_uri(fig) for stem, fig in figs.figures(data).items()}
    provenance, command, workload_rows, submission_rows, config = _provenance(data)
    env = jinja2.Environment(loader=jinja2.PackageLoader("optbench.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=False)
    created = (data.experiment or {}).get("created")
    return env.get_template(TEMPLATE).render(
        version=__version__, title=(data.experiment or {}).get("name") or data.root.name, root=str(data.root),
        created=created, missing=data.missing, problems=data.problems, board=_board(data),
        profile=uris.get("performance_profile"), workloads=_workloads(data, uris), trials=_trial_rows(data),
        has_experiment=data.experiment is not None, provenance=provenance, command=command,
        workload_rows=workload_rows, submission_rows=submission_rows, config=config,
        analyses=analysis_html.context(data.board, data.importance, data.sweep, data.root.name), lab=lab_items(data),
    )


def write_report(results: Path, out: Path | None = None, clock: str | None = None) -> tuple[Path, ReportData]:
    """Read ``results`` and write the page to ``out`` (default ``<results>/report.html``); ``clock``:
    wall, cpu or steps (None: the clock the run counted)."""
    from optbench.store import atomic_write_text

    out = Path(out) if out is not None else Path(results) / "report.html"
    if out.is_dir():
        raise OptbenchError(f"-o {out}: is a folder; give the HTML file's path, e.g. {out / 'report.html'}")
    data = collect(Path(results), clock)
    atomic_write_text(out, render(data))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(out, 0o666 & ~umask)  # a page to share: readable like any file the user writes
    return out, data
