"""The data interface a dataset factory returns, and the in-memory implementation.

Every mini workload fits in memory, so :class:`TensorData` keeps each split as
tensors (moved once to the trial's device) and draws training batches by indexing
a seeded permutation — the same thing a hand-written loop does, so the runner adds
no input-pipeline overhead. Workloads that stream (fresh samples, random text
windows) implement the same :class:`optbench.spec.Dataset` protocol: ``train_batches``,
``eval_batches``, ``splits``, plus ``info``/``metadata`` and ``to``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import torch

Batch = tuple[Any, torch.Tensor]  #: (inputs, targets); inputs may be a tensor or a tuple of tensors


def _move(x: Any, device: torch.device | str) -> Any:
    if isinstance(x, torch.Tensor):
        return x.to(device)
    return tuple(_move(t, device) for t in x)


def _index(x: Any, idx: torch.Tensor | slice) -> Any:
    if isinstance(x, torch.Tensor):
        return x[idx]
    return tuple(t[idx] for t in x)


@dataclass
class TensorData:
    """Splits held as tensors: ``{"train": (x, y), "validation": (x, y), ...}``.

    ``train_eval_size`` limits the training split used for ``train/*`` metrics to its
    first N examples (the full set when None), as AlgoPerf evaluates on a train subset.
    """

    data: dict[str, tuple[Any, torch.Tensor]]
    info: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    train_eval_size: int | None = None

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(s for s in ("train", "validation", "test") if s in self.data)

    def to(self, device: torch.device | str) -> TensorData:
        self.data = {k: (_move(x, device), y.to(device)) for k, (x, y) in self.data.items()}
        return self

    def class_counts(self) -> torch.Tensor:
        """Training examples per class (integer targets; the group_loss metric groups classes by it)."""
        return torch.bincount(self.data["train"][1].reshape(-1).long().cpu())

    def train_batches(self, batch_size: int, generator: torch.Generator,
                      shard: tuple[int, int] = (0, 1)) -> Iterator[Batch]:
        """Endless shuffled epochs; the last incomplete batch of an epoch is dropped.

        ``shard=(rank, world)`` (data-parallel trials): the same global batches, of which
        only this rank's contiguous ``1/world`` is gathered."""
        x, y = self.data["train"]
        n = len(y)
        batch_size = min(batch_size, n)
        rank, world = shard
        while True:
            perm = torch.randperm(n, generator=generator).to(y.device)
            for start in range(0, n - batch_size + 1, batch_size):
                idx = perm[start:start + batch_size]
                if world > 1:
                    idx = idx.tensor_split(world)[rank]
                yield _index(x, idx), y[idx]

    def eval_batches(self, split: str, batch_size: int) -> Iterator[Batch]:
        x, y = self.data[split]
        n = len(y) if split != "train" or self.train_eval_size is None else min(self.train_eval_size, len(y))
        for start in range(0, n, batch_size):
            yield _index(x, slice(start, start + batch_size)), y[start:start + batch_size]
