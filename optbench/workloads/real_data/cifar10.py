"""CIFAR-10 from ``cifar-10-batches-py``, held on the device as uint8, augmented on the device.

The whole dataset (180 MB as uint8) lives on the trial's device, so a training batch is
an index, a gather and a few elementwise ops: no host-side loader and no copy per
step. Augmentation — random crop with zero padding, then a horizontal flip with
probability 1/2 — is one gather on the padded batch, with offsets and flips drawn from
the trial's generator (on the CPU, so runs are reproducible on any device).
Validation is the official 10,000-image test batch, as in the CIFAR-10 speed-run literature.
"""

from __future__ import annotations

from typing import Any, Iterator

import torch
import torch.nn.functional as F

from optbench.workloads.data import Batch
from optbench.workloads.real_data.formats import CIFAR_SUBDIR, read_cifar10
from optbench.workloads.registry import register_dataset

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)


def crop_flip(images: torch.Tensor, shifts: torch.Tensor, flips: torch.Tensor, padding: int) -> torch.Tensor:
    """Random crops of a zero-padded NHWC batch, mirrored where ``flips``: one gather.

    ``shifts`` (B, 2) in ``[0, 2 padding]`` are the crop's top/left corner in the padded image.
    """
    b, h, w, _ = images.shape
    padded = F.pad(images, (0, 0, padding, padding, padding, padding))
    columns = torch.arange(w, device=images.device).expand(b, w)
    columns = torch.where(flips[:, None].bool(), w - 1 - columns, columns) + shifts[:, 1:]
    rows = torch.arange(h, device=images.device) + shifts[:, :1]
    return padded[torch.arange(b, device=images.device)[:, None, None], rows[:, :, None], columns[:, None, :]]


class Cifar10Data:
    """Splits ``train`` (augmented batches; its first ``train_eval_size`` images for train/ metrics)
    and ``validation`` (the test batch)."""

    def __init__(self, arrays: dict, augment: bool, padding: int, train_eval_size: int, eval_batch_size: int):
        named = {"train": arrays["train"], "validation": arrays["test"]}
        self.images = {s: torch.from_numpy(x.copy()) for s, (x, _) in named.items()}  # N×32×32×3 uint8
        self.labels = {s: torch.from_numpy(y) for s, (_, y) in named.items()}
        self.augment, self.padding = augment, padding
        self.train_eval_size, self.eval_batch_size = train_eval_size, eval_batch_size
        self.splits = ("train", "validation")
        self.info = {"num_classes": 10, "image_size": 32}
        self.metadata = {"num_train": len(self.labels["train"]), "num_validation": len(self.labels["validation"])}
        self.mean, self.std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)

    def to(self, device: torch.device | str) -> Cifar10Data:
        self.images = {k: v.to(device) for k, v in self.images.items()}
        self.labels = {k: v.to(device) for k, v in self.labels.items()}
        self.mean, self.std = self.mean.to(device), self.std.to(device)
        return self

    def _normalise(self, images: torch.Tensor) -> torch.Tensor:
        """NHWC uint8 → NCHW float (channels-last in memory), standardised per channel."""
        return (images.permute(0, 3, 1, 2).float() / 255 - self.mean) / self.std

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
        """Endless shuffled epochs (the last incomplete batch dropped), augmented on the device."""
        images, labels = self.images["train"], self.labels["train"]
        n, device = len(labels), labels.device
        batch_size = min(batch_size, n)
        while True:
            order = torch.randperm(n, generator=generator).to(device)
            for start in range(0, n - batch_size + 1, batch_size):
                idx = order[start:start + batch_size]
                x = images[idx]
                if self.augment:
                    shifts = torch.randint(0, 2 * self.padding + 1, (batch_size, 2), generator=generator)
                    flips = torch.randint(0, 2, (batch_size,), generator=generator)
                    x = crop_flip(x, shifts.to(device), flips.to(device), self.padding)
                yield self._normalise(x), labels[idx]

    def eval_batches(self, split: str, batch_size: int) -> Iterator[Batch]:
        images, labels = self.images[split], self.labels[split]
        n = min(self.train_eval_size, len(labels)) if split == "train" else len(labels)
        batch_size = min(batch_size, self.eval_batch_size)
        for start in range(0, n, batch_size):
            stop = min(start + batch_size, n)
            yield self._normalise(images[start:stop]), labels[start:stop]


@register_dataset("cifar10")
def cifar10(data_dir: Any = None, subdir: str = CIFAR_SUBDIR, num_train: int | None = 50000,
            num_test: int | None = 10000, augment: bool = True, padding: int = 4, train_eval_size: int = 10000,
            eval_batch_size: int = 2000) -> Cifar10Data:
    """CIFAR-10 read from ``data_dir/cifar-10-batches-py``; ``num_train``/``num_test``: the counts the
    folder must hold (None: whatever it holds — the tiny generated copies)."""
    check, arrays = read_cifar10(data_dir, subdir, num_train, num_test)
    if not check.ok:
        raise check.error()
    return Cifar10Data(arrays, augment, padding, train_eval_size, eval_batch_size)
