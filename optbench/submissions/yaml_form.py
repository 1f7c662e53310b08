"""The YAML form: ``submission.yaml`` names any optimizer class by dotted path, no Python written.

```yaml
optimizer: lion_pytorch.Lion
defaults: {learning_rate: 1.0e-4, weight_decay: 0.1, warmup_fraction: 0.05}
```

Hyperparameters map onto the constructor (``learning_rate`` → ``lr``, ``epsilon`` → ``eps``,
``beta1``/``beta2`` → ``betas``, the rest by name; a name the constructor does not take is
refused); ``closure: true`` or ``closure: after_backward`` says how to call an optimizer whose
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
from optbench.submissions import closures
from optbench.submissions.folder import SubmissionFolder
from optbench.submissions.schedules import SCHEDULE_KEYS, warmup_schedule
from optbench.submissions.simple import OptimizerForm

#: common names that map onto torch.optim constructor arguments
_RENAMES = {"learning_rate": "lr", "epsilon": "eps"}


class YamlForm(OptimizerForm):
    form_name = "yaml"
    describes = "optimizer: <dotted path of an optimizer class> in submission.yaml"

    @classmethod
    def load(cls, folder: SubmissionFolder) -> YamlForm:
        form = cls(folder)
        form.optimizer_class()  # fails now, in one line, if the class cannot be imported
        closures.declared_mode(form.declared_closure(), folder.source)  # and if closure: is not a mode
        return form

    @property
    def defaults(self) -> dict[str, Any]:
        return dict(self.folder.config.get("defaults") or {})

    def batch_size(self, workload_name: str) -> int | None:
        return None

    def declared_closure(self) -> Any:
        return self.folder.config.get("closure")

    def optimizer_class(self) -> type:
        from optbench.workloads.registry import resolve_dotted

        name = self.folder.config.get("optimizer")
        if not isinstance(name, str):
            raise OptbenchError(f"{self.folder.source}: optimizer: expected a dotted path such as torch.optim.AdamW")
        cls = resolve_dotted(name, what=f"optimizer in {self.folder.source}")
        if not inspect.isclass(cls):
            raise OptbenchError(f"{self.folder.source}: optimizer: {name} is not a class")
        return cls

    def make(self, model: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        cls = self.optimizer_class()
        optimizer = cls(model.parameters(), **optimizer_kwargs(cls, hparams, self.folder.source))
        return optimizer, warmup_schedule(optimizer, hparams, ctx)


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
