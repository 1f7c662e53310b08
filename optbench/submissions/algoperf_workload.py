"""Any optbench workload, presented as an AlgoPerf ``spec.Workload`` (what an ``algoperf``-form submission is handed).

AlgoPerf splits a training step into ``model_fn`` (the forward pass) and ``loss_fn``
(per-example losses from logits), and gives batches as dicts. :class:`WorkloadAdapter`
builds both from an optbench :class:`~optbench.workloads.runtime.Workload`:

* batches: ``(inputs, targets)`` becomes ``{'inputs', 'targets', 'weights'}``, the weights
  all ones of the targets' shape (one tensor, made once per shape);
* ``model_fn`` calls the model the submission passes (``train()``/``eval()`` by mode, no
  gradients in EVAL), freezes batch-norm statistics when ``update_batch_norm`` is false,
  and sets every dropout layer's rate when ``dropout_rate`` is given (optbench models
  without dropout have nothing to set); ``model_state`` is passed through (None);
* ``loss_fn`` returns ``{'summed', 'n_valid_examples', 'per_example'}`` from the workload's
  own elementwise loss. **The workload's L2 term is part of each example's loss**, so
  ``summed / n_valid_examples`` — what every AlgoPerf submission minimises — is exactly
  optbench's training objective (mean loss + l2/2·‖θ‖²), on one process and, after the
  submission's all-reduce, on N. ``label_smoothing`` is applied when the workload's loss
  takes it (cross-entropy) and ignored otherwise, as AlgoPerf's regression workloads do;
  without it the workload's own loss is used unchanged. Each call records the mean loss in
  the trial's loss recorder, so optbench's divergence check sees it. All-ones weights
  (the ones the adapter made) are not multiplied in: the result is the same number;
* the benchmark's numbers: ``step_hint``, ``max_allowed_runtime_sec`` (the workload's
  budget; the self-tuning multiplier is the runner's, as in AlgoPerf),
  ``eval_period_time_sec`` (an every-N-steps policy becomes N × budget / step_hint),
  ``target_metric_name`` (the target metric without its split), ``num_train_examples``,
  ``param_shapes``/``model_params_types`` (of the unwrapped model), ``metrics_logger``
  (rows kept in memory on rank 0; AlgoPerf writes them to its log folder).
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import torch
import torch.distributed as dist

from optbench.algoperf import param_utils, spec
from optbench.workloads.registry import LOSSES

#: optbench loss name -> AlgoPerf's loss type (others: by what the name says, else softmax cross-entropy)
LOSS_TYPES = {"cross_entropy": spec.LossType.SOFTMAX_CROSS_ENTROPY,
              "binary_cross_entropy": spec.LossType.SIGMOID_CROSS_ENTROPY,
              "logistic": spec.LossType.SIGMOID_CROSS_ENTROPY,
              "squared_error": spec.LossType.MEAN_SQUARED_ERROR}


class MetricsLogger:
    """What ``workload.metrics_logger`` offers submissions: ``append_scalar_metrics`` (kept in ``rows``)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def append_scalar_metrics(self, metrics: dict[str, Any], global_step: int, preemption_count: int | None = None,
                              is_eval: bool = False) -> None:
        row = {key: float(value) if isinstance(value, torch.Tensor) else value for key, value in metrics.items()}
        self.rows.append({"global_step": global_step, "is_eval": is_eval, **row})

    def finish(self) -> None:
        """Nothing to flush: rows are in memory."""


def _loss_type(name: str) -> spec.LossType:
    if name in LOSS_TYPES:
        return LOSS_TYPES[name]
    lowered = name.lower()
    if "squared" in lowered or "mse" in lowered:
        return spec.LossType.MEAN_SQUARED_ERROR
    if "absolute" in lowered or "mae" in lowered:
        return spec.LossType.MEAN_ABSOLUTE_ERROR
    if "binary" in lowered or "sigmoid" in lowered or "logistic" in lowered:
        return spec.LossType.SIGMOID_CROSS_ENTROPY
    return spec.LossType.SOFTMAX_CROSS_ENTROPY


def _split_size(data: Any, split: str) -> int | None:
    splits = getattr(data, "data", None)
    if isinstance(splits, dict) and split in splits:
        return len(splits[split][1])
    return data.info.get(f"num_{split}_examples") or data.metadata.get(f"num_{split}_examples")


class WorkloadAdapter(spec.Workload):
    """``runtime`` (an optbench workload) as AlgoPerf's ``Workload``, training ``model``; see the module docstring."""

    def __init__(self, runtime: Any, model: torch.nn.Module):
        super().__init__()
        self.runtime, self.model = runtime, model
        self.recorder: Any = None  #: the trial's loss recorder (``.last``), set by the form every step
        self.eval_results: list[tuple[int, dict[str, Any]]] = []  #: AlgoPerf's list of (step, eval row)
        if not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0:  # AlgoPerf logs on rank 0 only
            self.metrics_logger = MetricsLogger()
        plain = getattr(model, "module", model)  # param names without DistributedDataParallel's "module."
        self._param_shapes = param_utils.pytorch_param_shapes(plain)
        self._param_types = param_utils.pytorch_param_types(self._param_shapes, plain)
        names = [name for name, _ in plain.named_parameters()]
        last_owner = names[-1].rpartition(".")[0] if names else ""
        self._output_params = {name for name in names if name.rpartition(".")[0] == last_owner}
        self._batch_norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        self._dropouts = [m for m in model.modules() if isinstance(m, torch.nn.modules.dropout._DropoutNd)]
        self._bn_frozen, self._dropout_rate = False, None
        self._losses: dict[float, Callable] = {}
        self._loss_type = _loss_type(runtime.spec.loss.name)  # read every step: worked out once
        self._ones: torch.Tensor | None = None

    # -- batches ---------------------------------------------------------------------------------
    def to_batch(self, batch: tuple[Any, torch.Tensor]) -> dict[str, Any]:
        """optbench's ``(inputs, targets)`` as AlgoPerf's ``{'inputs', 'targets', 'weights'}``."""
        inputs, targets = batch
        ones = self._ones
        if ones is None or ones.shape != targets.shape or ones.device != targets.device:
            ones = self._ones = torch.ones(targets.shape, device=targets.device)
        return {"inputs": inputs, "targets": targets, "weights": ones}

    # -- the forward pass and the loss -----------------------------------------------------------
    def model_fn(self, params: torch.nn.Module, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: Any, update_batch_norm: bool,
                 dropout_rate: float | None = None) -> tuple[torch.Tensor, Any]:
        if dropout_rate is not None and dropout_rate != self._dropout_rate:
            for layer in self._dropouts:
                layer.p = float(dropout_rate)
            self._dropout_rate = dropout_rate
        if self._batch_norms and self._bn_frozen == bool(update_batch_norm):
            self._freeze_batch_norm(not update_batch_norm)
        inputs = augmented_and_preprocessed_input_batch["inputs"]
        if mode == spec.ForwardPassMode.EVAL:
            if params.training:
                params.eval()
            with torch.no_grad():
                return params(inputs), model_state
        if not params.training:
            params.train()
        return params(inputs), model_state

    def _freeze_batch_norm(self, freeze: bool) -> None:
        for layer in self._batch_norms:
            if freeze:
                layer.momentum_backup = layer.momentum
                layer.momentum = 0.0  # running = (1 - 0)·running + 0·batch: unchanged
            else:
                layer.momentum = getattr(layer, "momentum_backup", layer.momentum)
        self._bn_frozen = freeze

    def _elementwise(self, label_smoothing: float | None) -> Callable:
        if label_smoothing is None:
            return self.runtime.elementwise_loss
        loss = self._losses.get(label_smoothing)
        if loss is None:
            ref = self.runtime.spec.loss
            factory = LOSSES.get(ref.name)
            if "label_smoothing" in inspect.signature(factory).parameters:
                loss = factory(**{**ref.params, "label_smoothing": float(label_smoothing)})
            else:  # a regression or binary loss: no label smoothing, as in AlgoPerf
                loss = self.runtime.elementwise_loss
            self._losses[label_smoothing] = loss
        return loss

    def loss_fn(self, label_batch: torch.Tensor, logits_batch: torch.Tensor, mask_batch: torch.Tensor | None = None,
                label_smoothing: float | None = None) -> dict[str, torch.Tensor]:
        per_example = self._elementwise(label_smoothing)(logits_batch, label_batch)
        if self.runtime.spec.l2:
            per_example = per_example + self.runtime.regularizer(self.model)
        if mask_batch is None or mask_batch is self._ones:  # all ones: multiplying changes nothing
            n_valid = torch.full((), per_example.numel(), dtype=per_example.dtype, device=per_example.device)
        else:
            mask = mask_batch.reshape(per_example.shape).to(per_example.dtype)
            per_example = per_example * mask
            n_valid = mask.sum()
        summed = per_example.sum()
        if self.recorder is not None:
            self.recorder.last = (summed / n_valid).detach()
        return {"summed": summed, "n_valid_examples": n_valid, "per_example": per_example}

    # -- what the benchmark defines ----------------------------------------------------------------
    @property
    def target_metric_name(self) -> str:
        return self.runtime.spec.target.metric.split("/", 1)[-1]

    @property
    def validation_target_value(self) -> float:
        return self.runtime.spec.target.value

    @property
    def test_target_value(self) -> float:
        return self.runtime.spec.target.value

    def has_reached_validation_target(self, eval_result: dict[str, float]) -> bool:
        return self.runtime.spec.target.is_hit(eval_result.get(self.runtime.spec.target.metric))

    def has_reached_test_target(self, eval_result: dict[str, float]) -> bool:
        return self.has_reached_validation_target(eval_result)  # optbench workloads have one target

    @property
    def loss_type(self) -> spec.LossType:
        return self._loss_type

    @property
    def num_train_examples(self) -> int:
        size = _split_size(self.runtime.data, "train")
        if size is None:
            raise NotImplementedError(f"workload {self.runtime.name} draws fresh training data: "
                                      "num_train_examples is not defined")
        return size

    @property
    def eval_batch_size(self) -> int:
        return 2048

    @property
    def num_eval_train_examples(self) -> int:
        limit = getattr(self.runtime.data, "train_eval_size", None)
        size = _split_size(self.runtime.data, "train")
        return min(limit, size) if limit and size else (size or 0)

    @property
    def num_validation_examples(self) -> int:
        return _split_size(self.runtime.data, "validation") or 0

    @property
    def num_test_examples(self) -> int | None:
        return _split_size(self.runtime.data, "test")

    @property
    def train_mean(self) -> Any:
        return None

    @property
    def train_stddev(self) -> Any:
        return None

    @property
    def max_allowed_runtime_sec(self) -> float:
        return self.runtime.spec.budget.seconds

    @property
    def eval_period_time_sec(self) -> float:
        policy, budget = self.runtime.spec.eval, self.runtime.spec.budget
        if policy.every_seconds is not None:
            return policy.every_seconds
        return policy.every_steps * budget.seconds / budget.step_hint

    @property
    def step_hint(self) -> int:
        return self.runtime.spec.budget.step_hint

    def is_output_params(self, param_key: str) -> bool:
        return param_key in self._output_params

    def init_model_fn(self, rng: Any) -> tuple[torch.nn.Module, None]:
        """Re-initialise the trial's model in place (seeded by ``rng``) and return it."""
        seed = int(rng[0]) if hasattr(rng, "__getitem__") else int(rng)
        fresh = self.runtime.init_model(seed)
        getattr(self.model, "module", self.model).load_state_dict(fresh.state_dict())
        return self.model, None
