"""Tests for optbench.tuning (spaces, points, rulesets): parsing, validation, quasi-random points, ruleset presets."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench.errors import OptbenchError
from optbench.spec import Hyperparameter, SearchSpace
from optbench.tuning.points import map_unit, sample_points, study_points, study_seed
from optbench.tuning.rulesets import PRESETS, resolve_ruleset
from optbench.tuning.spaces import check_names, load_search_space, parse_hparams_override, parse_search_space

YAML_SPACE = """\
learning_rate: {min: 1e-4, max: 1.0e-2, scaling: log}
weight_decay:  {min: 0.0, max: 0.1, scaling: linear}
beta1:         {feasible_points: [0.9, 0.95]}
warmup_fraction: 0.05
betas: [0.9, 0.999]
"""

ALGOPERF_DICT = {
    "learning_rate": {"min": 1e-4, "max": 1e-2, "scaling": "log"},
    "one_minus_beta1": {"min": 4e-3, "max": 0.1, "scaling": "log"},
    "beta2": {"feasible_points": [0.999]},
    "label_smoothing": {"feasible_points": [0.1, 0.2]},
}

ALGOPERF_LIST = [
    {"learning_rate": 1e-3, "one_minus_beta_1": 0.999},
    {"learning_rate": 1e-2, "one_minus_beta_1": 0.99},
    {"learning_rate": 1e-1, "one_minus_beta_1": 0.9},
]

SPACE = parse_search_space(
    {
        "learning_rate": {"min": 1e-4, "max": 1e-1, "scaling": "log"},
        "dropout": {"min": 0.0, "max": 0.5, "scaling": "linear"},
        "label_smoothing": {"feasible_points": [0.0, 0.1, 0.2]},
        "warmup": 0.05,
    },
    "test",
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ parsing


def test_yaml_file_parses_every_form(tmp_path: Path) -> None:
    space = load_search_space(write(tmp_path, "search_space.yaml", YAML_SPACE))
    by_name = {p.name: p for p in space.params}
    assert space.names == ("learning_rate", "weight_decay", "beta1", "warmup_fraction", "betas")
    lr = by_name["learning_rate"]
    assert (lr.kind, lr.min, lr.max, lr.scaling) == ("range", 1e-4, 1e-2, "log")  # 1e-4 is a float
    assert by_name["beta1"].feasible_points == (0.9, 0.95)
    assert by_name["warmup_fraction"].kind == "constant" and by_name["warmup_fraction"].value == 0.05
    assert by_name["betas"].value == [0.9, 0.999]
    points = sample_points(space, 4, seed=0)
    assert all(p["betas"] == [0.9, 0.999] and p["warmup_fraction"] == 0.05 for p in points)


def test_yml_suffix_and_empty_file(tmp_path: Path) -> None:
    assert load_search_space(write(tmp_path, "s.yml", "")) == SearchSpace()
    assert sample_points(SearchSpace(), 3, seed=1) == [{}, {}, {}]


def test_yaml_booleans_are_yaml_1_2(tmp_path: Path) -> None:
    space = load_search_space(write(tmp_path, "s.yaml", "nesterov: true\nschedule: no\n"))
    assert {p.name: p.value for p in space.params} == {"nesterov": True, "schedule": "no"}


def test_algoperf_json_dict_form(tmp_path: Path) -> None:
    space = load_search_space(write(tmp_path, "tuning_search_space.json", json.dumps(ALGOPERF_DICT)))
    assert space.names == tuple(ALGOPERF_DICT)
    points = sample_points(space, 5, seed=3)
    assert all(p["beta2"] == 0.999 and p["label_smoothing"] in (0.1, 0.2) for p in points)


def test_algoperf_json_list_form_used_in_order(tmp_path: Path) -> None:
    space = load_search_space(write(tmp_path, "tuning_search_space.json", json.dumps(ALGOPERF_LIST)))
    assert space.names == ("learning_rate", "one_minus_beta_1")
    assert sample_points(space, 3, seed=0) == ALGOPERF_LIST
    assert sample_points(space, 2, seed=99) == ALGOPERF_LIST[:2]
    for study in range(3):  # every study, either policy: the file's order
        assert study_points(space, 3, 7, study) == ALGOPERF_LIST
        assert study_points(space, 3, 7, study, same_points_per_study=True) == ALGOPERF_LIST


def test_list_form_more_trials_than_points(tmp_path: Path) -> None:
    path = write(tmp_path, "tuning_search_space.json", json.dumps(ALGOPERF_LIST))
    space = load_search_space(path)
    with pytest.raises(OptbenchError, match=r"holds 3 but 5 trials.*--trials 3"):
        sample_points(space, 5, seed=0, source=str(path))
    with pytest.raises(OptbenchError, match="tuning_search_space.json"):
        study_points(space, 4, 0, 0, source=str(path))


def test_sampled_points_do_not_alias_the_space() -> None:
    space = parse_search_space({"betas": [0.9, 0.99]}, "t")
    sample_points(space, 1, seed=0)[0]["betas"].append(1.0)
    assert sample_points(space, 1, seed=0)[0]["betas"] == [0.9, 0.99]


# --------------------------------------------------------------- bad input

BAD_YAML = {
    "min_gt_max": ("lr: {min: 0.1, max: 0.01, scaling: linear}", r"lr: min \(0.1\) > max \(0.01\)"),
    "log_zero": ("lr: {min: 0.0, max: 0.1, scaling: log}", "lr: log scaling needs positive bounds"),
    "log_negative": ("lr: {min: -1.0, max: 0.1, scaling: log}", "log scaling needs positive"),
    "unknown_scaling": ("lr: {min: 0.1, max: 1.0, scaling: exp}", "lr: unknown scaling 'exp'"),
    "missing_scaling": ("lr: {min: 0.1, max: 1.0}", "lr: missing scaling"),
    "missing_max": ("lr: {min: 0.1, scaling: log}", "lr: missing max"),
    "empty_feasible": ("b1: {feasible_points: []}", "b1: feasible_points is empty"),
    "feasible_not_list": ("b1: {feasible_points: 0.9}", "b1: feasible_points must be a list"),
    "mixed_keys": ("b1: {feasible_points: [0.9], min: 0.1}", "b1: mixes feasible_points with min"),
    "unknown_key": ("lr: {min: 0.1, max: 1.0, scaling: log, step: 2}", r"lr: unknown key\(s\) step"),
    "empty_mapping": ("lr: {}", "lr: empty mapping"),
    "string_bound": ("lr: {min: 'a', max: 1.0, scaling: linear}", "lr: min: must be a number"),
    "bool_bound": ("lr: {min: 0.1, max: true, scaling: linear}", "lr: max: must be a number"),
    "inf_bound": ("lr: {min: 0.1, max: .inf, scaling: linear}", "lr: max: must be finite"),
    "null_constant": ("lr: null", "lr: is null"),
    "null_feasible": ("b1: {feasible_points: [0.9, null]}", r"b1: feasible_points\[1\]: is null"),
    "date_constant": ("day: 2020-01-01", "day: date"),
    "int_key": ("1: 0.5", "hyperparameter name 1"),
    "scalar_file": ("0.5", "must be a mapping of hyperparameters or a list of points"),
    "duplicate_key": ("lr: 0.1\nlr: 0.2", "duplicate key 'lr'"),
    "syntax": ("lr: {min: 0.1", "not valid YAML at line"),
    "empty_list": ("[]", "the list of points is empty"),
    "list_of_scalars": ("[0.1, 0.2]", "point 0: must be a mapping"),
}


@pytest.mark.parametrize("case", sorted(BAD_YAML))
def test_bad_yaml_one_line_error_with_file_name(tmp_path: Path, case: str) -> None:
    text, pattern = BAD_YAML[case]
    path = write(tmp_path, "search_space.yaml", text + "\n")
    with pytest.raises(OptbenchError, match=pattern) as info:
        load_search_space(path)
    message = str(info.value)
    assert message.startswith(str(path) + ":")
    assert "\n" not in message


BAD_JSON = {
    "min_gt_max": ('{"lr": {"min": 1, "max": 0, "scaling": "linear"}}', "min .* > max"),
    "log_zero": ('{"lr": {"min": 0, "max": 1, "scaling": "log"}}', "log scaling needs positive"),
    "nan_bound": ('{"lr": {"min": NaN, "max": 1, "scaling": "linear"}}', "must be finite"),
    "duplicate": ('{"lr": 0.1, "lr": 0.2}', "duplicate key 'lr'"),
    "syntax": ('{"lr": ', "not valid JSON at line 1"),
    "null_point": ('[{"lr": null}]', "point 0: lr: is null"),
}


@pytest.mark.parametrize("case", sorted(BAD_JSON))
def test_bad_json_one_line_error_with_file_name(tmp_path: Path, case: str) -> None:
    text, pattern = BAD_JSON[case]
    path = write(tmp_path, "tuning_search_space.json", text)
    with pytest.raises(OptbenchError, match=pattern) as info:
        load_search_space(path)
    assert str(info.value).startswith(str(path) + ":") and "\n" not in str(info.value)


def test_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(OptbenchError, match="nope.yaml: no such file"):
        load_search_space(tmp_path / "nope.yaml")
    with pytest.raises(OptbenchError, match=r"space.toml: unknown search-space format '.toml'"):
        load_search_space(write(tmp_path, "space.toml", "a = 1"))
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(OptbenchError, match="dir.yaml: is a folder"):
        load_search_space(tmp_path / "dir.yaml")


def test_check_names(tmp_path: Path) -> None:
    space = load_search_space(write(tmp_path, "search_space.yaml", YAML_SPACE))
    allowed = {"learning_rate", "weight_decay", "beta1", "beta2", "warmup_fraction", "betas"}
    check_names(space, allowed, "x")  # all known: no error
    with pytest.raises(OptbenchError, match=r"search_space.yaml: unknown hyperparameter\(s\) learning_rat.*"
                                            r"did you mean 'learning_rat' -> 'learning_rate'"):
        check_names(parse_search_space({"learning_rat": 0.1}, str(tmp_path / "search_space.yaml")),
                    allowed, str(tmp_path / "search_space.yaml"))
    with pytest.raises(OptbenchError, match="--hparams: unknown hyperparameter.*it accepts: beta1"):
        check_names(parse_hparams_override("beta3=0.9"), {"beta1"}, "--hparams")
    list_space = parse_search_space(ALGOPERF_LIST, "t.json")
    with pytest.raises(OptbenchError, match="t.json: unknown hyperparameter.*one_minus_beta_1"):
        check_names(list_space, {"learning_rate"}, "t.json")


# ----------------------------------------------------------------- --hparams


def test_parse_hparams_override_types() -> None:
    parsed = parse_hparams_override("lr=1e-3, steps=100,nesterov=true,flag=False,schedule=cosine,"
                                    "betas=[0.9, 0.99],name='a,b',")
    assert parsed == {"lr": 0.001, "steps": 100, "nesterov": True, "flag": False, "schedule": "cosine",
                      "betas": [0.9, 0.99], "name": "a,b"}
    assert type(parsed["lr"]) is float and type(parsed["steps"]) is int
    assert parse_hparams_override("") == {}
    assert parse_hparams_override("opt=no") == {"opt": "no"}


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("lr", "'lr' is not key=value"),
        ("=0.1", "is not key=value"),
        ("lr=", "'lr' has no value"),
        ("lr=null", "'lr' has no value"),
        ("lr=0.1,lr=0.2", "'lr' is given twice"),
        ("betas=[0.9,0.99", "unbalanced quotes or brackets"),
        ("x={a: [1}", "unbalanced"),
        ("x=a: b: c", "--hparams: x: not valid YAML"),
    ],
)
def test_parse_hparams_override_errors(text: str, pattern: str) -> None:
    with pytest.raises(OptbenchError, match=pattern) as info:
        parse_hparams_override(text)
    assert str(info.value).startswith("--hparams") and "\n" not in str(info.value)


# -------------------------------------------------------- mapping properties

unit = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
log_ranges = st.tuples(
    st.floats(min_value=1e-10, max_value=1e3), st.floats(min_value=1.0, max_value=1e8)
).map(lambda t: Hyperparameter("x", min=t[0], max=t[0] * t[1], scaling="log"))
linear_ranges = st.tuples(
    st.floats(min_value=-1e6, max_value=1e6), st.floats(min_value=0.0, max_value=1e6)
).map(lambda t: Hyperparameter("x", min=t[0], max=t[0] + t[1], scaling="linear"))
discretes = st.lists(st.one_of(st.integers(), st.text(max_size=5), st.booleans()), min_size=1, max_size=8).map(
    lambda xs: Hyperparameter("x", feasible_points=tuple(xs))
)


@given(param=st.one_of(log_ranges, linear_ranges), u=unit)
def test_range_points_inside_bounds(param: Hyperparameter, u: float) -> None:
    value = map_unit(param, u)
    assert isinstance(value, float)
    assert param.min <= value <= param.max


@given(param=st.one_of(log_ranges, linear_ranges), u1=unit, u2=unit)
def test_range_mapping_is_monotone(param: Hyperparameter, u1: float, u2: float) -> None:
    lo, hi = sorted((u1, u2))
    assert map_unit(param, lo) <= map_unit(param, hi)


@given(param=log_ranges)
def test_log_mapping_is_uniform_in_log_space(param: Hyperparameter) -> None:
    assert map_unit(param, 0.0) == pytest.approx(param.min, rel=1e-12)
    assert map_unit(param, 0.5) == pytest.approx(math.sqrt(param.min * param.max), rel=1e-9)
    # equal steps in u are equal ratios in value
    a, b, c = (map_unit(param, u) for u in (0.2, 0.4, 0.6))
    assert b / a == pytest.approx(c / b, rel=1e-9)


@given(param=linear_ranges)
def test_linear_mapping_midpoint(param: Hyperparameter) -> None:
    assert map_unit(param, 0.5) == pytest.approx((param.min + param.max) / 2, rel=1e-9, abs=1e-6)


@given(param=discretes, u=st.floats(min_value=0.0, max_value=1.0))
def test_discrete_picks_only_feasible_points(param: Hyperparameter, u: float) -> None:
    points = param.feasible_points
    value = map_unit(param, u)
    assert value in points
    if u < 1.0:  # element floor(u * n), as AlgoPerf; u == 1 is clamped to the last
        assert value == points[math.floor(u * len(points))]


def test_log_points_fill_log_space_evenly() -> None:
    """16 scrambled-Halton points of a 1-d log range: one in each 1/16 of log space."""
    space = parse_search_space({"lr": {"min": 1e-5, "max": 1e-1, "scaling": "log"}}, "t")
    values = [p["lr"] for p in sample_points(space, 16, seed=11)]
    bins = sorted(math.floor(16 * math.log(v / 1e-5) / math.log(1e4)) for v in values)
    assert bins == list(range(16))


# --------------------------------------------------- seeds, studies, sampling

seeds = st.integers(min_value=0, max_value=2**32 - 1)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n=st.integers(min_value=1, max_value=20))
def test_sample_points_deterministic_and_inside(seed: int, n: int) -> None:
    points = sample_points(SPACE, n, seed)
    assert points == sample_points(SPACE, n, seed)
    assert len(points) == n
    for p in points:
        assert list(p) == ["learning_rate", "dropout", "label_smoothing", "warmup"]
        assert 1e-4 <= p["learning_rate"] <= 1e-1 and 0.0 <= p["dropout"] <= 0.5
        assert p["label_smoothing"] in (0.0, 0.1, 0.2) and p["warmup"] == 0.05


@settings(max_examples=30, deadline=None)
@given(seed=seeds)
def test_different_seeds_and_studies_differ(seed: int) -> None:
    assert sample_points(SPACE, 5, seed) != sample_points(SPACE, 5, seed + 1)
    studies = [study_points(SPACE, 5, seed, s) for s in range(3)]
    assert studies[0] != studies[1] != studies[2] != studies[0]
    assert studies == [study_points(SPACE, 5, seed, s) for s in range(3)]


def test_study_seed_is_stable() -> None:
    assert study_seed(0, 0) == study_seed(0, 0)
    assert len({study_seed(b, s) for b in range(10) for s in range(10)}) == 100
    assert 0 <= study_seed(123, 4) < 2**32
    # stable across processes (no dependence on Python's hash seed)
    out = subprocess.run([sys.executable, "-c", "from optbench.tuning.points import study_seed; print(study_seed(7, 2))"],
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "123"})
    assert int(out.stdout) == study_seed(7, 2)


@settings(max_examples=30, deadline=None)
@given(seed=seeds)
def test_same_points_per_study_reorders_the_same_set(seed: int) -> None:
    def key(p: dict) -> tuple:
        return tuple(sorted(p.items()))

    base = sorted(map(key, sample_points(SPACE, 5, seed)))
    studies = [study_points(SPACE, 5, seed, s, same_points_per_study=True) for s in range(4)]
    assert all(sorted(map(key, pts)) == base for pts in studies)
    # 4 independent shuffles of 5 points all equal: probability 1/120**3
    assert len({tuple(map(key, pts)) for pts in studies}) > 1
    assert studies[2] == study_points(SPACE, 5, seed, 2, same_points_per_study=True)


def test_fixed_values_take_no_dimension() -> None:
    """A one-point list, min == max and a constant are the same thing to the other hparams."""
    lr = {"min": 1e-4, "max": 1e-1, "scaling": "log"}
    variants = [
        {"lr": lr, "b2": {"feasible_points": [0.999]}},
        {"lr": lr, "b2": {"min": 0.999, "max": 0.999, "scaling": "linear"}},
        {"lr": lr, "b2": 0.999},
    ]
    results = [sample_points(parse_search_space(v, "t"), 6, seed=5) for v in variants]
    assert results[0] == results[1] == results[2]


def test_sample_points_zero_and_negative() -> None:
    assert sample_points(SPACE, 0, seed=1) == []
    with pytest.raises(OptbenchError, match="number of trials"):
        sample_points(SPACE, -1, seed=1)


def test_import_optbench_does_not_import_tuning_or_scipy() -> None:
    code = "import sys, optbench; print('optbench.tuning' in sys.modules, 'scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------ rulesets


def test_presets() -> None:
    assert set(PRESETS) == {"algoperf-v06", "algoperf-v05"}
    ext = resolve_ruleset(None, "external")
    assert (ext.preset, ext.trials, ext.studies, ext.budget_multiplier, ext.passes_hparams) == (
        "algoperf-v06", 5, 3, 1.0, True)
    own = resolve_ruleset("algoperf-v06", "self")
    assert (own.trials, own.studies, own.budget_multiplier, own.passes_hparams) == (1, 3, 1.5, False)
    v05 = resolve_ruleset("algoperf-v05", "external")
    assert (v05.trials, v05.studies) == (5, 5)
    assert resolve_ruleset("algoperf-v05", "self").budget_multiplier == 3.0


def test_overrides_win() -> None:
    r = resolve_ruleset("algoperf-v05", "external", trials=2, studies=1, budget_multiplier=0.5)
    assert (r.trials, r.studies, r.budget_multiplier) == (2, 1, 0.5)
    s = resolve_ruleset("algoperf-v05", "self", trials=1, studies=2, budget_multiplier=2)
    assert (s.trials, s.studies, s.budget_multiplier) == (1, 2, 2.0)


@pytest.mark.parametrize(
    ("args", "kwargs", "pattern"),
    [
        (("algoperf-v07", "external"), {}, "--preset: unknown preset 'algoperf-v07'; known: algoperf-v06, algoperf-v05"),
        (("algoperf-v06", "internal"), {}, "--ruleset: unknown ruleset 'internal'"),
        (("algoperf-v06", "self"), {"trials": 5}, "--trials: self-tuning runs one trial per study"),
        (("algoperf-v06", "external"), {"trials": 0}, "--trials: must be a whole number >= 1"),
        (("algoperf-v06", "external"), {"studies": 1.5}, "--studies: must be a whole number"),
        (("algoperf-v06", "external"), {"budget_multiplier": 0}, "--budget-multiplier: must be a finite number > 0"),
    ],
)
def test_ruleset_errors(args: tuple, kwargs: dict, pattern: str) -> None:
    with pytest.raises(OptbenchError, match=pattern):
        resolve_ruleset(*args, **kwargs)
