"""Optimizers whose ``step`` takes a closure (L-BFGS, line searches, SAM-style two-pass methods).

torch's convention (``optimizer.step(closure)``): the closure clears the gradients, recomputes
the loss on the step's batch, backpropagates and returns the loss; the optimizer calls it as
often as it needs. optbench's closure does exactly that on the batch of the current step, through
the workload's loss function, so that

* every pass is submission time: the closure runs inside the step, which the clock wraps;
* every pass is counted (``TrialResult.loss_evaluations``) and the divergence check sees the
  last loss it computed.

Two ways to call a closure optimizer (:class:`ClosureMode`):

* ``closure``: ``step(closure)`` and nothing before it: the optimizer calls the closure for
  every loss and gradient it needs (``torch.optim.LBFGS``, line searches);
* ``after_backward``: optbench computes the gradient at the current weights first, then calls
  ``step(closure)``: the closure is the *second* pass (SAM and its relatives, as
  pytorch-optimizer's ``SAM`` documents it).

How the mode is chosen: declared (``closure:`` in submission.yaml, ``CLOSURE`` in a simple-form
submission.py: ``true``/``false``/``"after_backward"``), else ``closure`` when the optimizer's
``step`` has a ``closure`` parameter without default (L-BFGS), else none.

What a closure may do: be called any number of times within one step, always on the same batch
(it never draws a new one); it leaves fresh gradients in ``.grad`` and returns the loss. Any
change the optimizer makes to the weights between calls (SAM's perturbation, a line search's
trial point) is seen by the next call. It runs with gradients enabled even when the optimizer's
``step`` runs under ``torch.no_grad()``.
"""

from __future__ import annotations

import enum
import inspect
from typing import Any, Callable

import torch

from optbench.errors import OptbenchError


class ClosureMode(str, enum.Enum):
    NONE = "none"  #: ``step()``: optbench computes the gradient first (most optimizers)
    CLOSURE = "closure"  #: ``step(closure)``: the optimizer calls the closure (L-BFGS)
    AFTER_BACKWARD = "after_backward"  #: gradient first, then ``step(closure)`` (SAM)


def declared_mode(value: Any, source: Any) -> ClosureMode | None:
    """A declared closure flag (``true``/``false``/``"after_backward"``/a mode name), or None when absent."""
    if value is None:
        return None
    if value is True:
        return ClosureMode.CLOSURE
    if value is False:
        return ClosureMode.NONE
    try:
        return ClosureMode(str(value))
    except ValueError:
        raise OptbenchError(f"{source}: closure: expected true, false or after_backward, got {value!r}") from None


def step_requires_closure(optimizer: Any) -> bool:
    """True when ``optimizer.step`` has a ``closure`` parameter without a default (``torch.optim.LBFGS``)."""
    try:
        parameter = inspect.signature(optimizer.step).parameters.get("closure")
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.default is inspect.Parameter.empty


def closure_mode(optimizer: Any, declared: ClosureMode | None) -> ClosureMode:
    """The declared mode, else what the optimizer's ``step`` signature says."""
    if declared is not None:
        return declared
    return ClosureMode.CLOSURE if step_requires_closure(optimizer) else ClosureMode.NONE


def make_closure(optimizer: Any, model: Any, batch: Any, loss_fn: Callable[[Any, Any], torch.Tensor]
                 ) -> Callable[[], torch.Tensor]:
    """The closure of one step: clear the gradients, the loss on ``batch``, backward, return the loss."""

    def closure() -> torch.Tensor:
        with torch.enable_grad():
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model, batch)
            loss.backward()
        return loss

    return closure


def step(optimizer: Any, mode: ClosureMode, model: Any, batch: Any, loss_fn: Callable[[Any, Any], torch.Tensor],
         source: Any) -> None:
    """One optimizer step on ``batch`` in the given mode (all of it submission time: the caller is timed)."""
    closure = make_closure(optimizer, model, batch, loss_fn)
    if mode is ClosureMode.CLOSURE:
        optimizer.step(closure)
        return
    closure()  # the gradient at the current weights
    if mode is ClosureMode.AFTER_BACKWARD:
        optimizer.step(closure)
        return
    try:
        optimizer.step()
    except Exception as exc:
        if "closure" in str(exc).lower():  # e.g. SAM without its declared closure: say what to write
            raise OptbenchError(
                f"{source}: {type(optimizer).__name__}.step needs a closure ({type(exc).__name__}: {exc}); "
                "declare `closure: after_backward` (SAM-style: gradient first, then a second pass) "
                "or `closure: true` (the optimizer calls it, as L-BFGS does)") from None
        raise
