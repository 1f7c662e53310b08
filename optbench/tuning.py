"""Search spaces, quasi-random hyperparameter points and ruleset presets (docs/design.md §3).

Three jobs, kept apart so each can be tested alone:

1. **Reading a search space** — our ``search_space.yaml`` or AlgoPerf's
   ``tuning_search_space.json`` as it is, in either of its forms:

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

2. **Drawing points** — a seeded, scrambled Halton sequence
   (``scipy.stats.qmc.Halton``), one dimension per hyperparameter that varies, mapped
   to values exactly as AlgoPerf's ``halton.py`` maps them: log ranges
   ``min * exp(u * ln(max/min))``, linear ranges ``min + u * (max - min)``, discrete
   choices element ``floor(u * n)``; constants are passed through. Only hyperparameters
   that *vary* take a dimension, so writing a fixed value as a constant, a one-point
   list or ``min == max`` gives the same points for the others.

   **Studies — our default and why.** Each study draws its own points from its own
   seed (:func:`study_seed`). A study is meant to be an independent repetition of the
   whole tuning procedure, and the median over studies is what the score reports; with
   fresh points per study that median measures how sensitive a submission is to *which*
   hyperparameters random search happens to find, which is the point of repeating.
   AlgoPerf's harness in fact gives every study the same points (its Halton shifts are
   seeded by the prime bases, not the study), only in a new order, so its studies differ
   only in training randomness. ``same_points_per_study=True`` (the CLI's
   ``--same-points-per-study``) reproduces that: every study gets the points of the
   base seed, in a study-specific shuffled order. Either way the same seed always gives
   the same points. List-form spaces ignore both: their points are used in file order.

3. **Ruleset presets** — ``algoperf-v06`` (the default) and ``algoperf-v05``: trials,
   studies and the self-tuning budget multiplier, each overridable
   (:func:`resolve_ruleset`). Self-tuning runs one trial per study and passes no
   hyperparameters: the submission uses its own defaults.

This module imports neither torch nor pandas, and ``import optbench`` does not import
it; scipy is imported only when points are drawn, so reading presets stays cheap.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from optbench import safeio
from optbench.errors import OptbenchError
from optbench.spec import Hyperparameter, SearchSpace

Ruleset = Literal["external", "self"]

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
        raise OptbenchError(f"{where}: unknown key(s) {_names(unknown)}; use min/max/scaling or "
                            "feasible_points (a constant is written as a plain value)")
    if keys & RANGE_KEYS and keys & DISCRETE_KEYS:
        raise OptbenchError(f"{where}: mixes feasible_points with {_names(keys & RANGE_KEYS)}; "
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
        raise OptbenchError(f"{where}: missing {_names(missing)}; a range needs min, max and "
                            "scaling (linear or log)")
    low = _bound(spec["min"], f"{where}: min")
    high = _bound(spec["max"], f"{where}: max")
    scaling = spec["scaling"]
    if scaling not in SCALINGS:
        raise OptbenchError(f"{where}: unknown scaling {_show(scaling)}; use linear or log")
    if low > high:
        raise OptbenchError(f"{where}: min ({low!r}) > max ({high!r}); swap them")
    if scaling == "log" and low <= 0:
        raise OptbenchError(f"{where}: log scaling needs positive bounds, got min={low!r}; "
                            "use a positive min or scaling: linear")
    return Hyperparameter(name=name, min=low, max=high, scaling=scaling)


def _bound(value: Any, where: str) -> float:
    """A range bound: a finite int or float (bools and quoted numbers are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OptbenchError(f"{where}: must be a number, not {_type_name(value)} {_show(value)}; "
                            "write e.g. 1.0e-3 without quotes")
    if not safeio.finite_number(value):
        raise OptbenchError(f"{where}: must be finite, got {_show(value)}; give a finite bound")
    return float(value)


def _check_name(name: Any, source: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise OptbenchError(f"{source}: hyperparameter name {_show(name)} must be a non-empty string; "
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
        raise OptbenchError(f"{where}: {_type_name(value)} {_show(value)} is not a number, bool, string "
                            "or list; quote it to pass it as a string")
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and not safeio.finite_number(value):
        raise OptbenchError(f"{where}: {_show(value)} is not a finite number; give a finite value")
    elif isinstance(value, str) and value.strip().lower().lstrip("+-.") in ("nan", "inf", "infinity"):
        raise OptbenchError(f"{where}: {_show(value)} is not a finite number (a submission would read it as one); "
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
    accepted = _names(sorted(allowed)) if allowed else "none"
    raise OptbenchError(f"{source}: unknown hyperparameter(s) {_names(unknown)} for this submission{hint}; "
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
            raise OptbenchError(f"{source}: {_show(piece.strip())} is not key=value; "
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
        raise OptbenchError(f"{source}: unbalanced quotes or brackets in {_show(text)}; close them")
    pieces.append("".join(current))
    return pieces


# ---------------------------------------------------------------------- points


def map_unit(param: Hyperparameter, u: float) -> Any:
    """Map one coordinate ``u`` in [0, 1) to a value of ``param``, as AlgoPerf's halton.py does.

    Ranges are clamped to [min, max] so that rounding in ``exp``/``log`` can never step
    outside the declared bounds; the discrete index is clamped to n - 1 for ``u == 1``.
    """
    if param.kind == "constant":
        return copy.deepcopy(param.value)
    if param.kind == "discrete":
        points = param.feasible_points or ()
        index = min(math.floor(u * len(points)), len(points) - 1)
        return copy.deepcopy(points[max(index, 0)])
    low, high = float(param.min), float(param.max)  # type: ignore[arg-type]
    if param.scaling == "log":
        value = low * math.exp(u * math.log(high / low))
    else:
        value = low + u * (high - low)
    return min(max(value, low), high)


def _varies(param: Hyperparameter) -> bool:
    """Whether ``param`` takes a Halton dimension (a fixed value takes none)."""
    if param.kind == "discrete":
        return len(param.feasible_points or ()) > 1
    return param.kind == "range" and param.min != param.max


def _halton(d: int, n: int, seed: int) -> np.ndarray:
    """``n`` points of a scrambled ``d``-dimensional Halton sequence, in [0, 1)^d."""
    from scipy.stats import qmc  # here, not at the top: scipy.stats costs ~0.5 s to import

    rng = np.random.default_rng(seed)  # a Generator means the same stream in every scipy version
    try:
        sampler = qmc.Halton(d, scramble=True, rng=rng)
    except TypeError:  # scipy < 1.15 calls it seed
        sampler = qmc.Halton(d, scramble=True, seed=rng)
    return sampler.random(n)


def sample_points(space: SearchSpace, n: int, seed: int, *, source: str = "search space") -> list[dict[str, Any]]:
    """``n`` hyperparameter points for one study, deterministic in ``seed``.

    Dict form: a scrambled Halton sequence over the hyperparameters that vary, mapped
    by :func:`map_unit`. List form: the first ``n`` points in file order (``seed`` is
    not used). ``source`` names the file when ``n`` is more than the list holds.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise OptbenchError(f"{source}: number of trials must be a whole number >= 0, got {n!r}")
    if space.points is not None:
        return _take_points(space.points, n, source)
    varying = [p for p in space.params if _varies(p)]
    units = _halton(len(varying), n, seed) if varying and n else np.zeros((n, 0))
    column = {p.name: j for j, p in enumerate(varying)}
    return [
        {p.name: map_unit(p, float(row[column[p.name]]) if p.name in column else 0.0) for p in space.params}
        for row in units
    ]


def _take_points(points: tuple[dict[str, Any], ...], n: int, source: str) -> list[dict[str, Any]]:
    if n > len(points):
        raise OptbenchError(f"{source}: the list of points holds {len(points)} but {n} trials were asked for; "
                            f"use --trials {len(points)} or fewer, or add points")
    return [copy.deepcopy(point) for point in points[:n]]


def study_seed(base_seed: int, study: int) -> int:
    """The seed of study ``study`` of an experiment seeded ``base_seed``: stable everywhere.

    A hash, not ``base_seed + study``, so that neighbouring base seeds do not share
    studies (seed 0's study 1 would otherwise be seed 1's study 0).
    """
    digest = hashlib.sha256(f"optbench-study:{int(base_seed)}:{int(study)}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def study_points(
    space: SearchSpace,
    n: int,
    base_seed: int,
    study: int,
    *,
    same_points_per_study: bool = False,
    source: str = "search space",
) -> list[dict[str, Any]]:
    """The ``n`` points of one study (see the module docstring for the two policies).

    Default: drawn from :func:`study_seed`. ``same_points_per_study``: the points of
    ``base_seed``, permuted by the study's seed — AlgoPerf's behaviour. List form: the
    file's points in order, in every study.
    """
    if space.points is not None:
        return sample_points(space, n, base_seed, source=source)
    seed = study_seed(base_seed, study)
    if not same_points_per_study:
        return sample_points(space, n, seed, source=source)
    points = sample_points(space, n, base_seed, source=source)
    order = np.random.default_rng(seed).permutation(n)
    return [points[i] for i in order]


# ---------------------------------------------------------------------- rulesets


@dataclass(frozen=True)
class Preset:
    """A published ruleset's numbers: external-tuning trials per study, studies, and how
    much longer a self-tuning submission may train (it pays for its own tuning)."""

    name: str
    trials: int
    studies: int
    self_tuning_budget_multiplier: float


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("algoperf-v06", trials=5, studies=3, self_tuning_budget_multiplier=1.5),
        Preset("algoperf-v05", trials=5, studies=5, self_tuning_budget_multiplier=3.0),
    )
}
DEFAULT_PRESET = "algoperf-v06"


@dataclass(frozen=True)
class ResolvedRuleset:
    """What a run will do, after the preset and the flags are combined (goes in experiment.json)."""

    preset: str
    ruleset: Ruleset
    trials: int  #: per study; always 1 for self-tuning
    studies: int
    budget_multiplier: float  #: 1.0 for external tuning unless overridden

    @property
    def passes_hparams(self) -> bool:
        """Self-tuning passes none: the submission uses its own defaults."""
        return self.ruleset == "external"


def resolve_ruleset(
    preset_name: str | None,
    ruleset: str,
    trials: int | None = None,
    studies: int | None = None,
    budget_multiplier: float | None = None,
) -> ResolvedRuleset:
    """Combine a preset with the flags; a flag that is given (not None) wins.

    Self-tuning runs exactly one trial per study; ``--trials`` other than 1 is refused
    rather than ignored, so a command line never claims something that did not happen.
    """
    name = DEFAULT_PRESET if preset_name is None else preset_name
    if name not in PRESETS:
        raise OptbenchError(f"--preset: unknown preset {_show(name)}; known: {_names(PRESETS)}")
    if ruleset not in ("external", "self"):
        raise OptbenchError(f"--ruleset: unknown ruleset {_show(ruleset)}; use external or self")
    preset = PRESETS[name]
    if trials is not None:
        _positive_int(trials, "--trials")
    if studies is not None:
        _positive_int(studies, "--studies")
    if budget_multiplier is not None:
        _positive_float(budget_multiplier, "--budget-multiplier")
    if ruleset == "self":
        if trials not in (None, 1):
            raise OptbenchError(f"--trials: self-tuning runs one trial per study, got {trials}; "
                                "drop --trials or use --ruleset external")
        default_multiplier, trials = preset.self_tuning_budget_multiplier, 1
    else:
        default_multiplier = 1.0
    return ResolvedRuleset(
        preset=name,
        ruleset=ruleset,  # type: ignore[arg-type]
        trials=preset.trials if trials is None else trials,
        studies=preset.studies if studies is None else studies,
        budget_multiplier=float(default_multiplier if budget_multiplier is None else budget_multiplier),
    )


def _positive_int(value: Any, flag: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptbenchError(f"{flag}: must be a whole number >= 1, got {value!r}")


def _positive_float(value: Any, flag: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise OptbenchError(f"{flag}: must be a finite number > 0, got {value!r}")


# ---------------------------------------------------------------------- helpers


def _names(items: Iterable[Any]) -> str:
    return ", ".join(str(item) for item in items)


def _type_name(value: Any) -> str:
    return {type(None): "null", dict: "a mapping", list: "a list", str: "a string"}.get(
        type(value), type(value).__name__
    )


def _show(value: Any) -> str:
    """A user's value, quoted on one short line (error messages are one line)."""
    return safeio.show(value, _MAX_SHOWN).replace("\n", "\\n")
