"""Elementwise metrics ``(outputs, targets) -> per-example values``, averaged over a split."""

from __future__ import annotations

import torch

from optbench.workloads.registry import register_metric


def _predicted_class(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    if outputs.dim() > 2:
        outputs, targets = outputs.reshape(-1, outputs.size(-1)), targets.reshape(-1)
    return outputs.argmax(-1) == targets


@register_metric("accuracy")
def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Share of correct argmax predictions; for ±1 labels, share of correct signs."""
    if outputs.dim() == 1 or outputs.size(-1) == 1:
        scores = outputs.reshape(targets.shape)
        if targets.min() < 0:  # labels in {-1, +1}
            return torch.sign(scores) == targets
        return (scores > 0).to(targets.dtype) == targets
    return _predicted_class(outputs, targets)


@register_metric("error_rate")
def error_rate(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return ~accuracy(outputs, targets)
