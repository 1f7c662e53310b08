"""Module aliases while a submission runs: ``import algoperf`` gives ``optbench.algoperf``.

AlgoPerf submissions import ``algoperf`` (before 0.6: ``algorithmic_efficiency``), and some
ship helper packages whose files import each other by the paths of the machine they were
run on. :class:`AliasFinder` is a ``sys.meta_path`` finder that maps module-name prefixes
onto other modules: importing ``alias`` or ``alias.x.y`` imports ``target.x.y`` and binds
the *same module object* under both names, so a class is one class whichever way it was
imported (two copies of a module would make ``isinstance`` checks fail silently). Strict
prefixes of an alias (``a`` and ``a.b`` for ``a.b.c``) become empty packages.

Why a finder instead of an installed ``algoperf`` package: the names exist only inside a
worker that runs an ``algoperf``-form submission, from :func:`install` (before the
submission is imported) to :func:`uninstall` (when the submission object goes away), so
a real AlgoPerf installed in the same environment is neither shadowed nor imported
elsewhere, and nothing needs installing. The finder goes first on ``sys.meta_path``: in
that worker the alias wins over a real package of the same name.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import re
import sys
from types import ModuleType
from typing import Mapping, Sequence

from optbench.errors import OptbenchError

#: AlgoPerf's package names (``algorithmic_efficiency`` until v0.6), both served by optbench's stand-in.
ALGOPERF_ALIASES = {"algoperf": "optbench.algoperf", "algorithmic_efficiency": "optbench.algoperf"}
#: An alias target that means "the submission's own folder, as a package" (the form substitutes its name).
FOLDER = "."
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def check_aliases(aliases: object, source: str) -> dict[str, str]:
    """A ``name -> target`` mapping of dotted module names (a target may be ``.``: the submission's
    folder), or one line saying what is wrong."""
    if not isinstance(aliases, Mapping):
        raise OptbenchError(f"{source}: aliases: expected a mapping of module name to module name, "
                            f"e.g. {{shampoo_types: optimizers.distributed_shampoo.shampoo_types}}")
    for name, target in aliases.items():
        for value in (name, target):
            if value == target == FOLDER:
                continue
            if not isinstance(value, str) or not _DOTTED.match(value):
                raise OptbenchError(f"{source}: aliases: {value!r} is not a dotted module name")
        if name == target or str(target).startswith(f"{name}."):
            raise OptbenchError(f"{source}: aliases: {name} -> {target} would import itself")
    return dict(aliases)


class _AliasLoader(importlib.abc.Loader):
    """Hands back the target module (or a new empty package) as the alias's module."""

    def __init__(self, target: str | None):
        self.target, self.own_spec = target, None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        if self.target is None:
            module = ModuleType(spec.name, "an empty parent package of an import alias")
            module.__path__ = []
            return module
        module = importlib.import_module(self.target)
        self.own_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """The target ran when it was imported; only its ``__spec__``, which the import system
        has just overwritten with the alias's, is put back (relative imports read it)."""
        if self.own_spec is not None:
            module.__spec__ = self.own_spec


class AliasFinder(importlib.abc.MetaPathFinder):
    def __init__(self, aliases: Mapping[str, str]):
        self.aliases = sorted(aliases.items(), key=lambda item: -len(item[0]))  # the longest prefix wins
        self.parents = {name.rsplit(".", i)[0] for name, _ in self.aliases for i in range(1, name.count(".") + 1)}

    def target_of(self, fullname: str) -> str | None:
        for name, target in self.aliases:
            if fullname == name or fullname.startswith(name + "."):
                return target + fullname[len(name):]
        return None

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        real = self.target_of(fullname)
        if real is None and fullname not in self.parents:
            return None
        is_package = real is None or hasattr(importlib.import_module(real), "__path__")
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(real), is_package=is_package)

    def names(self) -> list[str]:
        """Every module name this finder answers for that is in ``sys.modules`` now."""
        return [name for name in list(sys.modules) if self.target_of(name) is not None or name in self.parents]


_installed: list[AliasFinder] = []


def install(aliases: Mapping[str, str]) -> AliasFinder:
    """Put a finder for ``aliases`` first on ``sys.meta_path``; returns it (for :func:`uninstall`)."""
    finder = AliasFinder(aliases)
    sys.meta_path.insert(0, finder)
    _installed.append(finder)
    importlib.invalidate_caches()
    return finder


def uninstall(finder: AliasFinder) -> None:
    """Remove the finder and forget the alias names it bound (the target modules stay imported)."""
    if finder in sys.meta_path:
        sys.meta_path.remove(finder)
    if finder in _installed:
        _installed.remove(finder)
    for name in finder.names():
        if not any(other.target_of(name) or name in other.parents for other in _installed):
            sys.modules.pop(name, None)
