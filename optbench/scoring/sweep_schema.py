"""The schema of a sweep's ``sweep.json`` (written by ``optbench sweep``, read back by its analysis).

Ours and closed: the two axes of the grid, each a hyperparameter name and its increasing positive
values. A hand edit or a truncated copy is refused in one line naming the key, not a KeyError.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import field_validator

from optbench.safeio import finite_number
from optbench.schemas import Closed, NonEmptyStr, expect, refuse


def _grid(values: object) -> bool:
    return isinstance(values, list) and len(values) >= 2 and all(finite_number(v) and v > 0 for v in values) and all(
        a < b for a, b in zip(values, values[1:]))


class SweepAxis(Closed):
    name: NonEmptyStr
    values: Annotated[list, expect("at least two increasing numbers > 0", _grid, lambda v: [float(x) for x in v])]


class SweepFile(Closed):
    """``sweep.json``: the grid's two axes (and, for the reader, which submission and workload)."""

    submission: NonEmptyStr | None = None
    workload: NonEmptyStr | None = None
    axes: list[SweepAxis]

    @field_validator("axes")
    @classmethod
    def _two_axes(cls, axes: list[SweepAxis]) -> list[SweepAxis]:
        if len(axes) != 2 or axes[0].name == axes[1].name:
            raise refuse("two axes of different hyperparameters")
        return axes
