"""Schemas of the files optbench reads (pydantic), the field types they share, and the ONE formatter
that turns a refusal into one line: ``<file>: <key.path>: expected <what>, got <value>``
(``unknown key X; allowed keys: ...`` and ``missing required key X`` for the shape of a mapping).

This module holds the results files' schemas, trial.json and experiment.json; each input format's
schema lives beside the code that reads it (docs/design.md §8 lists them) and is built from the types
here: :class:`Closed` (frozen, unknown keys refused) and :func:`expect` (a strict check with the
hand-written "expected ..." wording: a boolean is not a number, a number is finite).

trial.json and experiment.json are written by optbench, but read back after a kill, a hand edit or a
copy from another machine: a ``study`` that is a string, a ``workload_hash`` that is a mapping, a plan
entry whose fields have the wrong types must become one line naming the file, the key and what was
expected (:func:`check`), not a pandas traceback in the middle of scoring. Extra keys are allowed here (the
formats grow); what scoring and resuming rely on is typed.
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, Literal, TypeVar, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    RootModel,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from optbench.errors import OptbenchError
from optbench.safeio import finite_number, show

Count = Annotated[StrictInt, Field(ge=0, le=2**53)]  #: a count pandas and numpy can hold
Seed = Annotated[StrictInt, Field(ge=-(2**63), le=2**63 - 1)]
Seconds = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class Closed(BaseModel):
    """Base of the schema of a format that is ours and closed: a key it does not name is refused (a typo
    must not fall back to a default and change what is measured), and the parsed value is frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def refuse(what: str) -> PydanticCustomError:
    """The error a validator raises: the formatter prints it as ``<key>: expected <what>, got <value>``."""
    return PydanticCustomError("expected", "expected {what}", {"what": what})


def expect(what: str, test: Callable[[Any], bool], convert: Callable[[Any], Any] = lambda v: v) -> PlainValidator:
    """A strict field check (no coercion): ``test(value)`` or the refusal "expected <what>"."""
    def validate(value: Any) -> Any:
        if not test(value):
            raise refuse(what)
        return convert(value)

    return PlainValidator(validate)


def _number(what: str, ok: Callable[[float], bool]) -> PlainValidator:
    def validate(value: Any) -> float:
        if not finite_number(value):
            raise refuse("a finite number")
        if not ok(value):
            raise refuse(what)
        return float(value)

    return PlainValidator(validate)


def integer(minimum: int = 1, maximum: int = 2**53) -> PlainValidator:
    """An int (not a bool) in ``[minimum, maximum]``; 2**53: a count pandas and JSON hold exactly."""
    bound = "2**53" if maximum == 2**53 else str(maximum)
    return expect(f"an integer >= {minimum} (and <= {bound})",
                  lambda v: isinstance(v, int) and not isinstance(v, bool) and minimum <= v <= maximum)


def one_of(*choices: str) -> PlainValidator:
    """One of ``choices`` (strings): "expected a, b or c"."""
    words = ", ".join(choices[:-1]) + f" or {choices[-1]}" if len(choices) > 1 else choices[0]
    return expect(words, lambda v: isinstance(v, str) and v in choices)


FiniteNumber = Annotated[float, _number("a finite number", lambda v: True)]
PositiveNumber = Annotated[float, _number("a number > 0", lambda v: v > 0)]
NonNegativeNumber = Annotated[float, _number("a number >= 0", lambda v: v >= 0)]
PositiveInt = Annotated[int, integer(1)]
NonEmptyStr = Annotated[str, expect("a non-empty string", lambda v: isinstance(v, str) and bool(v.strip()))]
StrictMapping = Annotated[dict, expect("a mapping", lambda v: isinstance(v, dict))]


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

#: pydantic's own error types, said the way optbench's messages say them ("expected <what>").
_WORDS = {
    "string_type": "a string", "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "bool_type": "true or false", "bool_parsing": "true or false", "float_type": "a number",
    "float_parsing": "a number", "finite_number": "a finite number", "dict_type": "a mapping",
    "list_type": "a list", "model_type": "a mapping", "model_attributes_type": "a mapping",
    "none_required": "nothing (null)",
}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def _expected(error: dict[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "expected":
        return error["msg"]
    if kind in _WORDS:
        return f"expected {_WORDS[kind]}"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', '')}".replace("'", "")
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()), "")
        return f"expected a number {_BOUNDS[kind]} {bound}"
    return error["msg"][:1].lower() + error["msg"][1:]


def _strip(annotation: Any) -> Any:
    """``X`` of ``Annotated[X, ...]``, ``X | None`` and a RootModel of ``X``."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) is Union or type(annotation).__name__ == "UnionType":
            annotation = next((a for a in get_args(annotation) if a is not type(None)), None)
        elif isinstance(annotation, type) and issubclass(annotation, RootModel):
            annotation = annotation.model_fields["root"].annotation
        else:
            return annotation


def _model_at(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that validated the mapping at ``loc`` (for the list of its allowed keys)."""
    annotation: Any = model
    for part in loc:
        annotation = _strip(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            annotation = field.annotation if field is not None else None
        elif get_origin(annotation) in (dict, list):  # a key of a mapping, an index of a list
            annotation = get_args(annotation)[-1] if get_args(annotation) else None
        else:
            return None
    annotation = _strip(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _allowed(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return sorted((f.alias or name) for name, f in model.model_fields.items())


def one_line(exc: ValidationError, source: str, model: type[BaseModel] | None = None) -> str:
    """The refusal, one line naming the file and the key. Of several mistakes the one said is the
    outermost: an unknown key, then a missing one, then a value (as the hand-written checks did)."""
    errors = exc.errors(include_url=False)
    rank = {"extra_forbidden": 0, "invalid_key": 0, "missing": 1}  # invalid_key: a key that is not a string
    # the outermost mapping first; unknown keys by name (as the hand-written checks sorted them), values in
    # the schema's order
    order = {id(e): i for i, e in enumerate(errors)}
    error = min(errors, key=lambda e: (len(e["loc"]) - (e["type"] in rank), rank.get(e["type"], 2),
                                       str(e["loc"]) if e["type"] in rank else "", order[id(e)]))
    loc = tuple(error["loc"])
    key = ".".join(str(part) for part in loc)
    if error["type"] in ("extra_forbidden", "invalid_key"):
        allowed = _allowed(_model_at(model, loc[:-1]))
        return f"{source}: unknown key {key}; allowed keys: {', '.join(allowed)}" if allowed else \
            f"{source}: unknown key {key}"
    if error["type"] == "missing":
        return f"{source}: missing required key {key}"
    return f"{source}: {key or '(top level)'}: {_expected(error)}, got {show(error.get('input'))}"


def check(model: type[M], data: Any, source: str) -> M:
    """``data`` as ``model``, or one line: ``<source>: <key>: expected <what>, got <value>``."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise OptbenchError(one_line(exc, source, model)) from None
