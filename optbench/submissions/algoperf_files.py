"""Telling an AlgoPerf ``submission.py`` from the code, without running it (no torch), and its companion YAML.

A ``submission.py`` is of the ``algoperf`` form when ``init_optimizer_state`` takes AlgoPerf's
five arguments ``(workload, model_params, model_state, hyperparameters, rng)`` or
``update_params`` has a ``current_param_container`` argument, or when a ``submission.yaml``
beside it says ``form: algoperf``. That YAML may also give ``aliases`` (module name -> module
name; ``.`` is the submission's folder; see :mod:`optbench.submissions.import_aliases`) for
helper packages that import each other by the paths they had on the author's machine. A file
that imports JAX, flax, optax, chex, jraph or TensorFlow is refused with one line: optbench
runs AlgoPerf's PyTorch submissions.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from optbench import safeio
from optbench.errors import OptbenchError

FORM = "algoperf"  #: the same as optbench.submissions.schema.ALGOPERF_FORM (kept here: no pydantic to detect)
#: Top-level packages that make a file a JAX/TensorFlow submission.
JAX_PACKAGES = frozenset({"jax", "jaxlib", "flax", "optax", "chex", "jraph", "tensorflow", "tensorflow_datasets",
                          "orbax", "haiku"})
_INIT_ARGS = ("workload", "model_params", "model_state", "hyperparameters", "rng")

def _functions(tree: ast.Module) -> dict[str, list[str]]:
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            found[node.name] = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    return found

def _imported_roots(tree: ast.Module) -> list[str]:
    roots = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots += [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.append(node.module.split(".")[0])
    return roots

def read_companion(folder: Path) -> dict[str, Any]:
    """``submission.yaml`` beside a ``submission.py`` ({} when there is none), checked."""
    from optbench.schemas import check
    from optbench.submissions.import_aliases import check_aliases
    from optbench.submissions.schema import CompanionYaml

    source = folder / "submission.yaml"
    if not source.is_file():
        return {}
    config = safeio.read_yaml(source) or {}
    check(CompanionYaml, config, str(source))
    if "aliases" in config:
        config["aliases"] = check_aliases(config["aliases"], str(source))
    return config

def _declares_form(folder: Path) -> bool:
    try:
        config = safeio.read_yaml(folder / "submission.yaml")
    except OptbenchError:
        return False
    return isinstance(config, dict) and config.get("form") == FORM

def detect(folder: Path) -> dict[str, Any] | None:
    """The companion config (possibly {}) when ``folder/submission.py`` is an AlgoPerf submission, else None."""
    folder = Path(folder)
    source = folder / "submission.py"
    try:
        tree = ast.parse(source.read_text(), filename=str(source))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        tree = None  # importing it will say what is wrong
    functions = _functions(tree) if tree is not None else {}
    init_args = functions.get("init_optimizer_state", [])
    by_code = tuple(init_args[:5]) == _INIT_ARGS or len(init_args) == 5 or \
        "current_param_container" in functions.get("update_params", [])
    if not (by_code or _declares_form(folder)):
        return None
    companion = read_companion(folder)
    jax = sorted({root for root in _imported_roots(tree) if root in JAX_PACKAGES}) if tree is not None else []
    if jax:
        raise OptbenchError(f"{source}: imports {', '.join(jax)} (JAX/TensorFlow); optbench runs AlgoPerf's PyTorch "
                            "submissions, without JAX or TensorFlow: use a PyTorch version that does not import them")
    return companion
