"""The schemas of a workload YAML and of ``suites.yaml`` (pydantic; docs/design.md §2 and §8).

They check and convert; the result the rest of optbench sees stays :class:`~optbench.spec.WorkloadSpec`
and :class:`~optbench.spec.SuiteSpec` (the loader builds them from a validated model). Every mistake is
one line naming the file and the key (:func:`optbench.schemas.one_line`), e.g. ``w.yaml: budget.seconds:
expected a number > 0, got -1``; unknown keys are refused, booleans are not numbers, numbers are finite
and counts are integers in ``[1, 2**53]``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BeforeValidator,
    PlainValidator,
    RootModel,
    ValidationInfo,
    field_validator,
    model_validator,
)

from optbench.safeio import finite_number
from optbench.schemas import (
    Closed,
    FiniteNumber,
    NonEmptyStr,
    NonNegativeNumber,
    PositiveInt,
    PositiveNumber,
    StrictMapping,
    expect,
    one_of,
    refuse,
)

SPLITS = ("train", "validation", "test")
CLOCKS = ("wall", "cpu", "steps")


def _empty_is_none(value: Any) -> Any:
    """``params:`` / ``notes:`` left empty (null, or any falsy value, as the hand-written loader took it)."""
    return value if value else None


class Component(Closed):
    """``dataset``, ``model``, ``loss``: ``name`` or ``{name: ..., params: {...}}``."""

    name: NonEmptyStr
    params: Annotated[StrictMapping | None, BeforeValidator(_empty_is_none)] = None


def _named(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


ComponentField = Annotated[Component, BeforeValidator(_named)]


def _metric_name(value: Any) -> bool:
    if not isinstance(value, str) or value.count("/") != 1:
        return False
    split, name = value.split("/")
    return split in SPLITS and bool(name.strip())


def _metric(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise refuse("a non-empty string")
    if not _metric_name(value):
        raise refuse("<split>/<metric> with split one of train, validation, test")
    return value


class TargetModel(Closed):
    metric: Annotated[str, PlainValidator(_metric)]
    value: FiniteNumber
    mode: Annotated[str, one_of("min", "max")]


class BudgetModel(Closed):
    seconds: PositiveNumber
    step_hint: PositiveInt
    steps: PositiveInt | None = None
    max_steps: PositiveInt | None = None


class EvalModel(Closed):
    """Exactly one of ``every_seconds`` and ``every_steps``."""

    every_seconds: PositiveNumber | None = None
    every_steps: PositiveInt | None = None

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        if isinstance(data, dict) and not set(data) - {"every_seconds", "every_steps"} and len(data) != 1:
            raise refuse("exactly one of every_seconds, every_steps")
        return data


AXES = ("width", "depth", "tokens")
RUNGS = "a list of at least two distinct integers > 0"
Rungs = Annotated[list, expect(RUNGS, lambda v: isinstance(v, list) and len(v) >= 2 and len(set(v)) == len(v) and all(
    isinstance(x, int) and not isinstance(x, bool) and 0 < x <= 2**53 for x in v))]
SETTABLE = "model.params.<name>, dataset.params.<name> or budget.steps"


def _settable(value: Any) -> bool:
    return isinstance(value, str) and (value == "budget.steps" or any(
        value.startswith(p) and value != p for p in ("model.params.", "dataset.params.")))


class ScalesModel(Closed):
    """``scales:``, a ladder on one axis (optbench.workloads.scales): ``{width: [32, 64], set: ..., targets: [...]}``."""

    width: Rungs | None = None
    depth: Rungs | None = None
    tokens: Rungs | None = None
    set: Annotated[str, expect(SETTABLE, _settable)] | None = None
    targets: Annotated[list, expect("a list of finite numbers", lambda v: isinstance(v, list) and all(
        finite_number(t) for t in v))] | None = None

    @model_validator(mode="after")
    def _one_axis(self) -> ScalesModel:
        axes = [a for a in AXES if getattr(self, a) is not None]
        if len(axes) != 1:
            raise refuse(f"exactly one axis of {', '.join(AXES)}")
        return self

    @field_validator("targets")
    @classmethod
    def _one_per_rung(cls, targets: list | None, info: ValidationInfo) -> list | None:
        rungs = [(a, info.data[a]) for a in AXES if info.data.get(a) is not None]
        if targets is not None and len(rungs) == 1 and len(targets) != len(rungs[0][1]):
            raise refuse(f"{len(rungs[0][1])} numbers, one per {rungs[0][0]} value")
        return targets

    @property
    def axis(self) -> str:
        return next(a for a in AXES if getattr(self, a) is not None)


MetricNames = Annotated[list, expect("a list of metric names", lambda v: isinstance(v, list) and all(
    isinstance(m, str) and m for m in v))]


class WorkloadModel(Closed):
    """A workload YAML (docs/design.md §2)."""

    name: NonEmptyStr
    version: PositiveInt
    description: Any = ""
    dataset: ComponentField
    model: ComponentField
    loss: ComponentField
    target: TargetModel
    budget: BudgetModel
    eval: EvalModel
    batch_size: PositiveInt
    metrics: MetricNames = ["loss"]
    l2: NonNegativeNumber = 0.0
    notes: Annotated[StrictMapping | None, BeforeValidator(_empty_is_none)] = None
    scales: ScalesModel | None = None  #: the default ``set`` needs the model's params: optbench.workloads.scales


SUITE_SHAPE = "a list of workload names (or {workloads: [...], clock: ...})"


def _names(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(n, str) and n for n in value)


def _suite_shape(value: Any) -> Any:
    if isinstance(value, list) and _names(value):
        return {"workloads": value}
    if not isinstance(value, dict):
        raise refuse(SUITE_SHAPE)
    return value


class SuiteModel(Closed):
    """One suite of ``suites.yaml``: a list of workload names, or ``{workloads: [...], clock: cpu}``."""

    workloads: Annotated[list, expect(SUITE_SHAPE, _names)]
    clock: Annotated[str, one_of(*CLOCKS)] | None = None


class SuitesFile(RootModel[dict[Any, Annotated[SuiteModel, BeforeValidator(_suite_shape)]]]):
    """``suites.yaml``: suite name -> suite."""

    model_config = {"frozen": True}
