"""``optbench report RESULTS -o report.html``: one self-contained HTML page to send to a colleague.

Sections: what is missing (when anything is), the leaderboard and the performance
profile, per workload the target metric against submission time and against steps,
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
from optbench.report.collect import ReportData, collect

TEMPLATE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="optbench {{ version }}">
<title>optbench report — {{ title }}</title>
<style>
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
         color: #1d232b; background: #fff; margin: 0 auto; max-width: 1180px; padding: 1.2em 1.6em 3em; }
  h1 { font-size: 1.6em; margin: 0.2em 0 0.1em; }
  h2 { font-size: 1.25em; margin: 1.8em 0 0.5em; padding-bottom: 0.2em; border-bottom: 2px solid #d8dee6; }
  h3 { font-size: 1.05em; margin: 1.4em 0 0.3em; }
  .sub { color: #56606b; margin: 0 0 0.8em; }
  nav a { margin-right: 1em; }
  a { color: #1a5fb4; }
  table { border-collapse: collapse; margin: 0.4em 0 0.8em; font-size: 0.92em; }
  th, td { padding: 0.3em 0.6em; border-bottom: 1px solid #e3e7ec; text-align: left; vertical-align: top; }
  th { background: #f3f5f8; font-weight: 600; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .leaderboard td:nth-child(2) { font-weight: 600; }
  .scroll { overflow-x: auto; max-width: 100%; }
  table.trials { font-size: 0.84em; }
  table.trials th, table.trials td { padding: 0.25em 0.45em; }
  .score { font-size: 1.05em; }
  .dim { color: #7a838d; }
  .small { font-size: 0.85em; }
  .status-reached { color: #1e7b34; font-weight: 600; }
  .status-budget_exhausted { color: #9a6700; }
  .status-diverged, .status-failed, .status-timeout { color: #b42318; font-weight: 600; }
  .box { border-left: 4px solid #d4a72c; background: #fff8e5; padding: 0.5em 1em; margin: 0.8em 0; }
  .box.ok { border-color: #2da44e; background: #effaf1; }
  .box ul { margin: 0.3em 0; padding-left: 1.2em; }
  figure { margin: 0.6em 0 1em; }
  figure img { max-width: 100%; height: auto; border: 1px solid #eef0f3; }
  figcaption { color: #56606b; font-size: 0.88em; }
  code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 0.88em; }
  pre { background: #f6f8fa; padding: 0.6em 0.8em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
  details summary { cursor: pointer; color: #1a5fb4; }
  dl.kv { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1.2em; margin: 0.4em 0; }
  dl.kv dt { font-weight: 600; color: #3d4650; }
  dl.kv dd { margin: 0; }
  .hp { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.85em; }
  .err { color: #b42318; min-width: 14em; max-width: 28em; overflow-wrap: anywhere; }
</style>
</head>
<body>
<header>
<h1>optbench report — {{ title }}</h1>
<p class="sub">Results folder <code>{{ root }}</code>{% if created %} · run started {{ created }}{% endif %}
 · report by optbench {{ version }}</p>
<nav><a href="#leaderboard">Leaderboard</a><a href="#workloads">Workloads</a><a href="#trials">Trials</a><a href="#provenance">Provenance</a></nav>
</header>

{% if missing %}
<section id="missing" class="box">
<strong>Missing from this results folder</strong> — the report shows what could be read:
<ul>{% for m in missing %}<li>{{ m }}</li>{% endfor %}</ul>
</section>
{% endif %}
{% if problems %}
<section class="box"><details><summary>{{ problems|length }} scoring warning(s)</summary>
<ul>{% for p in problems %}<li>{{ p }}</li>{% endfor %}</ul></details></section>
{% endif %}

<section id="leaderboard">
<h2>Leaderboard</h2>
{% if board %}
<p class="sub">{{ board.ruleset }}-tuning, {{ board.clock_text }} to target, τ<sub>max</sub> = {{ board.tau_max }}.
Score = area under the performance profile / (τ<sub>max</sub> − 1), in [0, 1]; 1 = the best on every workload.
Cells: the median over studies of the {{ board.clock_text }} to target, and its ratio to the best (— not reached;
cut: more than τ<sub>max</sub> × the best).</p>
<div class="scroll"><table class="leaderboard">
<thead><tr><th class="num">#</th><th>submission</th><th class="num">score</th><th class="num">workloads reached</th>
{% for w in board.workloads %}<th class="num">{{ w }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in board.rows %}<tr><td class="num">{{ row.rank }}</td><td>{{ row.submission }}</td>
<td class="num score">{{ row.score }}</td><td class="num">{{ row.reached }}</td>
{% for cell in row.cells %}<td class="num">{{ cell.time }}{% if cell.ratio %}<br><span class="dim small">{{ cell.ratio }}</span>{% endif %}</td>{% endfor %}
</tr>{% endfor %}
</tbody></table></div>
{% if profile %}<figure><img alt="Performance profiles of every submission" src="{{ profile }}">
<figcaption>ρ(τ): the fraction of workloads a submission reaches within τ × the best submission's {{ board.clock_text }}.</figcaption></figure>{% endif %}
{% else %}
<p class="box">No leaderboard: this folder could not be scored (see above).</p>
{% endif %}
</section>

<section id="workloads">
<h2>Workloads</h2>
{% for w in workloads %}
<h3 id="workload-{{ loop.index }}">{{ w.name }}</h3>
<p class="sub">target {{ w.target }} · budget {{ w.budget }} · step hint {{ w.step_hint }} · hash <code>{{ w.hash }}</code></p>
{% if w.note %}<p class="dim">{{ w.note }}</p>{% endif %}
{% if w.figure %}<figure><img alt="{{ w.name }}: {{ w.metric }} against submission time and steps" src="{{ w.figure }}">
<figcaption>Median over studies (the chosen trial of each study) with the min–max band; a study that stopped at the target keeps its last value. Dashed: the target; dotted: the budget (left) and the step hint (right).</figcaption></figure>{% endif %}
{% else %}<p class="dim">No workload has a finished trial.</p>{% endfor %}
</section>

<section id="trials">
<h2>Trials</h2>
{% if trials %}
<p class="sub">One row per finished trial. ✓ marks the trial its study used in the score (the best of the study under external tuning).</p>
<div class="scroll"><table class="trials">
<thead><tr><th>workload</th><th>submission</th><th class="num">study</th><th class="num">trial</th><th></th><th>status</th>
<th>hyperparameters</th><th class="num">seed</th><th class="num">ran<br><span class="dim small">steps · submission time</span></th>
<th class="num">to target<br><span class="dim small">steps · submission time</span></th><th class="num">best metric</th><th>error</th></tr></thead>
<tbody>
{% for t in trials %}<tr><td>{{ t.workload }}</td><td>{{ t.submission }}</td><td class="num">{{ t.study }}</td><td class="num">{{ t.trial }}</td>
<td>{{ "✓" if t.chosen else "" }}</td><td class="status-{{ t.status_class }}">{{ t.status }}</td>
<td class="hp">{% for k, v in t.hparams %}{{ k }}={{ v }}{% if not loop.last %}<br>{% endif %}{% else %}<span class="dim">the submission's defaults</span>{% endfor %}</td>
<td class="num">{{ t.seed }}</td><td class="num">{{ t.steps }} · {{ t.submission_time }}</td>
<td class="num">{% if t.reached %}{{ t.steps_to_target }} · {{ t.time_to_target }}{% else %}—{% endif %}</td><td class="num">{{ t.best_metric }}</td>
<td class="err">{% if t.error %}{{ t.error }}{% if t.traceback %}<details><summary>traceback</summary><pre>{{ t.traceback }}</pre></details>{% endif %}{% endif %}</td></tr>
{% endfor %}
</tbody></table></div>
{% else %}<p class="dim">No finished trial.</p>{% endif %}
</section>

<section id="provenance">
<h2>Provenance</h2>
{% if not has_experiment %}<p class="box">No readable experiment.json: versions, hardware, git state and the command are unknown. What the trials themselves record is shown.</p>{% endif %}
<dl class="kv">
{% for k, v in provenance %}<dt>{{ k }}</dt><dd>{{ v }}</dd>
{% endfor %}
</dl>
<h3>Command</h3>
{% if command %}<pre>{{ command }}</pre>{% else %}<p class="dim">unknown</p>{% endif %}
<h3>Workloads</h3>
<table><thead><tr><th>workload</th><th class="num">version</th><th>hash</th><th>definition file</th></tr></thead><tbody>
{% for w in workload_rows %}<tr><td>{{ w.name }}</td><td class="num">{{ w.version }}</td><td><code>{{ w.hash }}</code></td><td><code>{{ w.path }}</code></td></tr>{% endfor %}
</tbody></table>
{% if submission_rows %}<h3>Submissions</h3>
<table><thead><tr><th>submission</th><th>code hash</th><th>folder</th></tr></thead><tbody>
{% for s in submission_rows %}<tr><td>{{ s.name }}</td><td><code>{{ s.hash }}</code></td><td><code>{{ s.path }}</code></td></tr>{% endfor %}
</tbody></table>{% endif %}
{% if config %}<details><summary>the run's settings (experiment.json: config)</summary><pre>{{ config }}</pre></details>{% endif %}
</section>
</body>
</html>
"""


def _finite(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _num(value: Any, digits: int = 4) -> str:
    f = _finite(value)
    return "—" if f is None else f"{f:.{digits}g}"


def _duration(value: Any, clock: str) -> str:
    f = _finite(value)
    if f is None:
        return "—"
    if clock == "steps":
        return f"{f:,.0f}"
    return f"{f:.3g} s" if f < 100 else f"{f:,.0f} s"


def _steps(value: Any) -> str:
    f = _finite(value)
    return "—" if f is None else f"{f:,.0f}"


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
                cells.append({"time": "—", "ratio": ""})
            else:
                cells.append({"time": _duration(time, board.clock),
                              "ratio": f"×{ratio:.2f}" if math.isfinite(ratio) else "cut"})
        rows.append({"rank": int(row["rank"]), "submission": str(sub), "score": f"{row['score']:.4f}",
                     "reached": f"{int(row['workloads_reached'])}/{int(row['workloads'])}", "cells": cells})
    return {"ruleset": board.ruleset, "tau_max": f"{board.tau_max:g}", "workloads": board.workloads, "rows": rows,
            "clock_text": "steps" if board.clock == "steps" else "submission time"}


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
            "hparams": hp, "seed": t.get("seed", "—"), "steps": _steps(t.get("steps")),
            "submission_time": _duration(t.get("submission_time"), "seconds"),
            "time_to_target": _duration(t.get("time_to_target"), "seconds"),
            "steps_to_target": _steps(t.get("steps_to_target")), "best_metric": _num(t.get("best_metric")),
            "reached": _finite(t.get("steps_to_target")) is not None or _finite(t.get("time_to_target")) is not None,
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

    from optbench.report import figures as figs

    uris = {stem: figs.svg_data_uri(fig) for stem, fig in figs.figures(data).items()}
    provenance, command, workload_rows, submission_rows, config = _provenance(data)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)
    created = (data.experiment or {}).get("created")
    return env.from_string(TEMPLATE).render(
        version=__version__, title=(data.experiment or {}).get("name") or data.root.name, root=str(data.root),
        created=created, missing=data.missing, problems=data.problems, board=_board(data),
        profile=uris.get("performance_profile"), workloads=_workloads(data, uris), trials=_trial_rows(data),
        has_experiment=data.experiment is not None, provenance=provenance, command=command,
        workload_rows=workload_rows, submission_rows=submission_rows, config=config,
    )


def write_report(results: Path, out: Path | None = None, clock: str = "seconds") -> tuple[Path, ReportData]:
    """Read ``results`` and write the page to ``out`` (default ``<results>/report.html``)."""
    from optbench.errors import OptbenchError
    from optbench.store import atomic_write_text

    if clock not in ("seconds", "steps"):
        raise OptbenchError(f"--clock {clock}: expected seconds or steps")
    data = collect(Path(results), clock)
    out = Path(out) if out is not None else Path(results) / "report.html"
    atomic_write_text(out, render(data))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(out, 0o666 & ~umask)  # a page to share: readable like any file the user writes
    return out, data
