"""Loading and validating workload YAML (docs/design.md §2) into :class:`~optbench.spec.WorkloadSpec`.

Validation is by the formats' schemas (optbench.workloads.schema), so that every mistake becomes one
line naming the file, the key and what was expected (``error: workloads/mini/x.yaml: budget.seconds:
expected a number > 0, got -1``). Unknown keys are refused: a typo must not silently fall back to a
default and change what is measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optbench import builtin, safeio
from optbench.errors import OptbenchError
from optbench.safeio import path_part
from optbench.spec import Budget, Clock, ComponentRef, EvalPolicy, SuiteSpec, Target, WorkloadSpec
from optbench.workloads.scales import parse_ladder

#: The built-in workloads, shipped inside the package (the repository's top-level workloads/ links to them).
BUILTIN_WORKLOADS_DIR = builtin.WORKLOADS_DIR
SUITES_FILE = "suites.yaml"


def parse_workload(data: Any, source: str, suite: str = "") -> WorkloadSpec:
    """Validate one workload mapping (already parsed from YAML) with its schema
    (:class:`optbench.workloads.schema.WorkloadModel`) into the :class:`WorkloadSpec` contract."""
    from optbench.schemas import check
    from optbench.workloads.schema import WorkloadModel

    model = check(WorkloadModel, data, source)
    metrics = list(model.metrics)
    if "loss" not in metrics:
        metrics = ["loss", *metrics]
    ladder = parse_ladder(model.scales, data.get("model"), source) if model.scales is not None else None
    return WorkloadSpec(
        ladder=ladder,
        name=path_part(model.name, f"{source}: name"),
        version=model.version,
        description=str(model.description).strip(),
        dataset=_component(model.dataset),
        model=_component(model.model),
        loss=_component(model.loss),
        target=Target(model.target.metric, model.target.value, model.target.mode),
        budget=Budget(seconds=model.budget.seconds, step_hint=model.budget.step_hint,
                      max_steps=model.budget.max_steps, steps=model.budget.steps),
        eval=EvalPolicy(every_seconds=model.eval.every_seconds, every_steps=model.eval.every_steps),
        batch_size=model.batch_size,
        metrics=tuple(metrics),
        l2=model.l2,
        suite=suite,
        path=source,
        notes=dict(model.notes or {}),
    )


def _component(part: Any) -> ComponentRef:
    return ComponentRef(part.name, dict(part.params or {}))


def check_names_registered(spec: WorkloadSpec) -> None:
    """Refuse names that no registry knows (imports the built-ins, hence torch)."""
    from optbench.workloads.registry import DATASETS, LOSSES, METRICS, MODELS

    for registry, ref, key in ((DATASETS, spec.dataset, "dataset.name"), (MODELS, spec.model, "model.name"),
                               (LOSSES, spec.loss, "loss")):
        if not registry.has(ref.name):
            known = ", ".join(registry.names())
            raise OptbenchError(f"{spec.path}: {key}: unknown {registry.kind} {ref.name!r}; known: {known}")
    for metric in spec.metrics:
        if metric != "loss" and not METRICS.has(metric):
            raise OptbenchError(
                f"{spec.path}: metrics: unknown metric {metric!r}; known: loss, {', '.join(METRICS.names())}"
            )


def read_yaml(path: Path) -> Any:
    """A YAML file through the shared safe reader (optbench.safeio: UTF-8, no aliases, no duplicate keys)."""
    return safeio.read_yaml(path)


def load_workload_file(path: Path) -> WorkloadSpec:
    path = Path(path)
    return parse_workload(read_yaml(path), str(path), suite=path.parent.name)


def workload_dirs(extra: list[Path] | None = None) -> list[Path]:
    """Where workloads are looked up: ``--workloads-dir`` folders first, then the built-ins."""
    return safeio.search_folders(extra, "--workloads-dir", BUILTIN_WORKLOADS_DIR)


def discover(extra: list[Path] | None = None) -> dict[str, Path]:
    """Workload name (file stem) → YAML path; earlier folders shadow later ones."""
    found: dict[str, Path] = {}
    for folder in reversed(workload_dirs(extra)):
        for path in sorted(folder.rglob("*.y*ml")):
            if path.name != SUITES_FILE and path.suffix in (".yaml", ".yml"):
                found[path.stem] = path
    return found


def find_workload(name_or_path: str, extra: list[Path] | None = None) -> WorkloadSpec:
    """A workload by name, or by the path of its YAML file."""
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        return load_workload_file(Path(name_or_path))
    known = discover(extra)
    if name_or_path not in known:
        raise OptbenchError(
            f"unknown workload {name_or_path!r}; known: {', '.join(sorted(known))} "
            "(see `optbench list workloads`, or pass --workloads-dir)"
        )
    return load_workload_file(known[name_or_path])


def suites(extra: list[Path] | None = None) -> dict[str, SuiteSpec]:
    """Every suite by name: each folder of workload YAML is one, and ``suites.yaml`` names more.

    In ``suites.yaml`` a suite is a list of workload names, or a mapping
    ``{workloads: [...], clock: cpu}`` that also says which clock its budgets were calibrated on.
    """
    result: dict[str, SuiteSpec] = {}
    for folder in reversed(workload_dirs(extra)):
        for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
            names = sorted(p.stem for p in sub.glob("*.y*ml"))
            if names:
                result[sub.name] = SuiteSpec(sub.name, tuple(names))
        suites_file = folder / SUITES_FILE
        if suites_file.is_file():
            data = read_yaml(suites_file) or {}
            if not isinstance(data, dict):
                raise OptbenchError(f"{suites_file}: expected a mapping of suite name to a list of workload names")
            result.update(_parse_suites(data, suites_file))
    return result


def _parse_suites(data: Any, source: Path) -> dict[str, SuiteSpec]:
    """``suites.yaml`` through its schema (:class:`optbench.workloads.schema.SuitesFile`)."""
    from optbench.schemas import check
    from optbench.workloads.schema import SuitesFile

    parsed = check(SuitesFile, data, str(source)).root
    return {str(name): SuiteSpec(str(name), tuple(suite.workloads), None if suite.clock is None else Clock(suite.clock))
            for name, suite in parsed.items()}


def resolve_workloads(names: list[str], suite: str | None, extra: list[Path] | None = None) -> list[WorkloadSpec]:
    """The workloads a run asks for: ``--workloads`` names/paths, or all of ``--suite``."""
    if suite:
        known = suites(extra)
        if suite not in known:
            raise OptbenchError(f"unknown suite {suite!r}; known: {', '.join(sorted(known))}")
        names = [*known[suite].workloads, *[n for n in names if n not in known[suite].workloads]]
    if extra and names and not suite and all(n.endswith((".yaml", ".yml")) or "/" in n for n in names):
        raise OptbenchError("--workloads-dir has no effect when every --workloads entry is a path; drop it, or "
                            "name the workloads it holds")
    specs = [find_workload(n, extra) for n in names]
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise OptbenchError(f"workload {spec.name!r} is named twice")
        seen.add(spec.name)
    return specs
