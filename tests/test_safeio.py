"""Properties of the safe reader (optbench/safeio.py) and the one-line error, over generated input:
any text parses or raises OptbenchError (nothing else), names that pass path_part stay one path part,
error lines are one line of bounded length."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from optbench import safeio
from optbench.errors import MAX_LINE, OptbenchError, one_line
from optbench.tuning import spaces

YAMLISH = st.text(alphabet=st.sampled_from(list("ab01:-[]{}&*!|>'\"#,.e+ \n\t\\%@`?") + ["\x00", "é", "\ufeff"]),
                  max_size=200)


def _only_optbench_errors(fn, *args):
    try:
        fn(*args)
    except OptbenchError as exc:
        assert "\n" not in one_line(str(exc))


@settings(max_examples=300, deadline=None)
@given(YAMLISH)
def test_any_yaml_text_parses_or_is_one_error(text):
    _only_optbench_errors(safeio.load_yaml, text, "x.yaml")


@settings(max_examples=300, deadline=None)
@given(st.one_of(YAMLISH, st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
                                        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c,
                                                                                            max_size=3)).map(repr)))
def test_any_json_text_parses_or_is_one_error(text):
    _only_optbench_errors(safeio.load_json, text, "x.json")


@settings(max_examples=300, deadline=None)
@given(YAMLISH)
def test_any_hparams_text_parses_or_is_one_error(text):
    _only_optbench_errors(spaces.parse_hparams_override, text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_a_name_that_passes_is_one_path_part(name):
    try:
        safeio.path_part(name, "name")
    except OptbenchError:
        return
    root = Path("/results/exp")
    assert (root / name).resolve().parent == root and not Path(name).is_absolute() and "/" not in name


@given(st.text(max_size=5000), st.integers(min_value=40, max_value=2000))
def test_one_line_is_one_bounded_line(text, limit):
    line = one_line(text, limit)
    assert "\n" not in line and len(line) <= limit
    assert len(one_line(text)) <= MAX_LINE


def test_show_never_fails_and_is_short():
    deep: list = []
    node = deep
    for _ in range(5000):
        node.append([])
        node = node[0]
    for value in (deep, 10**5000, "x" * 10**5, list(range(10**4))):
        assert len(safeio.show(value)) <= safeio.MAX_SHOWN
