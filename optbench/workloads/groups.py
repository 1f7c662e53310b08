"""Frequency groups of classes and the ``group_loss`` metric kind (Kunstner et al. 2024).

Why: on heavy-tailed labels (words, bytes, Zipf classes) SGD is said to make almost no
progress on the rare classes while Adam does. To see that (or refute it) on one's own
optimizer, the training loss is split by class frequency: the classes are sorted by how
often they occur in the *training* split, most frequent first, and cut into groups that
each hold about ``1/num_groups`` of the training examples (a class is never split, so a
class holding 13 % of the examples is a group of its own). ``metrics: [group_loss]`` in a
workload YAML then logs ``<split>/group_loss_<g>`` for g = 0 (the most frequent classes)
… G-1 (the rarest) at every eval: the mean loss over the examples whose class is in group g.

The counts come from the dataset: ``class_counts()`` when it has one (exact), else a
fixed-seed sample of training batches (streaming datasets).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

#: Groups by default: ~10 % of the training examples each, as in Kunstner et al. (2024).
NUM_GROUPS = 10
#: A streaming dataset without ``class_counts()``: count the targets of this many batches.
SAMPLE_BATCHES, SAMPLE_BATCH_SIZE = 64, 256


def frequency_groups(counts: np.ndarray | list[int], num_groups: int = NUM_GROUPS) -> np.ndarray:
    """The group (0 = most frequent) of every class, from its training count.

    Classes sorted by count (ties by class id) fill groups in order; a class goes to the
    group where the examples before it end, ``floor(G * before / total)``, so each group
    holds about ``total / G`` examples; group numbers are then made consecutive (a class
    heavier than ``1/G`` leaves no empty group behind it). Classes never seen in training
    are in no group (-1): a group of them would have no training loss at all (NaN).
    """
    counts = np.asarray(counts, dtype=np.int64)
    if counts.ndim != 1 or len(counts) == 0 or (counts < 0).any():
        raise ValueError("counts: expected a non-empty vector of non-negative class counts")
    if num_groups < 1:
        raise ValueError("num_groups: expected an integer >= 1")
    total = counts.sum()
    order = np.argsort(-counts, kind="stable")
    before = np.concatenate([[0], np.cumsum(counts[order])[:-1]])
    raw = np.minimum(num_groups - 1, (num_groups * before) // max(total, 1))
    seen = counts[order] > 0
    groups = np.full(len(counts), -1, dtype=np.int64)
    if seen.any():
        _, consecutive = np.unique(raw[seen], return_inverse=True)
        groups[order[seen]] = consecutive
    return groups


def class_counts(data: Any, num_classes: int | None = None) -> np.ndarray:
    """Training examples per class: the dataset's own ``class_counts()``, else a fixed-seed sample."""
    if callable(getattr(data, "class_counts", None)):
        counts = np.asarray(data.class_counts(), dtype=np.int64)
    else:
        batches = data.train_batches(SAMPLE_BATCH_SIZE, torch.Generator().manual_seed(0))
        targets = torch.cat([next(batches)[1].reshape(-1).long().cpu() for _ in range(SAMPLE_BATCHES)])
        counts = np.bincount(targets.numpy(), minlength=num_classes or 0)
    if num_classes is not None and len(counts) < num_classes:
        counts = np.concatenate([counts, np.zeros(num_classes - len(counts), dtype=np.int64)])
    return counts


def num_classes_of(data: Any) -> int | None:
    info = getattr(data, "info", {}) or {}
    return info.get("num_classes") or info.get("vocab_size")


def group_loss_metrics(data: Any, elementwise_loss: Callable[[Any, torch.Tensor], torch.Tensor],
                       num_groups: int = NUM_GROUPS) -> dict[str, Callable[[Any, torch.Tensor], Any]]:
    """``group_loss_<g>`` → a (values, weights) metric: the workload's loss on group g's examples."""
    groups = torch.as_tensor(frequency_groups(class_counts(data, num_classes_of(data)), num_groups))

    last: dict[str, Any] = {}  # the G metrics of one eval batch share its losses and group ids

    def per_example(outputs: Any, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if last.get("outputs") is not outputs or last.get("targets") is not targets:
            flat = targets.reshape(-1).long()
            ids = groups.to(flat.device)[flat.clamp(0, len(groups) - 1)]
            ids = torch.where(flat < len(groups), ids, -1)  # -1: a class never seen in training
            last.update(outputs=outputs, targets=targets, losses=elementwise_loss(outputs, targets).reshape(-1), ids=ids)
        return last["losses"], last["ids"]

    def make(g: int) -> Callable[[Any, torch.Tensor], Any]:
        def metric(outputs: Any, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            losses, ids = per_example(outputs, targets)
            return losses, ids == g

        metric.__name__ = f"group_loss_{g}"
        return metric

    return {f"group_loss_{g}": make(g) for g in range(int(groups.max()) + 1)}
