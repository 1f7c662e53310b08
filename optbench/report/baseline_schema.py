"""The schema of a baseline file (``optbench compare --save-baseline FILE RESULTS``; pydantic).

The file is ours and closed (unknown keys refused), but it is committed, diffed and edited by
hand in CI, so a bad value is one line naming the key: ``base.json: results.w.adamw.study:
expected a list of distinct study numbers >= 0, got [0, 0]``. Times are numbers >= 0 or null (not
reached: infinity), best values numbers or null (none: NaN); :func:`optbench.report.baseline.load_baseline_side`
turns the validated file into a :class:`~optbench.report.baseline.Side`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import PlainValidator, ValidationInfo, field_validator, model_validator

from optbench.safeio import finite_number
from optbench.schemas import Closed, expect, one_of, refuse

FORMAT = "optbench-baseline"


def _times(value: Any) -> list[float]:
    if not isinstance(value, list) or not all(v is None or finite_number(v) and v >= 0 for v in value):
        raise refuse("a list of numbers >= 0 or null (not reached)")
    return [math.inf if v is None else float(v) for v in value]


def _values(value: Any) -> list[float]:
    if not isinstance(value, list) or not all(v is None or finite_number(v) for v in value):
        raise refuse("a list of numbers or null")
    return [math.nan if v is None else float(v) for v in value]


def _studies(value: Any) -> bool:
    return isinstance(value, list) and len(set(map(repr, value))) == len(value) and all(
        isinstance(j, int) and not isinstance(j, bool) and 0 <= j <= 2**31 for j in value)


Text = Annotated[str, expect("a string", lambda v: isinstance(v, str))]


class BaselineWorkload(Closed):
    """A workload the baseline ran: its hash (a changed workload is not compared) and target."""

    hash: Text
    target: Any = ""
    metric: Any = None  #: informational, as a results folder's trials give it
    value: Annotated[float, expect("a finite number", finite_number, float)] | None = None
    mode: Any = None


class BaselineEntry(Closed):
    """One workload x submission: per study, steps and seconds to target and the best value."""

    study: Annotated[list, expect("a list of distinct study numbers >= 0", _studies)] | None = None
    steps_to_target: Annotated[list, PlainValidator(_times)]
    time_to_target: Annotated[list, PlainValidator(_times)]
    best_metric: Annotated[list, PlainValidator(_values)] | None = None  #: absent in a format-1 file

    @model_validator(mode="after")
    def _same_lengths(self) -> BaselineEntry:
        n = len(self.steps_to_target)
        if not n or len(self.time_to_target) != n or len(self.studies) != n or len(self.best) != n:
            raise refuse("study, steps_to_target, time_to_target and best_metric of one length, not empty")
        return self

    @property
    def studies(self) -> list[int]:
        return list(range(len(self.steps_to_target))) if self.study is None else list(self.study)

    @property
    def best(self) -> list[float]:
        return [math.nan] * len(self.steps_to_target) if self.best_metric is None else list(self.best_metric)


class BaselineFile(Closed):
    """A baseline file, format 1 or 2 (format 2 added best values, targets and the clock)."""

    format: Annotated[str, expect(f'"{FORMAT}"', lambda v: v == FORMAT)]
    format_version: Annotated[int, expect("an integer >= 1", lambda v: isinstance(v, int) and not isinstance(
        v, bool) and 1 <= v <= 2**31)] = 1
    optbench_version: Any = "?"
    created: Any = None
    source: Any = None
    ruleset: Any = "?"
    clock: Annotated[str, one_of("wall", "cpu", "steps")] = "wall"  #: format 1 files hold wall seconds
    provenance: Annotated[dict, expect("a mapping", lambda v: isinstance(v, dict))] | None = None
    workloads: dict[str, BaselineWorkload]
    results: dict[str, dict[str, BaselineEntry]]

    @field_validator("results")
    @classmethod
    def _hashed_and_not_empty(cls, results: dict, info: ValidationInfo) -> dict:
        if "workloads" not in info.data:
            return results  # workloads itself is refused: that is the mistake to say
        missing = sorted(set(results) - set(info.data["workloads"]))
        if missing:
            raise refuse(f"a workload with a hash under workloads for each (none for {missing[0]})")
        if not any(results.values()):
            raise refuse("results in it")
        return results
