"""The simple form: ``make_optimizer(params, hparams, ctx)`` returns a ``torch.optim.Optimizer``
(or ``(optimizer, scheduler)``, the scheduler stepped once per step); optbench runs the step.

:class:`OptimizerForm` is that step, shared with the YAML form: zero the gradients, backward
the workload's loss, ``optimizer.step()``, step the scheduler. An optimizer whose ``step`` takes
a closure (L-BFGS, SAM) gets one that recomputes the loss on the step's batch
(:mod:`~optbench.submissions.closures`; a simple-form file declares ``CLOSURE = True`` or
``"after_backward"`` when the signature does not tell). Optimizers with
``train()``/``eval()`` (schedule-free) are switched to their evaluation weights by
``prepare_for_eval`` and back before the next step.
"""

from __future__ import annotations

from typing import Any

from optbench.errors import OptbenchError
from optbench.spec import Context
from optbench.submissions import closures
from optbench.submissions.base import LoadedSubmission


class OptimizerForm(LoadedSubmission):
    """A submission that is a torch optimizer (and a scheduler): optbench writes the step."""

    def make(self, model: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        """The optimizer, or ``(optimizer, scheduler)``."""
        raise NotImplementedError

    def declared_closure(self) -> Any:
        """The ``closure`` flag the submission declares (None: tell from ``step``'s signature)."""
        return None

    def init(self, model: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        made = self.make(model, hparams, ctx)
        optimizer, scheduler = made if isinstance(made, tuple) else (made, None)
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "zero_grad"):
            raise OptbenchError(f"{self.folder.source}: make_optimizer returned {type(optimizer).__name__}, "
                                "not an optimizer")
        declared = closures.declared_mode(self.declared_closure(), self.folder.source)
        return {"optimizer": optimizer, "scheduler": scheduler, "eval_mode": False,
                "closure": closures.closure_mode(optimizer, declared)}

    def update(self, model: Any, batch: Any, loss_fn: Any, state: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        optimizer = state["optimizer"]
        if state["eval_mode"]:  # schedule-free style optimizers switch back to training weights
            optimizer.train()
            state["eval_mode"] = False
        closures.step(optimizer, state["closure"], model, batch, loss_fn, self.folder.source)
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

    def declared_closure(self) -> Any:
        return getattr(self.module, "CLOSURE", None)

    def make(self, model: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        return self.module.make_optimizer(list(model.parameters()), hparams, ctx)
