"""Elementwise metrics ``(outputs, targets) -> per-example values``, averaged over a split."""

from __future__ import annotations

import torch

from optbench.workloads.groups import group_loss_metrics
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


# -- per-frequency-group losses (zipf_classes) -------------------------------------------------
# For datasets whose class ids are the classes' frequency ranks (class 0 the most frequent),
# the classes fall into three groups by rank decade: ``head`` the top 1 % of classes,
# ``mid`` the next 9 %, ``tail`` the remaining 90 % (for 1,000 Zipf(1) classes: ranks 0–9
# hold ~39 % of the examples, 10–99 ~30 %, 100–999 ~31 %). Each metric is the mean
# cross-entropy over the examples of its group only, a (values, weights) pair that
# Workload.evaluate averages as Σ values·weights / Σ weights: the per-group training loss
# of Kunstner et al. (2024), where SGD stalls on the tail and Adam does not.


def class_group_bounds(num_classes: int) -> tuple[int, int]:
    """First rank of ``mid`` and first rank of ``tail`` for ``num_classes`` ranked classes."""
    head_end = max(1, num_classes // 100)
    return head_end, max(head_end + 1, num_classes // 10)


def _group_loss(group: str):
    def metric(outputs: torch.Tensor, targets: torch.Tensor):
        if outputs.dim() > 2:
            outputs, targets = outputs.reshape(-1, outputs.size(-1)), targets.reshape(-1)
        head_end, mid_end = class_group_bounds(outputs.size(-1))
        lo, hi = {"head": (0, head_end), "mid": (head_end, mid_end), "tail": (mid_end, outputs.size(-1))}[group]
        losses = torch.nn.functional.cross_entropy(outputs.float(), targets, reduction="none")
        return losses, (targets >= lo) & (targets < hi)

    metric.__name__ = f"loss_{group}"
    metric.__doc__ = f"Mean cross-entropy over the examples of the {group} classes (by frequency rank)."
    return metric


for _group in ("head", "mid", "tail"):
    register_metric(f"loss_{_group}")(_group_loss(_group))


@register_metric("group_loss")
def group_loss(data, elementwise_loss):
    """A metric *kind*: ``group_loss_0`` … ``group_loss_<G-1>``, the workload's loss per group of
    classes by training frequency, ~10 % of the examples each (:mod:`optbench.workloads.groups`)."""
    return group_loss_metrics(data, elementwise_loss)


group_loss.per_workload = True  # type: ignore[attr-defined]  # built from the data: Workload expands it
