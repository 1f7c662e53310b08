"""What each parameter of a model is for, so a submission can treat them differently (Muon on hidden
matrices, AdamW on the rest, as the NanoGPT speedrun does).

Roles (:class:`Role`): ``embedding`` (input embeddings and positions, the input layer),
``head`` (the output layer), ``matrix`` (hidden weight matrices), ``vector`` (gains, biases,
norms: anything with fewer than two dimensions), ``conv`` (convolution kernels).

**The hook.** A model says its roles with an attribute ``parameter_roles``: a mapping from
parameter name (as ``model.named_parameters()`` names it) to role, or a method returning one.
It may name only some parameters; :func:`tag` sets it and checks the names. Every built-in model
tags itself.

**The shape-based default** (any parameter the hook does not name), in
``named_parameters()`` order:

1. fewer than two dimensions → ``vector``;
2. more than two dimensions → ``conv``;
3. the weight of an ``nn.Embedding`` → ``embedding``;
4. a 2-D parameter: the last one → ``head``; the first one, when the model has no
   ``nn.Embedding``, is the input layer → ``embedding`` (unless it is also the last: a single
   linear layer is a head); every other one → ``matrix``.

This is the speedrun's rule (input and output layers are not "hidden"); it is right for MLPs and
GPT-style models whose head is registered last, and wrong for a model that registers its output
layer early or a position table as a bare 2-D parameter: such a model should set the hook.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from optbench.errors import OptbenchError

if TYPE_CHECKING:  # torch is imported where a model is at hand, not when a submission form loads this
    from torch import nn

HOOK = "parameter_roles"


class Role(str, enum.Enum):
    EMBEDDING = "embedding"
    HEAD = "head"
    MATRIX = "matrix"
    VECTOR = "vector"
    CONV = "conv"

    def __str__(self) -> str:
        return self.value


ROLES = tuple(r.value for r in Role)


def default_roles(model: nn.Module) -> dict[str, Role]:
    """The shape-based rule of the module docstring, for every parameter."""
    from torch import nn

    embeddings = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    named = list(model.named_parameters())
    matrices = [name for name, p in named if p.dim() == 2 and id(p) not in embeddings]
    first = matrices[0] if matrices and not embeddings else None
    last = matrices[-1] if matrices else None
    roles: dict[str, Role] = {}
    for name, p in named:
        if p.dim() < 2:
            roles[name] = Role.VECTOR
        elif p.dim() > 2:
            roles[name] = Role.CONV
        elif id(p) in embeddings:
            roles[name] = Role.EMBEDDING
        elif name == last:
            roles[name] = Role.HEAD
        elif name == first:
            roles[name] = Role.EMBEDDING
        else:
            roles[name] = Role.MATRIX
    return roles


def _declared(model: nn.Module) -> Mapping[str, Any]:
    declared = getattr(model, HOOK, None)
    if callable(declared):
        declared = declared()
    if declared is None:
        return {}
    if not isinstance(declared, Mapping):
        raise OptbenchError(f"{type(model).__name__}.{HOOK}: expected a mapping of parameter name to role, "
                            f"got {type(declared).__name__}")
    return declared


def parameter_roles(model: nn.Module) -> dict[str, Role]:
    """Every parameter's role: the model's hook where it says one, the shape-based default elsewhere."""
    roles = default_roles(model)
    for name, role in _declared(model).items():
        if name not in roles:
            raise OptbenchError(f"{type(model).__name__}.{HOOK}: no parameter named {name!r} "
                                f"(parameters: {', '.join(roles)})")
        try:
            roles[name] = Role(str(role))
        except ValueError:
            raise OptbenchError(f"{type(model).__name__}.{HOOK}: {name}: role {role!r} is not one of "
                                f"{', '.join(ROLES)}") from None
    return roles


def params_by_role(model: nn.Module, roles: Mapping[str, Role]) -> dict[str, list[nn.Parameter]]:
    """The parameters grouped by role (every role a key, in ``named_parameters()`` order)."""
    groups: dict[str, list[nn.Parameter]] = {role: [] for role in ROLES}
    for name, p in model.named_parameters():
        groups[str(roles[name])].append(p)
    return groups


def by_name(model: nn.Module, embedding: tuple[str, ...] = (), head: tuple[str, ...] = ()) -> dict[str, Role]:
    """Every parameter's role, for a model that names its embeddings and head: the rest by shape
    (fewer than two dimensions ``vector``, more ``conv``, two ``matrix``). The built-in models' hook."""
    roles = {}
    for name, p in model.named_parameters():
        if name in embedding:
            roles[name] = Role.EMBEDDING
        elif name in head:
            roles[name] = Role.HEAD
        else:
            roles[name] = Role.VECTOR if p.dim() < 2 else Role.CONV if p.dim() > 2 else Role.MATRIX
    missing = (set(embedding) | set(head)) - set(roles)
    if missing:
        raise OptbenchError(f"{type(model).__name__}: no parameters named {sorted(missing)}")
    return roles


def tag(model: nn.Module, roles: Mapping[str, str | Role]) -> nn.Module:
    """Set the model's hook (the built-in factories' way of tagging a model they do not subclass)."""
    setattr(model, HOOK, dict(roles))
    parameter_roles(model)  # the names and roles are checked now, where the factory is
    return model
