"""Byte-level text that exists offline on every machine: the Python standard library's sources.

``stdlib_bytes`` (workload ``char_lm``) reads the ``*.py`` files at the top of
``sysconfig.get_paths()["stdlib"]``, shuffles the file list with a fixed seed and puts
whole files into validation (``validation_fraction`` of the files) or training, so no
function is split across the two. Training batches are random windows of the training
bytes (fresh windows every step: an effectively endless stream); evaluation uses fixed,
non-overlapping windows from the start of each split, so every eval sees the same bytes.

The corpus depends on the Python minor version (3.11's standard library differs from
3.12's): ``metadata`` records the Python version, the file count and a hash of the
bytes, so results from different corpora are never compared unknowingly.
"""

from __future__ import annotations

import hashlib
import sys
import sysconfig
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from optbench.errors import OptbenchError
from optbench.workloads.data import Batch
from optbench.workloads.registry import register_dataset


class ByteStream:
    """The :class:`~optbench.spec.Dataset` protocol for next-byte prediction."""

    splits = ("train", "validation")

    def __init__(self, train: torch.Tensor, validation: torch.Tensor, context: int, eval_windows: int,
                 info: dict[str, Any], metadata: dict[str, Any]):
        self.bytes = {"train": train, "validation": validation}
        self.context, self.eval_windows = context, eval_windows
        self.info, self.metadata = info, metadata

    def to(self, device: torch.device | str) -> ByteStream:
        self.bytes = {k: v.to(device) for k, v in self.bytes.items()}
        return self

    def class_counts(self) -> torch.Tensor:
        """How often each byte is a training target (the group_loss metric groups bytes by it)."""
        return torch.bincount(self.bytes["train"][1:].long().cpu(), minlength=256)

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
        data = self.bytes["train"]
        offsets = torch.arange(self.context + 1, device=data.device)
        while True:
            starts = torch.randint(0, len(data) - self.context - 1, (batch_size,), generator=generator)
            windows = data[starts.to(data.device)[:, None] + offsets].long()
            yield windows[:, :-1], windows[:, 1:]

    def eval_batches(self, split: str, batch_size: int) -> Iterator[Batch]:
        data = self.bytes[split]
        count = min(self.eval_windows, (len(data) - 1) // self.context)
        windows = data[: count * self.context + 1]
        inputs = windows[:-1].view(count, self.context).long()
        targets = windows[1:].view(count, self.context).long()
        rows = max(1, batch_size // self.context)  # batch_size counts tokens here
        for start in range(0, count, rows):
            yield inputs[start:start + rows], targets[start:start + rows]


def stdlib_files() -> list[Path]:
    folder = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(folder.glob("*.py"))
    if not files:
        raise OptbenchError(f"dataset stdlib_bytes: no *.py files in the standard library folder {folder}")
    return files


@register_dataset("stdlib_bytes")
def stdlib_bytes(context: int = 64, validation_fraction: float = 0.1, max_train_bytes: int = 4_000_000,
                 eval_windows: int = 256, seed: int = 0) -> ByteStream:
    """Python standard-library sources as bytes, split by file (see the module docstring)."""
    files = stdlib_files()
    order = np.random.default_rng(seed).permutation(len(files))
    n_val = max(1, int(round(validation_fraction * len(files))))
    val_files = [files[i] for i in order[:n_val]]
    train_files = [files[i] for i in order[n_val:]]

    def read(paths: list[Path], limit: int | None) -> bytes:
        chunks, total = [], 0
        for path in paths:
            chunk = path.read_bytes() + b"\n"
            chunks.append(chunk)
            total += len(chunk)
            if limit is not None and total >= limit:
                break
        return b"".join(chunks)[:limit]

    train, validation = read(train_files, max_train_bytes), read(val_files, None)
    if len(validation) < context * eval_windows + 1:
        raise OptbenchError(f"dataset stdlib_bytes: the validation files hold {len(validation)} bytes, fewer than "
                            f"eval_windows x context = {eval_windows * context}; lower eval_windows")
    digest = hashlib.sha256(train + b"\0" + validation).hexdigest()[:16]
    as_tensor = lambda b: torch.frombuffer(bytearray(b), dtype=torch.uint8)  # noqa: E731
    return ByteStream(
        as_tensor(train), as_tensor(validation), context, eval_windows,
        info={"vocab_size": 256, "context": context},
        metadata={"corpus": "python-stdlib", "python": f"{sys.version_info.major}.{sys.version_info.minor}",
                  "files_train": len(train_files), "files_validation": len(val_files), "train_bytes": len(train),
                  "validation_bytes": len(validation), "corpus_sha256": digest},
    )
