"""Reading a search space and checking hyperparameter values (docs/design.md §3).

Our ``search_space.yaml`` or AlgoPerf's ``tuning_search_space.json`` as it is, in either
of its forms:

- *dict form*: ``name -> {min, max, scaling: linear|log}`` (a range),
  ``name -> {feasible_points: [...]}`` (a discrete choice), or, in our YAML, a plain
  scalar or list (a constant, passed through unchanged);
- *list form*: a list of explicit points; trial ``i`` of every study gets point ``i``,
  in file order, and asking for more trials than there are points is an error.

Every bad input raises :class:`~optbench.errors.OptbenchError` with one line: the
file, the key, what is wrong and what to do. YAML is read with two YAML 1.2 fixes
to PyYAML's YAML 1.1 rules, because both bite hyperparameters: ``1e-4`` is a float
(not the string ``"1e-4"``) and only ``true``/``false`` are booleans (``no``/``on``
stay strings). Duplicate keys are an error rather than "the last one wins".

The same checks serve every other place a hyperparameter value comes from: ``--hparams
k=v,...`` (:func:`parse_hparams_override`), submission.yaml's defaults
(:func:`parse_hparams_values`) and the names a submission declares (:func:`check_names`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from optbench import safeio
from optbench.errors import OptbenchError
from optbench.spec import Hyperparameter, SearchSpace

RANGE_KEYS = frozenset({"min", "max", "scaling"})
DISCRETE_KEYS = frozenset({"feasible_points"})
SCALINGS = ("linear", "log")
_SCALARS = (bool, int, float, str)
_MAX_SHOWN = 60  #: characters of a user's value quoted in an error message


# --------------------------------------------------------------------------- YAML


def _yaml_load(text: str, source: str) -> Any:
    """Parse YAML text through the shared safe reader (no aliases, no duplicate keys, YAML 1.2 numbers)."""
    return safeio.load_yaml(text, source)


def _json_load(text: str, source: str) -> Any:
    """Parse JSON text, refusing duplicate keys (json's default keeps the last silently)."""
    return safeio.load_json(text, source)


# ---------------------------------------------------------------- reading spaces


def load_search_space(path: str | Path) -> SearchSpace:
    """Read ``search_space.yaml``/``.yml`` or AlgoPerf's ``tuning_search_space.json``.

    The suffix picks the parser; the structure is checked by :func:`parse_search_space`.
    An empty YAML file is an empty space: every trial gets only the submission's defaults.
    """
    path = Path(path)
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise OptbenchError(f"{source}: unknown search-space format {suffix or '(no suffix)'!r}; "
                            "use a .yaml, .yml or .json file")
    text = safeio.read_text(path)
    data = _json_load(text, source) if suffix == ".json" else _yaml_load(text, source)
    return parse_search_space({} if data is None else data, source)


def parse_search_space(data: Any, source: str) -> SearchSpace:
    """Check already-loaded data and build a :class:`SearchSpace`.

    A mapping is the dict form (one :class:`Hyperparameter` per key, in file order);
    a list is AlgoPerf's list form (explicit points). ``source`` names the file in errors.
    """
    if isinstance(data, Mapping):
        return SearchSpace(params=tuple(_parse_entry(name, value, source) for name, value in data.items()))
    if isinstance(data, list):
        return SearchSpace(points=_parse_point_list(data, source))
    raise OptbenchError(f"{source}: a search space must be a mapping of hyperparameters or a list of points, "
                        f"not {_type_name(data)}; see docs/design.md §3")


def _parse_point_list(data: list[Any], source: str) -> tuple[dict[str, Any], ...]:
    """AlgoPerf's list form: each element is one trial's full set of hyperparameters."""
    if not data:
        raise OptbenchError(f"{source}: the list of points is empty; add at least one point "
                            "or use the mapping form")
    points = []
    for i, point in enumerate(data):
        where = f"{source}: point {i}"
        if not isinstance(point, Mapping):
            raise OptbenchError(f"{where}: must be a mapping name -> value, not {_type_name(point)}; "
                                "write e.g. {\"learning_rate\": 0.001}")
        for name, value in point.items():
            _check_name(name, source)
            _check_value(value, f"{where}: {name}")
        points.append(dict(point))
    return tuple(points)


def _parse_entry(name: Any, value: Any, source: str) -> Hyperparameter:
    """One dict-form entry: a range, a discrete choice, or a constant."""
    _check_name(name, source)
    where = f"{source}: {name}"
    if not isinstance(value, Mapping):
        _check_value(value, where)
        return Hyperparameter(name=name, value=value)
    keys = set(value)
    unknown = keys - RANGE_KEYS - DISCRETE_KEYS
    if unknown:
        raise OptbenchError(f"{where}: unknown key(s) {join_names(unknown)}; use min/max/scaling or "
                            "feasible_points (a constant is written as a plain value)")
    if keys & RANGE_KEYS and keys & DISCRETE_KEYS:
        raise OptbenchError(f"{where}: mixes feasible_points with {join_names(keys & RANGE_KEYS)}; "
                            "give either min/max/scaling or feasible_points, not both")
    if DISCRETE_KEYS <= keys:
        return _parse_discrete(name, value["feasible_points"], where)
    if keys:
        return _parse_range(name, value, where)
    raise OptbenchError(f"{where}: empty mapping; give min/max/scaling, feasible_points or a constant value")


def _parse_discrete(name: str, points: Any, where: str) -> Hyperparameter:
    if not isinstance(points, list):
        raise OptbenchError(f"{where}: feasible_points must be a list, not {_type_name(points)}; "
                            "write e.g. feasible_points: [0.9, 0.95]")
    if not points:
        raise OptbenchError(f"{where}: feasible_points is empty; list at least one value")
    for i, point in enumerate(points):
        _check_value(point, f"{where}: feasible_points[{i}]")
    return Hyperparameter(name=name, feasible_points=tuple(points))


def _parse_range(name: str, spec: Mapping[str, Any], where: str) -> Hyperparameter:
    missing = [key for key in ("min", "max", "scaling") if key not in spec]
    if missing:
        raise OptbenchError(f"{where}: missing {join_names(missing)}; a range needs min, max and "
                            "scaling (linear or log)")
    low = _bound(spec["min"], f"{where}: min")
    high = _bound(spec["max"], f"{where}: max")
    scaling = spec["scaling"]
    if scaling not in SCALINGS:
        raise OptbenchError(f"{where}: unknown scaling {quote_value(scaling)}; use linear or log")
    if low > high:
        raise OptbenchError(f"{where}: min ({low!r}) > max ({high!r}); swap them")
    if scaling == "log" and low <= 0:
        raise OptbenchError(f"{where}: log scaling needs positive bounds, got min={low!r}; "
                            "use a positive min or scaling: linear")
    return Hyperparameter(name=name, min=low, max=high, scaling=scaling)


def _bound(value: Any, where: str) -> float:
    """A range bound: a finite int or float (bools and quoted numbers are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OptbenchError(f"{where}: must be a number, not {_type_name(value)} {quote_value(value)}; "
                            "write e.g. 1.0e-3 without quotes")
    if not safeio.finite_number(value):
        raise OptbenchError(f"{where}: must be finite, got {quote_value(value)}; give a finite bound")
    return float(value)


def _check_name(name: Any, source: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise OptbenchError(f"{source}: hyperparameter name {quote_value(name)} must be a non-empty string; "
                            "rename the key")


def _check_value(value: Any, where: str) -> None:
    """A constant or feasible point must be plain data a submission can use: no nulls, no dates."""
    if value is None:
        raise OptbenchError(f"{where}: is null; give a value, or remove the key to use the "
                            "submission's default")
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_value(item, f"{where}[{i}]")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_value(item, f"{where}: {key}")
    elif not isinstance(value, _SCALARS):
        raise OptbenchError(f"{where}: {_type_name(value)} {quote_value(value)} is not a number, bool, string "
                            "or list; quote it to pass it as a string")
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and not safeio.finite_number(value):
        raise OptbenchError(f"{where}: {quote_value(value)} is not a finite number; give a finite value")
    elif isinstance(value, str) and value.strip().lower().lstrip("+-.") in ("nan", "inf", "infinity"):
        raise OptbenchError(f"{where}: {quote_value(value)} is not a finite number (a submission would read it as one); "
                            "give a finite value")


def parse_hparams_values(values: Mapping[Any, Any], source: str) -> dict[str, Any]:
    """A mapping of hyperparameter values (submission.yaml's defaults, a point): names are strings, values
    finite numbers, booleans, strings or lists of them."""
    for name, value in values.items():
        _check_name(name, source)
        _check_value(value, f"{source}: {name}")
    return dict(values)


def check_names(space: SearchSpace | Mapping[str, Any], allowed: set[str], source: str) -> None:
    """Refuse hyperparameters a submission does not accept (when it declares which it does).

    A misspelt name would otherwise be sampled, passed and silently ignored, so the
    trial would run with the default while the results claim it was tuned. Also takes a
    plain mapping, e.g. the result of :func:`parse_hparams_override`.
    """
    names = space.names if isinstance(space, SearchSpace) else tuple(space)
    unknown = [name for name in names if name not in allowed]
    if not unknown:
        return
    hints = [f"{name!r} -> {close[0]!r}" for name in unknown
             if (close := difflib.get_close_matches(name, sorted(allowed), n=1)
                 or [k for k in sorted(allowed, key=len, reverse=True) if len(k) > 2 and (k in name or name in k)])]
    hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
    accepted = join_names(sorted(allowed)) if allowed else "none"
    raise OptbenchError(f"{source}: unknown hyperparameter(s) {join_names(unknown)} for this submission{hint}; "
                        f"it accepts: {accepted}")


# ------------------------------------------------------------------ --hparams


def parse_hparams_override(text: str, source: str = "--hparams") -> dict[str, Any]:
    """Parse ``k=v,k2=v2`` into a dict with YAML-typed values.

    ``lr=1e-3`` is a float, ``nesterov=true`` a bool, ``schedule=cosine`` a string,
    ``betas=[0.9, 0.99]`` a list (commas inside brackets or quotes do not split).
    Empty pieces (a trailing comma) are ignored.
    """
    out: dict[str, Any] = {}
    for piece in _split_top_level(text, source):
        if not piece.strip():
            continue
        key, sep, raw = piece.partition("=")
        key = key.strip()
        if not sep or not key or any(ch.isspace() for ch in key):
            raise OptbenchError(f"{source}: {quote_value(piece.strip())} is not key=value; "
                                "write e.g. --hparams learning_rate=0.001,beta1=0.9")
        if key in out:
            raise OptbenchError(f"{source}: {key!r} is given twice; keep one")
        value = _yaml_load(raw.strip(), f"{source}: {key}")
        if value is None:
            raise OptbenchError(f"{source}: {key!r} has no value; write {key}=<value>")
        _check_value(value, f"{source}: {key}")
        out[key] = value
    return out


def _split_top_level(text: str, source: str) -> list[str]:
    """Split on commas that are outside brackets, braces and quotes."""
    pieces, current, depth, quote = [], [], 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    if quote or depth:
        raise OptbenchError(f"{source}: unbalanced quotes or brackets in {quote_value(text)}; close them")
    pieces.append("".join(current))
    return pieces


# ---------------------------------------------------------------------- messages


def join_names(items: Iterable[Any]) -> str:
    """Names for an error message: ``a, b, c``."""
    return ", ".join(str(item) for item in items)


def _type_name(value: Any) -> str:
    return {type(None): "null", dict: "a mapping", list: "a list", str: "a string"}.get(
        type(value), type(value).__name__
    )


def quote_value(value: Any) -> str:
    """A user's value, quoted on one short line (error messages are one line)."""
    return safeio.show(value, _MAX_SHOWN).replace("\n", "\\n")
