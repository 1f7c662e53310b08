"""Schemas of the results files optbench reads back (pydantic): trial.json and experiment.json.

The files are written by optbench, but read back after a kill, a hand edit or a copy from another
machine: a ``study`` that is a string, a ``workload_hash`` that is a mapping, a plan entry whose
fields have the wrong types must become one line naming the file, the key and what was expected
(:func:`check`), not a pandas traceback in the middle of scoring. Extra keys are allowed here (the
formats grow); what scoring and resuming rely on is typed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from optbench.errors import OptbenchError
from optbench.safeio import show

Count = Annotated[StrictInt, Field(ge=0, le=2**53)]  #: a count pandas and numpy can hold
Seed = Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", strict=False, frozen=True)


class TrialRecord(_Record):
    """What scoring, reports and comparisons read of a trial.json."""

    submission: StrictStr
    study: Count
    trial: Count
    workload: StrictStr
    status: StrictStr
    workload_hash: StrictStr | None = None  #: absent: scoring warns and skips the trial
    ruleset: Literal["external", "self"] | None = None
    clock: StrictStr | None = None
    hparams: dict[str, Any] | None = None
    target_mode: Literal["min", "max"] | None = None
    time_to_target: Seconds | None = None
    wall_time_to_target: Seconds | None = None
    cpu_time_to_target: Seconds | None = None
    steps_to_target: Count | None = None
    best_metric: Finite | None = None


class PlanEntry(_Record):
    """One trial of experiment.json's plan."""

    folder: StrictStr
    workload: StrictStr
    submission: StrictStr
    study: Count
    trial: Count
    seed: Seed
    hparams: dict[str, Any]
    ruleset: Literal["external", "self"] | None = None
    budget_multiplier: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    device: StrictStr | None = None
    stop_at_target: StrictBool | None = None
    data_dir: StrictStr | None = None
    clock: Literal["wall", "cpu", "steps"] | None = None


class WorkloadEntry(_Record):
    hash: StrictStr
    spec: dict[str, Any]
    path: StrictStr | None = None
    suite: StrictStr | None = None


class SubmissionEntry(_Record):
    path: StrictStr
    code_hash: StrictStr | None = None


class ConfigRecord(_Record):
    """experiment.json's ``config``: the types RunConfig's fields need (RunConfig.from_record builds it)."""

    workloads: list[StrictStr]
    submissions: list[StrictStr]
    suite: StrictStr | None = None
    ruleset: Literal["external", "self"] = "self"
    preset: StrictStr | None = None
    studies: Annotated[StrictInt, Field(ge=1, le=2**31)] = 1
    trials: Annotated[StrictInt, Field(ge=1, le=2**31)] = 1
    budget_multiplier: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    hparams: dict[str, Any] | None = None
    seed: Seed = 0
    same_points_per_study: StrictBool = False
    stop_at_target: StrictBool = True
    device: StrictStr = "cpu"
    data_dir: StrictStr | None = None
    compile: StrictBool = False
    amp: StrictStr | None = None
    tf32: StrictBool = False
    cudnn_benchmark: StrictBool = False
    nproc_per_trial: Annotated[StrictInt, Field(ge=1)] = 1
    clock: Literal["wall", "cpu", "steps"] = "wall"
    workers: Annotated[StrictInt, Field(ge=1)] | None = 1
    threads: Annotated[StrictInt, Field(ge=1)] | None = None
    checkpoint: StrictBool = False
    executor: Literal["local", "ray"] = "local"
    ray_address: StrictStr | None = None
    cpus_per_trial: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0
    gpus_per_trial: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0


class ExperimentRecord(_Record):
    """What ``run --resume`` needs of experiment.json."""

    config: ConfigRecord
    trials: list[PlanEntry]
    workloads: dict[str, WorkloadEntry] = Field(default_factory=dict)
    submissions: dict[str, SubmissionEntry] = Field(default_factory=dict)


M = TypeVar("M", bound=BaseModel)


def check(model: type[M], data: Any, source: str) -> M:
    """``data`` as ``model``, or one line: ``<source>: <key>: expected <what>, got <value>``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        got = "nothing" if first["type"] == "missing" else show(first.get("input"))
        raise OptbenchError(f"{source}: {where}: {first['msg'].lower()}, got {got}") from None
