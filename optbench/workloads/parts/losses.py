"""Elementwise losses: ``(outputs, targets) -> per-example (or per-token) losses``.

The runner takes the mean for training and the exact average over a whole split
for evaluation, so every loss here uses ``reduction="none"``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from optbench.workloads.registry import register_loss


@register_loss("cross_entropy")
def cross_entropy(label_smoothing: float = 0.0):
    def loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if logits.dim() > 2:  # sequences: (B, T, V) against (B, T)
            logits, targets = logits.reshape(-1, logits.size(-1)), targets.reshape(-1)
        return F.cross_entropy(logits, targets, reduction="none", label_smoothing=label_smoothing)

    return loss


@register_loss("logistic")
def logistic():
    """log(1 + exp(-y z)) with labels y in {-1, +1}: the lecture's logistic regression."""

    def loss(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.softplus(-labels * scores.reshape(labels.shape))

    return loss


@register_loss("binary_cross_entropy")
def binary_cross_entropy():
    """Log-loss on logits with labels in {0, 1} (click prediction)."""

    def loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(logits.reshape(labels.shape), labels.float(), reduction="none")

    return loss


@register_loss("squared_error")
def squared_error():
    """1/2 (prediction - target)^2, the least-squares objective."""

    def loss(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return 0.5 * (predictions.reshape(targets.shape) - targets).pow(2)

    return loss
