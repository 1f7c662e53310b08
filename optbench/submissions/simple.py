"""The simple form: ``make_optimizer(params, hparams, ctx)`` returns a ``torch.optim.Optimizer``
(or ``(optimizer, scheduler)``, the scheduler stepped once per step); optbench runs the step.

:class:`OptimizerForm` is that step, shared with the YAML form: zero the gradients, backward
the workload's loss, ``optimizer.step()``, step the scheduler. Optimizers with
``train()``/``eval()`` (schedule-free) are switched to their evaluation weights by
``prepare_for_eval`` and back before the next step.
"""

from __future__ import annotations

from typing import Any

from optbench.errors import OptbenchError
from optbench.spec import Context
from optbench.submissions.base import LoadedSubmission


class OptimizerForm(LoadedSubmission):
    """A submission that is a torch optimizer (and a scheduler): optbench writes the step."""

    def make(self, model: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        """The optimizer, or ``(optimizer, scheduler)``."""
        raise NotImplementedError

    def init(self, model: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        made = self.make(model, hparams, ctx)
        optimizer, scheduler = made if isinstance(made, tuple) else (made, None)
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "zero_grad"):
            raise OptbenchError(f"{self.folder.source}: make_optimizer returned {type(optimizer).__name__}, "
                                "not an optimizer")
        return {"optimizer": optimizer, "scheduler": scheduler, "eval_mode": False}

    def update(self, model: Any, batch: Any, loss_fn: Any, state: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        optimizer = state["optimizer"]
        if state["eval_mode"]:  # schedule-free style optimizers switch back to training weights
            optimizer.train()
            state["eval_mode"] = False
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model, batch).backward()
        optimizer.step()
        if state["scheduler"] is not None:
            state["scheduler"].step()
        return state

    def prepare_for_eval(self, model: Any, state: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        optimizer = state["optimizer"]
        if hasattr(optimizer, "eval") and callable(optimizer.eval) and not state["eval_mode"]:
            optimizer.eval()
            state["eval_mode"] = True
        return state


class SimpleForm(OptimizerForm):
    form_name = "simple"
    describes = "make_optimizer(params, hparams, ctx)"

    @classmethod
    def matches(cls, module: Any) -> bool:
        return callable(getattr(module, "make_optimizer", None))

    def make(self, model: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        return self.module.make_optimizer(list(model.parameters()), hparams, ctx)
