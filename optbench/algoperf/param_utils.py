"""Parameter shapes and roles of a PyTorch model, by parameter name (``workload.param_shapes``/``model_params_types``).

AlgoPerf tells a submission what each parameter is (weight, bias, batch-norm scale,
embedding ...) so that, for instance, weight decay can skip biases and norms. In PyTorch
it decides by the parameter's qualified name; this module does the same for the names
optbench's models use (``bn``/``norm``/``ln``, ``conv``, ``embed``, ``attn``/``attention``,
``bias``), and falls back to the module type when the name says nothing: a parameter of a
``BatchNorm``/``LayerNorm``/``Conv``/``Embedding`` module is typed by its module.
"""

from __future__ import annotations

from typing import Any

from optbench.algoperf import spec

_ATTENTION_PARTS = (("in_proj", spec.ParameterType.ATTENTION_QKV), ("qkv", spec.ParameterType.ATTENTION_QKV),
                    ("kv_proj", spec.ParameterType.ATTENTION_KV), ("q_proj", spec.ParameterType.ATTENTION_Q),
                    ("query", spec.ParameterType.ATTENTION_Q), ("k_proj", spec.ParameterType.ATTENTION_K),
                    ("key", spec.ParameterType.ATTENTION_K), ("v_proj", spec.ParameterType.ATTENTION_V),
                    ("value", spec.ParameterType.ATTENTION_V), ("out", spec.ParameterType.ATTENTION_OUT))


def pytorch_param_shapes(model: Any) -> dict[str, spec.ShapeTuple]:
    """Parameter name -> :class:`~optbench.algoperf.spec.ShapeTuple`, in ``named_parameters`` order."""
    return {name: spec.ShapeTuple(p.shape) for name, p in model.named_parameters()}


def _is_scale(leaf: str) -> bool:
    return leaf in ("weight", "scale", "gamma")


def _by_name(name: str) -> spec.ParameterType | None:
    lowered = name.lower()
    leaf = lowered.rsplit(".", 1)[-1]
    bias = leaf in ("bias", "beta")
    if "bn" in lowered or "batchnorm" in lowered or "batch_norm" in lowered:
        return spec.ParameterType.BATCH_NORM_BIAS if bias else spec.ParameterType.BATCH_NORM_SCALE
    if "norm" in lowered or any(part.startswith("ln") for part in lowered.split(".")[:-1]):
        return spec.ParameterType.LAYER_NORM_BIAS if bias else spec.ParameterType.LAYER_NORM_SCALE
    if "attn" in lowered or "attention" in lowered:
        if bias:
            return spec.ParameterType.ATTENTION_BIAS
        return next((kind for part, kind in _ATTENTION_PARTS if part in lowered), spec.ParameterType.WEIGHT)
    if "conv" in lowered:
        return spec.ParameterType.BIAS if bias else spec.ParameterType.CONV_WEIGHT
    if "embed" in lowered and not bias:
        return spec.ParameterType.EMBEDDING
    return None


def _by_module(module: Any, leaf: str) -> spec.ParameterType | None:
    import torch

    bias = leaf == "bias"
    if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
        return spec.ParameterType.BATCH_NORM_BIAS if bias else spec.ParameterType.BATCH_NORM_SCALE
    if isinstance(module, (torch.nn.LayerNorm, torch.nn.GroupNorm)) or type(module).__name__.endswith("Norm"):
        return spec.ParameterType.LAYER_NORM_BIAS if bias else spec.ParameterType.LAYER_NORM_SCALE
    if isinstance(module, torch.nn.modules.conv._ConvNd):
        return spec.ParameterType.BIAS if bias else spec.ParameterType.CONV_WEIGHT
    if isinstance(module, (torch.nn.Embedding, torch.nn.EmbeddingBag)):
        return spec.ParameterType.EMBEDDING
    if isinstance(module, torch.nn.MultiheadAttention):
        return spec.ParameterType.ATTENTION_BIAS if "bias" in leaf else spec.ParameterType.ATTENTION_QKV
    return None


def pytorch_param_types(param_shapes: dict[str, Any], model: Any = None) -> dict[str, spec.ParameterType]:
    """Parameter name -> :class:`~optbench.algoperf.spec.ParameterType`.

    ``model`` (optional, an optbench extension) lets the module type decide where the name
    does not: ``layers.3.weight`` of a ``Conv1d`` is a convolution weight.
    """
    modules = dict(model.named_modules()) if model is not None else {}
    types = {}
    for name in param_shapes:
        owner, _, leaf = name.rpartition(".")
        kind = _by_name(name)
        if kind is None and owner in modules:
            kind = _by_module(modules[owner], leaf)
        if kind is None:
            kind = spec.ParameterType.BIAS if leaf == "bias" else spec.ParameterType.WEIGHT
        types[name] = kind
    return types
