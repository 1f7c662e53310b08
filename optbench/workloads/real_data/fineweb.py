"""FineWeb GPT-2 tokens in modded-nanogpt's shards: windows for language modelling.

Train shards (100M tokens each) stay on disk as memory maps; a batch is ``batch_size``
windows of ``seq_len + 1`` tokens gathered on the host (pinned on CUDA) and copied to
the device without blocking. ``sampling: random`` draws each window's start uniformly
over all train tokens with the trial's generator; ``sequential`` reads the shards in
order, contiguously, as modded-nanogpt does. Validation is a fixed count of tokens
(``val_tokens``, modded-nanogpt's 10,485,760 by default) from the start of the
validation shards, held on the device; train/ metrics use the first ``train_eval_tokens``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from optbench.errors import OptbenchError
from optbench.workloads.data import Batch
from optbench.workloads.real_data.formats import FINEWEB_SUBDIR, open_shard, scan_fineweb
from optbench.workloads.registry import register_dataset


def _first_tokens(shards: list[tuple[Path, int]], count: int) -> torch.Tensor:
    """The first ``count`` tokens of the concatenated shards, as int32."""
    parts, left = [], count
    for path, tokens in shards:
        take = min(left, tokens)
        parts.append(np.asarray(open_shard(path, tokens)[:take], dtype=np.int32))
        left -= take
        if not left:
            break
    return torch.from_numpy(np.concatenate(parts))


class FineWebData:
    def __init__(self, shards: dict[str, list[tuple[Path, int]]], seq_len: int, val_tokens: int,
                 train_eval_tokens: int, vocab_size: int, sampling: str, eval_batch_size: int):
        self.train = [(open_shard(p, n), n) for p, n in shards["train"]]
        self.seq_len, self.sampling, self.eval_batch_size = seq_len, sampling, eval_batch_size
        self.held = {"validation": _first_tokens(shards["validation"], val_tokens + 1)}
        if train_eval_tokens:
            self.held["train"] = _first_tokens(shards["train"], train_eval_tokens + 1)
        self.splits = tuple(s for s in ("train", "validation") if s in self.held)
        self.info = {"vocab_size": vocab_size, "seq_len": seq_len}
        self.metadata = {"val_tokens": val_tokens, "train_tokens": sum(n for _, n in self.train)}
        self.device = torch.device("cpu")

    def to(self, device: torch.device | str) -> FineWebData:
        self.device = torch.device(device)
        self.held = {k: v.to(self.device) for k, v in self.held.items()}
        return self

    def _starts(self, batch_size: int, generator: torch.Generator) -> Iterator[list[tuple[int, int]]]:
        """(shard, offset) of each window of each batch, forever."""
        span = self.seq_len + 1
        if self.sampling == "random":  # uniform over every window start of every shard
            usable = torch.tensor([max(n - span + 1, 0) for _, n in self.train], dtype=torch.float64)
            while True:
                shard = torch.multinomial(usable, batch_size, replacement=True, generator=generator)
                offset = (torch.rand(batch_size, generator=generator, dtype=torch.float64) * usable[shard]).long()
                yield list(zip(shard.tolist(), offset.tolist()))
        shard, position = 0, 0
        while True:  # sequential: consecutive windows, next shard when this one is used up, then wrap around
            starts = []
            while len(starts) < batch_size:
                if position + span > self.train[shard][1]:
                    shard, position = (shard + 1) % len(self.train), 0
                    continue
                starts.append((shard, position))
                position += self.seq_len
            yield starts

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
        pin = self.device.type == "cuda"
        for starts in self._starts(batch_size, generator):
            windows = np.stack([self.train[s][0][o:o + self.seq_len + 1] for s, o in starts]).astype(np.int64)
            host = torch.from_numpy(windows)
            if pin:
                host = host.pin_memory()
            tokens = host.to(self.device, non_blocking=True)
            yield tokens[:, :-1], tokens[:, 1:]

    def eval_batches(self, split: str, batch_size: int) -> Iterator[Batch]:
        tokens, t = self.held[split], self.seq_len
        windows = (len(tokens) - 1) // t
        inputs, targets = tokens[:windows * t].view(windows, t), tokens[1:windows * t + 1].view(windows, t)
        batch_size = min(batch_size, self.eval_batch_size)
        for start in range(0, windows, batch_size):
            yield inputs[start:start + batch_size].long(), targets[start:start + batch_size].long()


@register_dataset("fineweb_tokens")
def fineweb_tokens(data_dir: Any = None, subdir: str = FINEWEB_SUBDIR, seq_len: int = 1024,
                   val_tokens: int = 10485760, train_eval_tokens: int = 1048576, vocab_size: int = 50257,
                   sampling: str = "random", train_shards: int | None = None,
                   eval_batch_size: int = 16) -> FineWebData:
    """GPT-2-tokenised FineWeb from ``data_dir/fineweb10B``; ``train_shards``: use only the first N."""
    for name, count in (("val_tokens", val_tokens), ("train_eval_tokens", train_eval_tokens)):
        if count % seq_len:
            raise OptbenchError(f"dataset fineweb_tokens: {name}={count} is not a multiple of seq_len={seq_len}")
    if sampling not in ("random", "sequential"):
        raise OptbenchError(f"dataset fineweb_tokens: sampling={sampling!r}; expected random or sequential")
    check, shards = scan_fineweb(data_dir, subdir, seq_len, val_tokens, vocab_size, train_shards, train_eval_tokens)
    if not check.ok:
        raise check.error()
    return FineWebData(shards, seq_len, val_tokens, train_eval_tokens, vocab_size, sampling, eval_batch_size)
