"""AlgoPerf's API names as PyTorch submissions use them: enums, type names, ``Workload``, ``TrainingCompleteError``.

Written for optbench from AlgoPerf's documentation of its ``spec`` module. The type names
(``ParameterContainer``, ``OptimizerState`` ...) only annotate submissions' signatures, so
they are ``Any`` here; the enums keep AlgoPerf's member names and values because
submissions compare against them. No torch import: this module is imported by the
submission before any tensor exists, and by tests that need no torch.
"""

from __future__ import annotations

import abc
import enum
from typing import Any, Callable, Dict, List, Tuple

from optbench.spec import TrainingComplete


class LossType(enum.Enum):
    """What kind of loss a workload trains with (``workload.loss_type``)."""

    SOFTMAX_CROSS_ENTROPY = 0
    SIGMOID_CROSS_ENTROPY = 1
    MEAN_SQUARED_ERROR = 2
    CTC_LOSS = 3
    MEAN_ABSOLUTE_ERROR = 4


class ForwardPassMode(enum.Enum):
    """``model_fn``'s mode: TRAIN (train mode, gradients) or EVAL (eval mode, no gradients)."""

    TRAIN = 0
    EVAL = 1


class ParameterType(enum.Enum):
    """The role of one parameter tensor (``workload.model_params_types``)."""

    WEIGHT = 0
    BIAS = 1
    CONV_WEIGHT = 2
    BATCH_NORM_SCALE = 3
    BATCH_NORM_BIAS = 4
    LAYER_NORM_SCALE = 5
    LAYER_NORM_BIAS = 6
    EMBEDDING = 7
    ATTENTION_Q = 8
    ATTENTION_K = 9
    ATTENTION_V = 10
    ATTENTION_OUT = 11
    ATTENTION_QKV = 12
    ATTENTION_KV = 13
    ATTENTION_BIAS = 14


class ShapeTuple:
    """A parameter's shape, wrapped so that tree utilities treat it as one leaf."""

    def __init__(self, shape_tuple: Tuple[int, ...]):
        self.shape_tuple = tuple(shape_tuple)

    def __repr__(self) -> str:
        return f"ShapeTuple({self.shape_tuple})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ShapeTuple) and self.shape_tuple == other.shape_tuple

    def __hash__(self) -> int:
        return hash(self.shape_tuple)


# Type names submissions use in annotations; in PyTorch they are modules, dicts and tensors.
Tensor = Any
Shape = Any
ParameterKey = str
ParameterShapeTree = Dict[str, Any]
ParameterTypeTree = Dict[str, ParameterType]
ParameterContainer = Any  #: the torch.nn.Module (DistributedDataParallel-wrapped in data-parallel trials)
ModelAuxiliaryState = Any  #: None for PyTorch models: batch-norm statistics live in the module
ModelInitState = Tuple[ParameterContainer, ModelAuxiliaryState]
RandomState = Any  #: an int32 array of shape (2,), a new one every step
OptimizerState = Any
Hyperparameters = Any  #: a namedtuple of the trial's hyperparameters, or None (self-tuning)
Timing = int
Steps = int
UpdateReturn = Tuple[OptimizerState, ParameterContainer, ModelAuxiliaryState]
InitOptimizerFn = Callable[..., OptimizerState]
UpdateParamsFn = Callable[..., UpdateReturn]
PrepareForEvalFn = Callable[..., UpdateReturn]
DataSelectionFn = Callable[..., Dict[str, Tensor]]
EvalResults = List[Tuple[int, Dict[str, Any]]]


class TrainingCompleteError(TrainingComplete):
    """Raised by ``update_params`` to end training now: the trial gets its final (timed) eval and stops."""


class Workload(metaclass=abc.ABCMeta):
    """The workload as a submission sees it. optbench's implementation is
    :class:`optbench.submissions.algoperf_workload.WorkloadAdapter`; the abstract members are AlgoPerf's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._param_shapes: ParameterShapeTree | None = None
        self._param_types: ParameterTypeTree | None = None
        self.metrics_logger: Any = None

    def attach_metrics_logger(self, metrics_logger: Any) -> None:
        self.metrics_logger = metrics_logger

    @property
    def param_shapes(self) -> ParameterShapeTree:
        if self._param_shapes is None:
            raise ValueError("param_shapes is known once the model exists")
        return self._param_shapes

    @property
    def model_params_types(self) -> ParameterTypeTree:
        if self._param_types is None:
            raise ValueError("model_params_types is known once the model exists")
        return self._param_types

    # -- what the benchmark defines -------------------------------------------------------------
    @property
    @abc.abstractmethod
    def target_metric_name(self) -> str: ...

    @property
    @abc.abstractmethod
    def validation_target_value(self) -> float: ...

    @property
    @abc.abstractmethod
    def test_target_value(self) -> float: ...

    @abc.abstractmethod
    def has_reached_validation_target(self, eval_result: Dict[str, float]) -> bool: ...

    @abc.abstractmethod
    def has_reached_test_target(self, eval_result: Dict[str, float]) -> bool: ...

    @property
    @abc.abstractmethod
    def loss_type(self) -> LossType: ...

    @property
    @abc.abstractmethod
    def num_train_examples(self) -> int: ...

    @property
    @abc.abstractmethod
    def eval_batch_size(self) -> int: ...

    @property
    @abc.abstractmethod
    def num_eval_train_examples(self) -> int: ...

    @property
    @abc.abstractmethod
    def num_validation_examples(self) -> int: ...

    @property
    @abc.abstractmethod
    def num_test_examples(self) -> int | None: ...

    @property
    @abc.abstractmethod
    def train_mean(self) -> Any: ...

    @property
    @abc.abstractmethod
    def train_stddev(self) -> Any: ...

    @property
    @abc.abstractmethod
    def max_allowed_runtime_sec(self) -> float: ...

    @property
    @abc.abstractmethod
    def eval_period_time_sec(self) -> float: ...

    @property
    @abc.abstractmethod
    def step_hint(self) -> int: ...

    @abc.abstractmethod
    def is_output_params(self, param_key: ParameterKey) -> bool: ...

    @abc.abstractmethod
    def init_model_fn(self, rng: RandomState) -> ModelInitState: ...

    @abc.abstractmethod
    def model_fn(self, params: ParameterContainer, augmented_and_preprocessed_input_batch: Dict[str, Tensor],
                 model_state: ModelAuxiliaryState, mode: ForwardPassMode, rng: RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> Tuple[Tensor, ModelAuxiliaryState]: ...

    @abc.abstractmethod
    def loss_fn(self, label_batch: Tensor, logits_batch: Tensor, mask_batch: Tensor | None = None,
                label_smoothing: float | None = None) -> Dict[str, Tensor]: ...

    def output_activation_fn(self, logits_batch: Tensor, framework: str) -> Tensor:
        """Logits to probabilities (or predictions), by ``loss_type``; PyTorch only here."""
        if framework != "pytorch":
            raise ValueError(f"framework {framework!r}: optbench runs PyTorch submissions only")
        import torch

        kind = self.loss_type
        if kind in (LossType.SOFTMAX_CROSS_ENTROPY, LossType.CTC_LOSS):
            return torch.softmax(logits_batch, dim=-1)
        if kind is LossType.SIGMOID_CROSS_ENTROPY:
            return torch.sigmoid(logits_batch)
        return logits_batch

