"""The YAML form: ``submission.yaml`` names any optimizer class by dotted path, no Python written.

```yaml
optimizer: lion_pytorch.Lion
defaults: {learning_rate: 1.0e-4, weight_decay: 0.1, warmup_fraction: 0.05}
```

Hyperparameters map onto the constructor (``learning_rate`` → ``lr``, ``epsilon`` → ``eps``,
``beta1``/``beta2`` → ``betas``, the rest by name; a name the constructor does not take is
refused); ``groups:`` gives each group of parameter roles its own optimizer
(:mod:`~optbench.submissions.groups`: Muon on ``matrix``, AdamW on the rest), with
``<group>.<name>`` hyperparameters; ``base:`` names the optimizer a wrapper (SAM,
Lookahead) wraps (:func:`build_wrapper`); ``closure: true`` or ``closure: after_backward`` says how to call an optimizer whose
``step`` takes a closure (:mod:`~optbench.submissions.closures`; L-BFGS is told by its
signature); the schedule keys (:data:`~optbench.submissions.schedules.SCHEDULE_KEYS`) drive
:func:`~optbench.submissions.schedules.warmup_schedule`.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from optbench.errors import OptbenchError
from optbench.spec import Context
from optbench.submissions import closures, groups
from optbench.submissions.folder import SubmissionFolder
from optbench.submissions.schedules import SCHEDULE_KEYS, warmup_schedule
from optbench.submissions.simple import OptimizerForm
from optbench.workloads.roles import ROLES, parameter_roles, params_by_role

#: common names that map onto torch.optim constructor arguments
_RENAMES = {"learning_rate": "lr", "epsilon": "eps"}


class YamlForm(OptimizerForm):
    form_name = "yaml"
    describes = "optimizer: <dotted path of an optimizer class> in submission.yaml"

    @classmethod
    def load(cls, folder: SubmissionFolder) -> YamlForm:
        form = cls(folder)
        for entry in form.entries().values():  # fails now, in one line, if a class cannot be imported
            resolve_class(entry["optimizer"], folder.source)
            if "base" in entry:
                resolve_class(entry["base"], f"{folder.source}: base")
        closures.declared_mode(form.declared_closure(), folder.source)  # and if closure: is not a mode
        return form

    @property
    def defaults(self) -> dict[str, Any]:
        return dict(self.folder.config.get("defaults") or {})

    def batch_size(self, workload_name: str) -> int | None:
        return None

    def declared_closure(self) -> Any:
        return self.folder.config.get("closure")

    def entries(self) -> dict[str, dict[str, Any]]:
        """``groups:`` checked, or the one optimizer as a group named "" that takes every parameter."""
        config, source = self.folder.config, self.folder.source
        if "groups" in config:
            if "optimizer" in config or "base" in config:
                raise OptbenchError(f"{source}: say either optimizer: (one for every parameter) or groups:, not both")
            return groups.check_groups(config["groups"], ROLES, source)
        if not isinstance(config.get("optimizer"), str):
            raise OptbenchError(f"{source}: optimizer: expected a dotted path such as torch.optim.AdamW "
                                "(or groups: {matrix: {optimizer: ...}, default: {optimizer: ...}})")
        return {"": {key: config[key] for key in ("optimizer", "base") if key in config}}

    def make(self, model: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        entries, source = self.entries(), self.folder.source
        if "" in entries:
            optimizer = build_optimizer(entries[""], model.parameters(), hparams, source)
            return optimizer, warmup_schedule(optimizer, hparams, ctx)
        by_role = ctx.params_by_role or params_by_role(model, parameter_roles(model))
        grouped = [role for entry in entries.values() for role in entry["roles"]]
        left = [role for role in ROLES if by_role.get(role) and role not in grouped]
        if left:
            raise OptbenchError(f"{source}: groups: the model's {', '.join(left)} parameters are in no group; "
                                "add a `default:` group")
        split = groups.split_hparams(hparams, entries, source)
        optimizers, schedulers = {}, {}
        for name, entry in entries.items():
            params = [p for role in entry["roles"] for p in by_role.get(role, [])]
            if params:  # a role this model lacks (no conv in a transformer): no optimizer
                optimizers[name] = build_optimizer(entry, [{"params": params, **(entry.get("param_group") or {})}],
                                                   split[name], f"{source}: groups: {name}")
                schedulers[name] = warmup_schedule(optimizers[name], split[name], ctx)
        return groups.GroupedOptimizer(optimizers), groups.GroupedScheduler(schedulers)


def resolve_class(name: Any, source: Any) -> type:
    from optbench.workloads.registry import resolve_dotted

    if not isinstance(name, str):
        raise OptbenchError(f"{source}: optimizer: expected a dotted path such as torch.optim.AdamW")
    cls = resolve_dotted(name, what=f"optimizer in {source}")
    if not inspect.isclass(cls):
        raise OptbenchError(f"{source}: optimizer: {name} is not a class")
    return cls


def build_optimizer(entry: dict[str, Any], params: Any, hparams: dict[str, Any], source: Any) -> Any:
    """The optimizer an entry (``optimizer:``, perhaps ``base:``) names, over ``params``, with ``hparams`` mapped on."""
    cls = resolve_class(entry["optimizer"], source)
    if "base" not in entry:
        return cls(params, **optimizer_kwargs(cls, hparams, source))
    return build_wrapper(cls, resolve_class(entry["base"], source), params, hparams, source)


#: what a wrapper names the base optimizer class it builds itself (pytorch-optimizer's SAM: base_optimizer)
_BASE_CLASS_ARGS = ("base_optimizer", "base_optimizer_class", "base")


def build_wrapper(cls: type, base: type, params: Any, hparams: dict[str, Any], source: Any) -> Any:
    """A wrapper around a base optimizer, in either convention of the libraries:

    * it takes the parameters and the base *class* (``SAM(params, base_optimizer=SGD, rho=..., lr=...)``):
      optbench passes both, the base's arguments through the wrapper;
    * it takes a base *instance* (``Lookahead(AdamW(params, lr=...), k=..., alpha=...)``): optbench builds
      the base first.

    A hyperparameter goes to the wrapper when its constructor names it (``rho``, ``k``, ``alpha``),
    else to the base (``learning_rate``, ``momentum``...).
    """
    signature = inspect.signature(cls.__init__).parameters
    own = {name for name, p in signature.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    wrapper_hparams = {k: v for k, v in hparams.items() if _RENAMES.get(k, k) in own - {"self", "params"}}
    base_hparams = {k: v for k, v in hparams.items() if k not in wrapper_hparams}
    base_kwargs = optimizer_kwargs(base, base_hparams, source)
    wrapper_kwargs = {_RENAMES.get(k, k): v for k, v in wrapper_hparams.items() if k not in SCHEDULE_KEYS}
    if "params" in signature:
        takes_class = next((name for name in _BASE_CLASS_ARGS if name in signature), None)
        if takes_class is None:
            raise OptbenchError(f"{source}: base: {cls.__name__} takes parameters but no base optimizer class "
                                f"(looked for an argument named {', '.join(_BASE_CLASS_ARGS)})")
        return cls(params, **{takes_class: base}, **wrapper_kwargs, **base_kwargs)
    return cls(base(params, **base_kwargs), **wrapper_kwargs)


def optimizer_kwargs(cls: type, hparams: dict[str, Any], source: Path) -> dict[str, Any]:
    """Map hparams onto a constructor: learning_rate→lr, beta1/beta2→betas, the rest by name."""
    accepted = inspect.signature(cls.__init__).parameters
    kwargs: dict[str, Any] = {}
    for key, value in hparams.items():
        if key in SCHEDULE_KEYS or key in ("beta1", "beta2"):
            continue
        arg = _RENAMES.get(key, key)
        if arg not in accepted:
            raise OptbenchError(
                f"{source}: hyperparameter {key!r} is not an argument of {cls.__name__} "
                f"(accepted: {', '.join(p for p in accepted if p not in ('self', 'params'))})"
            )
        kwargs[arg] = value
    if "beta1" in hparams or "beta2" in hparams:
        default = accepted["betas"].default if "betas" in accepted else (0.9, 0.999)
        kwargs["betas"] = (hparams.get("beta1", default[0]), hparams.get("beta2", default[1]))
    return kwargs
