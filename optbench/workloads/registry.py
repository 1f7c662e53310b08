"""Registries of the parts a workload YAML names: datasets, models, losses, metrics.

A built-in part registers itself with a decorator::

    @register_dataset("mnist1d")
    def make_mnist1d(num_samples: int = 5000, seed: int = 0) -> TensorData: ...

and user code is named by a dotted path, ``package.module:function``, which is
imported on demand, so a researcher can plug in a model without touching optbench.
This module imports neither torch nor the built-ins: they load the first time a
name is looked up.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from optbench.errors import OptbenchError

_BUILTINS_LOADED = False


class Registry:
    """Name → factory, for one kind of part."""

    def __init__(self, kind: str):
        self.kind = kind
        self._factories: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(factory: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._factories and self._factories[name] is not factory:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._factories[name] = factory
            return factory

        return decorator

    def names(self) -> list[str]:
        _load_builtins()
        return sorted(self._factories)

    def has(self, name: str) -> bool:
        return ":" in name or name in self.names()

    def get(self, name: str) -> Callable[..., Any]:
        """The factory for ``name``: a registered name, or ``package.module:function``."""
        if ":" in name:
            return resolve_dotted(name, what=self.kind)
        _load_builtins()
        try:
            return self._factories[name]
        except KeyError:
            known = ", ".join(sorted(self._factories)) or "none"
            raise OptbenchError(
                f"unknown {self.kind} {name!r}; known: {known} (or give a dotted path package.module:function)"
            ) from None


def resolve_dotted(path: str, what: str = "object") -> Any:
    """Import ``package.module:attr`` (or ``package.module.attr``) and return the attribute."""
    if ":" in path:
        module_name, _, attr = path.partition(":")
    else:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise OptbenchError(f"{what} {path!r} is not a dotted path of the form package.module:name")
    if module_name.startswith("."):
        raise OptbenchError(f"{what} {path!r}: a relative module name cannot be imported; give the full dotted path")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - ImportError, or whatever the module raises while it is imported
        raise OptbenchError(f"cannot import module {module_name!r} for {what} {path!r}: "
                            f"{type(exc).__name__}: {exc}") from None
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise OptbenchError(f"module {module_name!r} has no {attr!r} (for {what} {path!r})") from None
    return obj


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True
        importlib.import_module("optbench.workloads.parts")


DATASETS = Registry("dataset")
MODELS = Registry("model")
LOSSES = Registry("loss")
METRICS = Registry("metric")

register_dataset = DATASETS.register
register_model = MODELS.register
register_loss = LOSSES.register
register_metric = METRICS.register
