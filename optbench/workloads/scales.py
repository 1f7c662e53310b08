"""Scale ladders: one workload at several model widths, depths or training lengths.

Why: "do the tricks survive a bigger model?" (the NanoGPT speedrun's scaling plots). A workload
YAML may declare one scale axis::

    scales: {width: [32, 48, 64, 96]}              # or depth: [...] or tokens: [...]
    scales: {width: [32, 64], set: model.params.dim, targets: [2.1, 1.95]}

``set`` names the field each value goes to (default: width -> the model's ``dim``/``hidden``/
``channels``/``width`` parameter, depth -> its ``layers``/``depth``, tokens -> ``budget.steps`` and
``budget.step_hint``); ``targets`` gives each rung its own target value (default: the workload's
target, shared by every rung). ``optbench run --scales all`` (or ``--scales 32,64``) replaces
the workload by its rungs: each is a workload of its own, named ``<name>_<axis><value>``,
with ``scale = {"of", "axis", "value"}`` in its spec, so it has its own hash; the trial records
the model's parameter count (``num_params`` in trial.json) for ``optbench scaling``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from optbench.errors import OptbenchError
from optbench.spec import ComponentRef, Target, WorkloadSpec

AXES = ("width", "depth", "tokens")
#: The model parameter a width or depth value sets, by default: the first one the model's params name.
DEFAULT_PARAMS = {"width": ("dim", "hidden", "channels", "width"), "depth": ("layers", "depth")}
SETTABLE = ("model.params.", "dataset.params.", "budget.steps")


def parse_ladder(value: Any, model: Any, source: str) -> dict[str, Any]:
    """Validate a YAML ``scales`` mapping into ``{"axis", "values", "set", "targets"}``."""
    def fail(what: str) -> OptbenchError:
        return OptbenchError(f"{source}: scales: {what}, got {value!r}")

    if not isinstance(value, dict):
        raise fail("expected a mapping {width|depth|tokens: [values], set: ..., targets: [...]}")
    axes = [k for k in value if k in AXES]
    unknown = sorted(set(value) - {*AXES, "set", "targets"})
    if unknown:
        raise fail(f"unknown key {unknown[0]}; allowed: {', '.join(AXES)}, set, targets")
    if len(axes) != 1:
        raise fail(f"expected exactly one axis of {', '.join(AXES)}")
    axis, values = axes[0], value[axes[0]]
    if (not isinstance(values, list) or len(values) < 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values)
            or len(set(values)) != len(values)):
        raise fail(f"{axis}: expected a list of at least two distinct integers > 0")
    params = (model.get("params") or {}) if isinstance(model, dict) else {}
    target = value.get("set")
    if target is None:
        if axis == "tokens":
            target = "budget.steps"
        else:
            found = [p for p in DEFAULT_PARAMS[axis] if p in params]
            if not found:
                raise fail(f"no model parameter named {' or '.join(DEFAULT_PARAMS[axis])} for {axis}; "
                           "say which with set: model.params.<name>")
            target = f"model.params.{found[0]}"
    if not isinstance(target, str) or not (target == "budget.steps" or target.startswith(SETTABLE[:2])):
        raise fail("set: expected model.params.<name>, dataset.params.<name> or budget.steps")
    targets = value.get("targets")
    if targets is not None and (not isinstance(targets, list) or len(targets) != len(values)
                                or not all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in targets)):
        raise fail(f"targets: expected {len(values)} numbers, one per {axis} value")
    return {"axis": axis, "values": list(values), "set": target,
            "targets": None if targets is None else [float(t) for t in targets]}


def scale_of(spec: WorkloadSpec, value: int) -> WorkloadSpec:
    """The rung ``value`` of ``spec``'s ladder: a workload of its own (own name, own hash)."""
    ladder = spec.ladder
    if ladder is None:
        raise OptbenchError(f"workload {spec.name} declares no scales")
    if value not in ladder["values"]:
        raise OptbenchError(f"workload {spec.name}: no {ladder['axis']} {value} in its scales "
                            f"{ladder['values']}")
    changes: dict[str, Any] = {}
    where = ladder["set"]
    if where == "budget.steps":
        changes["budget"] = dataclasses.replace(spec.budget, steps=value, step_hint=value)
    else:
        part, _, key = where.split(".", 2)
        ref: ComponentRef = getattr(spec, part)
        changes[part] = ComponentRef(ref.name, {**ref.params, key: value})
    if ladder["targets"] is not None:
        target = ladder["targets"][ladder["values"].index(value)]
        changes["target"] = Target(spec.target.metric, target, spec.target.mode)
    return dataclasses.replace(
        spec, name=f"{spec.name}_{ladder['axis']}{value}", ladder=None,
        scale={"of": spec.name, "axis": ladder["axis"], "value": value}, **changes)


def expand(specs: list[WorkloadSpec], which: str | None) -> list[WorkloadSpec]:
    """``--scales``: None keeps ``specs``; ``all`` replaces each workload that has a ladder by
    every rung; ``V1,V2`` by those rungs (a workload without a ladder stays itself)."""
    if not which:
        return specs
    wanted = None
    if which.strip() != "all":
        try:
            wanted = [int(v) for v in which.split(",") if v.strip()]
        except ValueError:
            raise OptbenchError(f"--scales {which}: expected all, or comma-separated integers") from None
    if not any(s.ladder for s in specs):
        raise OptbenchError(f"--scales {which}: none of the workloads declares scales")
    out = []
    for spec in specs:
        if spec.ladder is None:
            out.append(spec)
            continue
        values = spec.ladder["values"] if wanted is None else [v for v in spec.ladder["values"] if v in wanted]
        if not values:
            raise OptbenchError(f"--scales {which}: workload {spec.name} has only {spec.ladder['axis']} "
                                f"{spec.ladder['values']}")
        out += [scale_of(spec, v) for v in values]
    return out

