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
from typing import TYPE_CHECKING, Any

from optbench.errors import OptbenchError
from optbench.spec import ComponentRef, Target, WorkloadSpec

if TYPE_CHECKING:
    from optbench.workloads.schema import ScalesModel

#: The model parameter a width or depth value sets, by default: the first one the model's params name.
DEFAULT_PARAMS = {"width": ("dim", "hidden", "channels", "width"), "depth": ("layers", "depth")}


def parse_ladder(value: ScalesModel, model: Any, source: str) -> dict[str, Any]:
    """A ``scales`` mapping checked by its schema (optbench.workloads.schema.ScalesModel) into
    ``{"axis", "values", "set", "targets"}``, its default ``set`` found from the model's params."""
    axis = value.axis
    params = (model.get("params") or {}) if isinstance(model, dict) else {}
    target = value.set
    if target is None:
        if axis == "tokens":
            target = "budget.steps"
        else:
            found = [p for p in DEFAULT_PARAMS[axis] if p in params]
            if not found:
                raise OptbenchError(f"{source}: scales: no model parameter named {' or '.join(DEFAULT_PARAMS[axis])} "
                                    f"for {axis}; say which with set: model.params.<name>")
            target = f"model.params.{found[0]}"
    return {"axis": axis, "values": list(getattr(value, axis)), "set": target,
            "targets": None if value.targets is None else [float(t) for t in value.targets]}


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

