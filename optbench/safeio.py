"""Reading any user file safely: one line of :class:`OptbenchError` for every way a file can be wrong.

Every reader of workload YAML, search spaces, submission.yaml, trial.json, experiment.json, baseline
files and AlgoPerf targets goes through here, so that a file that is not UTF-8, not a regular file
(a FIFO, ``/dev/zero``), too large, nested too deep, holding a number no parser can convert, a YAML
alias (a few lines can expand to 9^9 leaves that later code walks for hours) or a duplicate key gets
the same kind of one-line error naming the file, instead of a traceback, a hang or a silent "last
key wins". What the content must hold is the caller's schema; here only "is it a readable document".

YAML is read as YAML 1.2 reads numbers and booleans (``1e-4`` is a float, ``no`` is a string), which
is what people mean in a config file; PyYAML's default (YAML 1.1) would hand ``1e-4`` over as text.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from optbench.errors import OptbenchError

MAX_BYTES = 256 * 2**20  #: larger files are refused (a results file this large is not ours)
MAX_DEPTH = 64  #: nesting levels a document may have (ours use fewer than 8)
MAX_SHOWN = 60  #: characters of a user's value quoted in an error message
#: what a name must look like before it becomes a file or folder name in the results folder
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+=-]{0,99}$")


def show(value: Any, limit: int = MAX_SHOWN) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters (a 20,000-element list is not quoted)."""
    try:
        text = repr(value)
    except (RecursionError, ValueError):  # a deep structure, an int over the digit limit
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_name(value: Any) -> str:
    """``a mapping``, ``a list``, ``a string`` ...: how an error message names what it got."""
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
             float: "a number", type(None): "nothing (null)"}
    return names.get(type(value), f"a {type(value).__name__}")


def path_part(name: Any, what: str) -> str:
    """``name`` if it can safely be one file or folder name inside the results folder, else an error.

    Letters, digits and ``_ . + = -``, at most 100 characters, not starting with a dot or a dash: no
    separators, no ``..``, nothing absolute, no markup brackets.
    """
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or ".." in name:
        raise OptbenchError(f"{what}: {show(name)} cannot name a folder; use letters, digits, '_', '-', '.', "
                            "at most 100 characters, not starting with '.' or '-'")
    return name


def search_folders(extra: list[Path] | None, option: str, builtin: Path) -> list[Path]:
    """The folders given with ``option`` (``--workloads-dir``, ``--submissions-dir``), each checked to be
    one, then ``builtin``: where names are looked up, earlier folders shadowing later ones."""
    folders = [Path(d) for d in (extra or [])]
    for folder in folders:
        if not folder.is_dir():
            raise OptbenchError(f"{option} {folder}: not a folder")
    return [*folders, builtin]


def read_text(path: str | os.PathLike[str], what: str | None = None, max_bytes: int = MAX_BYTES) -> str:
    """The UTF-8 text of a regular file; anything else is one line naming ``what`` (default: the path)."""
    path = Path(path)
    where = what or str(path)
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise OptbenchError(f"{where}: is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise OptbenchError(f"{where}: not a regular file (a pipe or a device?); give a file")
        if info.st_size > max_bytes:
            raise OptbenchError(f"{where}: {info.st_size} bytes, more than the {max_bytes} a file may have")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise OptbenchError(f"{where}: no such file") from None
    except OSError as exc:
        raise OptbenchError(f"{where}: cannot read it ({exc.strerror or exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OptbenchError(f"{where}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


# --------------------------------------------------------------------------- YAML


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's floats and booleans, no duplicate keys and no aliases."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, f"alias *{event.anchor} is not allowed (write the value "
                                              "out)", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if key_node.value in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {show(key_node.value)}",
                                                        key_node.start_mark)
            seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


_BOOL_TAG = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML text (``source`` names it in errors); see the module docstring for what is refused."""
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise OptbenchError(f"{source}: not valid YAML{where}: {problem}; fix the syntax") from None
    except RecursionError:
        raise OptbenchError(f"{source}: nested too deeply (more than {MAX_DEPTH} levels)") from None
    except (ValueError, OverflowError) as exc:  # an int over Python's digit limit, a date out of range
        raise OptbenchError(f"{source}: a value cannot be read ({show(str(exc), 120)})") from None
    check_depth(data, source)
    return data


def load_json(text: str, source: str, duplicates: bool = False) -> Any:
    """Parse JSON text; with ``duplicates=False`` a repeated key is refused (json keeps the last silently)."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise OptbenchError(f"{source}: duplicate key {show(key)}; keep one of them")
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=None if duplicates else no_duplicates)
    except json.JSONDecodeError as exc:
        raise OptbenchError(f"{source}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; "
                            "fix the syntax") from None
    except RecursionError:
        raise OptbenchError(f"{source}: nested too deeply (more than {MAX_DEPTH} levels)") from None
    except (ValueError, OverflowError) as exc:  # an int over Python's 4,300-digit limit
        raise OptbenchError(f"{source}: a value cannot be read ({show(str(exc), 120)})") from None
    check_depth(data, source)
    return data


def check_depth(data: Any, source: str, limit: int = MAX_DEPTH) -> None:
    """Refuse documents nested more than ``limit`` levels (later code may walk them recursively)."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise OptbenchError(f"{source}: nested too deeply (more than {limit} levels)")
        if isinstance(node, dict):
            stack += [(v, depth + 1) for v in node.values()]
        elif isinstance(node, (list, tuple)):
            stack += [(v, depth + 1) for v in node]


def read_yaml(path: str | os.PathLike[str], what: str | None = None) -> Any:
    """:func:`read_text` + :func:`load_yaml`."""
    return load_yaml(read_text(path, what), what or str(path))


def read_json(path: str | os.PathLike[str], what: str | None = None, expect: type | None = dict,
              duplicates: bool = True) -> Any:
    """:func:`read_text` + :func:`load_json`; ``expect`` the type the top level must have (a JSON object)."""
    source = what or str(path)
    data = load_json(read_text(path, what), source, duplicates=duplicates)
    if expect is not None and not isinstance(data, expect):
        wanted = "a JSON object" if expect is dict else type_name(expect())
        raise OptbenchError(f"{source}: expected {wanted} at the top level, got {type_name(data)}")
    return data


def finite_number(value: Any) -> bool:
    """A real number (not a boolean) that is neither NaN nor infinite, nor too large for a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int of 400 digits
        return False
