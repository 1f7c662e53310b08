"""Numbers and durations as text, written once for the terminal, the HTML page, markdown and JSON.

Each function takes whatever a results folder may hold (a float, an int, None, NaN,
``inf``, or text from a damaged file) and never raises: what is not a finite number
becomes the ``missing`` text. The dashes differ on purpose: ``–`` (en dash) in the
terminal and markdown, ``—`` (em dash) on the HTML page, as before they were shared.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

#: "No value" in the terminal and in markdown.
DASH = "–"
#: "No value" on the HTML page.
EM_DASH = "—"


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number, else None (None, NaN, inf, text)."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def json_number(value: Any) -> float | int | None:
    """A number for a JSON file: ``null`` for not finite (JSON has no inf), whole numbers as ints."""
    f = finite(value)
    return int(f) if f is not None and f.is_integer() else f


def number(value: Any, digits: int = 3, missing: str = DASH) -> str:
    """``digits`` significant digits; an int whole (a step count is never ``1.23e+04``)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):  # numpy ints too
        return str(value)
    f = finite(value)
    return missing if f is None else f"{f:.{digits}g}"


def duration(value: Any, clock: str = "seconds", missing: str = EM_DASH, not_reached: str | None = None) -> str:
    """A time or step count to target: ``12,345`` (steps), ``3.45 s``, ``1,234 s``.

    ``not_reached``: the text for ``inf`` when it must differ from ``missing`` (compare
    tells "not reached" from "no such pair").
    """
    f = finite(value)
    if f is None:
        infinite = isinstance(value, numbers.Real) and math.isinf(value)
        return not_reached if infinite and not_reached is not None else missing
    if clock == "steps":
        return f"{f:,.0f}"
    return f"{f:.3g} s" if f < 100 else f"{f:,.0f} s"


def short_duration(value: float, clock: str = "seconds") -> str:
    """Short enough for a leaderboard cell: ``12,345`` steps; ``42.0s``, ``12.5m``, ``3.2h``."""
    if clock == "steps":
        return duration(value, "steps")
    if value >= 3600:
        return f"{value / 3600:.1f}h"
    return f"{value / 60:.1f}m" if value >= 60 else f"{value:.1f}s"


def first_step(evals: list[dict[str, Any]]) -> str:
    """How long the first step took beside the ones after it, from a trial's eval rows (an eval
    follows step 1): what an optimizer that compiles on its first steps pays, as submission time."""
    if not evals or evals[0].get("step") != 1:
        return "first step: not measured"
    first, last = evals[0], evals[-1]
    text = f"first step {duration(first.get('submission_wall_time'))}"
    if last["step"] > 1:
        rest = (last["submission_wall_time"] - first["submission_wall_time"]) / (last["step"] - 1)
        text += f", then {duration(rest)} per step over {last['step'] - 1} more"
    return text + " (wall seconds of submission time: compilation inside the submission counts)"


def clock_time(seconds: float | None) -> str:
    """Elapsed wall time as a clock: ``4:05``, ``1:02:03``; ``–`` when unknown."""
    f = finite(seconds)
    if f is None:
        return DASH
    whole = int(round(f))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
