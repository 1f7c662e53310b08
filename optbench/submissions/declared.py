"""Which hyperparameter names a submission declares, read without running its code, and the
refusal of any other name (with difflib's "did you mean").

A misspelt name (``learning_rat:`` in a search space, ``--hparams one_minus_beta1=`` for
adamw, which has ``beta1``) used to be sampled, recorded in trial.json as tuned and ignored
by the submission, which trained with its default: the study measured something else than it
said. A submission declares its names with its defaults (``DEFAULT_HPARAMS`` in
submission.py, ``defaults:`` in submission.yaml), or, when it has none (AlgoPerf's files),
with its search space. ``DEFAULT_HPARAMS`` is read with :mod:`ast` (importing the file would
import torch in the command's process); a value that is not a literal (``{**BASE, ...}``)
cannot be read so, and then the trial's own check (``LoadedSubmission.resolve_hparams``, in
the worker) is what refuses an unknown name.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from optbench.errors import OptbenchError
from optbench.tuning import spaces

#: Declared names could not be read without running the code (a computed DEFAULT_HPARAMS).
UNKNOWN = None
NAME = "DEFAULT_HPARAMS"
#: dict methods that change the keys.
MUTATORS = frozenset({"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__", "__ior__"})


def python_defaults(source: Path) -> frozenset[str] | None:
    """The keys of the last top-level ``DEFAULT_HPARAMS = {...}`` (or ``dict(k=...)``) in ``source``;
    an empty set when there is none; None when it is computed. A syntax error is left to the import."""
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"), str(source))
    except (SyntaxError, ValueError, OSError):
        return UNKNOWN
    value: ast.expr | None = None
    plain = 0  # top-level `DEFAULT_HPARAMS = ...`
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == NAME for t in targets):
            value, plain = getattr(node, "value", None), plain + 1
    if _changed_elsewhere(tree, plain):
        return UNKNOWN
    if not plain:
        return frozenset()
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict" \
            and not value.args and all(k.arg for k in value.keywords):
        return frozenset(k.arg for k in value.keywords)
    try:
        literal = ast.literal_eval(value) if value is not None else None
    except ValueError:
        return UNKNOWN
    if isinstance(literal, dict) and all(isinstance(k, str) for k in literal):
        return frozenset(literal)
    return UNKNOWN  # not a dict of names: loading.py says so when the worker imports it


def _changed_elsewhere(tree: ast.Module, plain: int) -> bool:
    """True when DEFAULT_HPARAMS is bound or changed other than by top-level assignments: inside an
    ``if``, by ``+=``/``|=``, ``[key] =``, ``del``, ``.update(...)``: then only running it tells its keys."""
    bound = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == NAME and not isinstance(node.ctx, ast.Load):
            bound += 1
        elif isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.value, ast.Name) \
                and node.value.id == NAME:
            if not isinstance(node.ctx, ast.Load) or isinstance(node, ast.Attribute) and node.attr in MUTATORS:
                return True
    return bound != plain


def declared_names(form: str, source: Path, config: Mapping[str, Any], space_names: tuple[str, ...] | None
                   ) -> tuple[frozenset[str] | None, str]:
    """The names a submission accepts and where it declares them: its defaults' keys, else its
    search space's; None when neither can be known without running it (nothing is refused then)."""
    if form == "yaml":
        defaults: frozenset[str] | None = frozenset(config.get("defaults") or {})
        where = f"defaults: in {source.name}"
    elif form == "algoperf":
        defaults, where = frozenset(), ""  # AlgoPerf's hyperparameters are its search space's
    else:
        defaults, where = python_defaults(source), f"DEFAULT_HPARAMS in {source.name}"
    if defaults:
        return defaults, where
    if defaults is UNKNOWN or space_names is None:
        return UNKNOWN, ""
    return frozenset(space_names), "its search space (it has no defaults)"


def check_hparam_names(names: Mapping[str, Any] | tuple[str, ...], declared: frozenset[str] | None,
                       source: str, where: str = "") -> None:
    """Refuse (one line, exit 2) a name not in ``declared``, with "did you mean"; None checks nothing."""
    if declared is None:
        return
    try:
        spaces.check_names(dict.fromkeys(names), set(declared), source)
    except OptbenchError as exc:
        raise OptbenchError(f"{exc}{f' (declared by {where})' if where else ''}") from None
