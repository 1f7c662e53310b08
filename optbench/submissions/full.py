"""The full form (optbench's): the submission writes the step itself.

``init_optimizer_state(model, hparams, ctx) -> state``,
``update_params(model, batch, loss_fn, state, hparams, ctx) -> state`` (one step; ``loss_fn(model,
batch)`` is the workload's training loss), optionally ``prepare_for_eval(model, state, hparams,
ctx) -> state`` (timed) and ``get_batch_size(workload_name)``. The names are AlgoPerf's; the
signatures are simpler than AlgoPerf's own.
"""

from __future__ import annotations

from typing import Any

from optbench.spec import Context
from optbench.submissions.base import LoadedSubmission


class FullForm(LoadedSubmission):
    form_name = "full"
    describes = ("init_optimizer_state(model, hparams, ctx) + "
                 "update_params(model, batch, loss_fn, state, hparams, ctx)")

    @classmethod
    def matches(cls, module: Any) -> bool:
        return all(callable(getattr(module, f, None)) for f in ("init_optimizer_state", "update_params"))

    def init(self, model: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        return self.module.init_optimizer_state(model, hparams, ctx)

    def update(self, model: Any, batch: Any, loss_fn: Any, state: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        return self.module.update_params(model, batch, loss_fn, state, hparams, ctx)

    def prepare_for_eval(self, model: Any, state: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        fn = getattr(self.module, "prepare_for_eval", None)
        return fn(model, state, hparams, ctx) if fn else state
