"""The schema of AlgoPerf's ``workload_targets*.json`` (``optbench score --format algoperf --targets``).

The format is AlgoPerf's, not ours: keys it may grow (``_comment``, ``step_hint``) are let through,
what scoring reads is typed. :func:`optbench.scoring.algoperf_targets.load_targets` builds
:class:`~optbench.scoring.algoperf_targets.Targets` from it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from optbench.schemas import FiniteNumber, NonEmptyStr, expect, one_of, refuse

Names = Annotated[list, expect("a list of workload names", lambda v: isinstance(v, list) and all(
    isinstance(n, str) and n for n in v))]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class AlgoPerfTarget(_Open):
    """One workload's target: the metric (without ``validation/``), its value, optionally its direction."""

    target_metric_name: NonEmptyStr
    validation_target_value: FiniteNumber
    target_metric_goal: Annotated[str, one_of("minimize", "maximize")] | None = None

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise refuse("a mapping with target_metric_name and validation_target_value")
        return data


class AlgoPerfTargetsFile(_Open):
    benchmark_version: Any = "?"
    base_workloads: Names
    held_out_workloads: Annotated[list | None, expect("a list of workload names", lambda v: v is None or (
        isinstance(v, list) and all(isinstance(n, str) and n for n in v)))] = Field(None, validate_default=True)
    workloads: dict[str, AlgoPerfTarget]

    @field_validator("held_out_workloads")
    @classmethod
    def _each_once(cls, held_out: list | None, info: Any) -> list | None:
        listed = [*(info.data.get("base_workloads") or []), *(held_out or [])]
        twice = sorted({n for n in listed if listed.count(n) > 1})
        if twice:
            raise refuse(f"each workload listed once in base_workloads and held_out_workloads ({', '.join(twice)} "
                         "is listed twice)")
        return held_out
