"""Loading and validating workload YAML (docs/design.md §2) into :class:`~optbench.spec.WorkloadSpec`.

Validation is by hand, key by key, so that every mistake becomes one line naming
the file, the key and what was expected (``error: workloads/mini/x.yaml: budget.seconds:
expected a number > 0, got 'ten'``). Unknown keys are refused: a typo must not
silently fall back to a default and change what is measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optbench import builtin, safeio
from optbench.errors import OptbenchError
from optbench.safeio import path_part, show
from optbench.spec import Budget, Clock, ComponentRef, EvalPolicy, SuiteSpec, Target, WorkloadSpec
from optbench.workloads.scales import parse_ladder

#: The built-in workloads, shipped inside the package (the repository's top-level workloads/ links to them).
BUILTIN_WORKLOADS_DIR = builtin.WORKLOADS_DIR
SUITES_FILE = "suites.yaml"
SPLITS = ("train", "validation", "test")

_TOP_KEYS = {
    "name", "version", "description", "dataset", "model", "loss", "target", "budget", "eval",
    "batch_size", "metrics", "l2", "notes", "scales",
}
_REQUIRED = ("name", "version", "dataset", "model", "loss", "target", "budget", "eval", "batch_size")


class _Checker:
    """Reads typed values out of a YAML mapping, raising one-line errors with file and key."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, expected: str, got: Any = ...) -> OptbenchError:
        tail = "" if got is ... else f", got {show(got)}"
        return OptbenchError(f"{self.source}: {key}: expected {expected}{tail}")

    def mapping(self, data: Any, key: str, allowed: set[str], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(data, dict):
            raise self.fail(key, "a mapping", data)
        unknown = sorted((str(k) for k in set(data) - allowed), key=str)
        if unknown:
            where = f"{key}." if key else ""
            raise OptbenchError(
                f"{self.source}: unknown key {where}{unknown[0]}; allowed keys: {', '.join(sorted(allowed))}"
            )
        for name in required:
            if name not in data:
                where = f"{key}." if key else ""
                raise OptbenchError(f"{self.source}: missing required key {where}{name}")
        return data

    def number(self, value: Any, key: str, positive: bool = False, nonnegative: bool = False) -> float:
        if not safeio.finite_number(value):
            raise self.fail(key, "a finite number", value)
        if positive and value <= 0:
            raise self.fail(key, "a number > 0", value)
        if nonnegative and value < 0:
            raise self.fail(key, "a number >= 0", value)
        return float(value)

    def integer(self, value: Any, key: str, minimum: int = 1) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 2**53:
            raise self.fail(key, f"an integer >= {minimum} (and <= 2**53)", value)
        return value

    def string(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "a non-empty string", value)
        return value

    def component(self, value: Any, key: str) -> ComponentRef:
        """``name`` or ``{name: ..., params: {...}}``."""
        if isinstance(value, str):
            return ComponentRef(self.string(value, key))
        data = self.mapping(value, key, {"name", "params"}, ("name",))
        params = data.get("params") or {}
        if not isinstance(params, dict):
            raise self.fail(f"{key}.params", "a mapping", params)
        return ComponentRef(self.string(data["name"], f"{key}.name"), dict(params))


def parse_workload(data: Any, source: str, suite: str = "") -> WorkloadSpec:
    """Validate one workload mapping (already parsed from YAML)."""
    check = _Checker(source)
    data = check.mapping(data, "", _TOP_KEYS, _REQUIRED)

    target_data = check.mapping(data["target"], "target", {"metric", "value", "mode"}, ("metric", "value", "mode"))
    metric = check.string(target_data["metric"], "target.metric")
    if metric.count("/") != 1 or metric.split("/")[0] not in SPLITS or not metric.split("/")[1].strip():
        raise check.fail("target.metric", "<split>/<metric> with split one of train, validation, test", metric)
    mode = target_data["mode"]
    if mode not in ("min", "max"):
        raise check.fail("target.mode", "min or max", mode)
    target = Target(metric, check.number(target_data["value"], "target.value"), mode)

    budget_data = check.mapping(data["budget"], "budget", {"seconds", "steps", "step_hint", "max_steps"},
                                ("seconds", "step_hint"))
    max_steps, steps = budget_data.get("max_steps"), budget_data.get("steps")
    budget = Budget(
        seconds=check.number(budget_data["seconds"], "budget.seconds", positive=True),
        step_hint=check.integer(budget_data["step_hint"], "budget.step_hint"),
        max_steps=None if max_steps is None else check.integer(max_steps, "budget.max_steps"),
        steps=None if steps is None else check.integer(steps, "budget.steps"),
    )

    eval_data = check.mapping(data["eval"], "eval", {"every_seconds", "every_steps"})
    if len(eval_data) != 1:
        raise check.fail("eval", "exactly one of every_seconds, every_steps", eval_data)
    if "every_steps" in eval_data:
        eval_policy = EvalPolicy(every_steps=check.integer(eval_data["every_steps"], "eval.every_steps"))
    else:
        eval_policy = EvalPolicy(every_seconds=check.number(eval_data["every_seconds"], "eval.every_seconds", positive=True))

    metrics = data.get("metrics", ["loss"])
    if not isinstance(metrics, list) or not all(isinstance(m, str) and m for m in metrics):
        raise check.fail("metrics", "a list of metric names", metrics)
    if "loss" not in metrics:
        metrics = ["loss", *metrics]
    notes = data.get("notes") or {}
    if not isinstance(notes, dict):
        raise check.fail("notes", "a mapping", notes)

    ladder = parse_ladder(data["scales"], data.get("model"), source) if data.get("scales") is not None else None
    return WorkloadSpec(
        ladder=ladder,
        name=path_part(check.string(data["name"], "name"), f"{source}: name"),
        version=check.integer(data["version"], "version"),
        description=str(data.get("description", "")).strip(),
        dataset=check.component(data["dataset"], "dataset"),
        model=check.component(data["model"], "model"),
        loss=check.component(data["loss"], "loss"),
        target=target,
        budget=budget,
        eval=eval_policy,
        batch_size=check.integer(data["batch_size"], "batch_size"),
        metrics=tuple(metrics),
        l2=check.number(data.get("l2", 0.0), "l2", nonnegative=True),
        suite=suite,
        path=source,
        notes=notes,
    )


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
            for name, value in data.items():
                result[str(name)] = _parse_suite(str(name), value, suites_file)
    return result


def _parse_suite(name: str, value: Any, source: Path) -> SuiteSpec:
    check = _Checker(str(source))
    clock = None
    if isinstance(value, dict):
        value = check.mapping(value, name, {"workloads", "clock"}, ("workloads",))
        if value.get("clock") is not None:
            if not isinstance(value["clock"], str) or value["clock"] not in {c.value for c in Clock}:
                raise check.fail(f"{name}.clock", "wall, cpu or steps", value["clock"])
            clock = Clock(value["clock"])
        value = value["workloads"]
    if not isinstance(value, list) or not value or not all(isinstance(n, str) and n for n in value):
        raise check.fail(name, "a list of workload names (or {workloads: [...], clock: ...})", value)
    return SuiteSpec(name, tuple(value), clock)


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
