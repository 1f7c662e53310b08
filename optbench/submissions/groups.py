"""One optimizer per group of parameter roles, driven as one: the YAML form's ``groups:``.

```yaml
groups:
  matrix:  {optimizer: pytorch_optimizer.Muon, param_group: {use_muon: true}}
  default: {optimizer: torch.optim.AdamW}
defaults: {matrix.learning_rate: 0.02, default.learning_rate: 3.0e-3, warmup_fraction: 0.05}
```

A group's name is a role (:mod:`optbench.workloads.roles`) or anything with ``roles: [...]``
saying which; ``default`` takes every role no other group names. Hyperparameters are shared
(``warmup_fraction``) or one group's (``matrix.learning_rate``); the search space names them the
same way. Each group gets its own optimizer and schedule; a group with no parameters in this
model (no ``conv`` in a transformer) is skipped. ``param_group`` adds keys to the group's one
parameter group (pytorch-optimizer's Muon wants ``use_muon``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from optbench.errors import OptbenchError

DEFAULT_GROUP = "default"
#: what a group entry may say
GROUP_KEYS = frozenset({"optimizer", "roles", "param_group", "base"})


def check_groups(groups: Any, roles: tuple[str, ...], source: Any) -> dict[str, dict[str, Any]]:
    """``groups:`` as read from submission.yaml, checked: each group's roles filled in (``roles`` key)."""
    if not isinstance(groups, Mapping) or not groups:
        raise OptbenchError(f"{source}: groups: expected a mapping of group name to {{optimizer: ...}}")
    checked: dict[str, dict[str, Any]] = {}
    claimed: dict[str, str] = {}
    for name, entry in groups.items():
        where = f"{source}: groups: {name}"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("optimizer"), str):
            raise OptbenchError(f"{where}: expected {{optimizer: <dotted path>, ...}}")
        if set(entry) - GROUP_KEYS:
            raise OptbenchError(f"{where}: unknown keys {sorted(set(entry) - GROUP_KEYS)}; "
                                f"allowed: {', '.join(sorted(GROUP_KEYS))}")
        if "." in str(name):
            raise OptbenchError(f"{where}: a group name cannot hold a dot (hyperparameters are <group>.<name>)")
        named = entry.get("roles", [] if name == DEFAULT_GROUP else [name])
        if isinstance(named, str):
            named = [named]
        unknown = [r for r in named if r not in roles]
        if unknown:
            raise OptbenchError(f"{where}: {unknown} {'is' if len(unknown) == 1 else 'are'} not a role "
                                f"(roles: {', '.join(roles)}; or name the group and list `roles:`)")
        for role in named:
            if role in claimed:
                raise OptbenchError(f"{where}: role {role} is already in group {claimed[role]}")
            claimed[role] = str(name)
        checked[str(name)] = {**entry, "roles": list(named)}
    if DEFAULT_GROUP in checked:
        checked[DEFAULT_GROUP]["roles"] = [r for r in roles if r not in claimed]
    return checked


def split_hparams(hparams: Mapping[str, Any], groups: Mapping[str, Any], source: Any) -> dict[str, dict[str, Any]]:
    """Each group's hyperparameters: the shared ones (no dot) overridden by its own (``<group>.<name>``)."""
    shared = {k: v for k, v in hparams.items() if "." not in k}
    split = {name: dict(shared) for name in groups}
    for key, value in hparams.items():
        if "." in key:
            group, _, name = key.partition(".")
            if group not in split:
                raise OptbenchError(f"{source}: hyperparameter {key!r}: no group {group!r} "
                                    f"(groups: {', '.join(groups)})")
            split[group][name] = value
    return split


class GroupedOptimizer:
    """Several optimizers, each over its own parameters, stepped as one (``step``, ``zero_grad``,
    ``state_dict``; ``train``/``eval`` for schedule-free members)."""

    def __init__(self, optimizers: Mapping[str, Any]):
        self.optimizers = dict(optimizers)

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        return [group for opt in self.optimizers.values() for group in opt.param_groups]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for opt in self.optimizers.values():
            opt.zero_grad(set_to_none=set_to_none)

    def step(self, closure: Any = None) -> Any:
        if closure is not None:
            raise OptbenchError("groups: an optimizer that takes a closure cannot be one of several groups")
        for opt in self.optimizers.values():
            opt.step()

    def train(self) -> None:
        for opt in self.optimizers.values():
            if callable(getattr(opt, "train", None)):
                opt.train()

    def eval(self) -> None:
        for opt in self.optimizers.values():
            if callable(getattr(opt, "eval", None)):
                opt.eval()

    def state_dict(self) -> dict[str, Any]:
        return {name: opt.state_dict() for name, opt in self.optimizers.items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state[name])


class GroupedScheduler:
    """The groups' schedules (None where a group has none), stepped together."""

    def __init__(self, schedulers: Mapping[str, Any]):
        self.schedulers = {name: s for name, s in schedulers.items() if s is not None}

    def step(self) -> None:
        for scheduler in self.schedulers.values():
            scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        return {name: s.state_dict() for name, s in self.schedulers.items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for name, scheduler in self.schedulers.items():
            scheduler.load_state_dict(state[name])
