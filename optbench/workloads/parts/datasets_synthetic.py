"""Generated data for the mini suite's AlgoPerf analogues (no download, deterministic in ``seed``).

* ``modular_addition`` (workload ``grokking``): every pair (a, b) of Z_p as the tokens
  ``a b =`` with label (a + b) mod p; a seeded ``train_fraction`` of the p² pairs trains,
  the rest validates (Power et al. 2022).
* ``zipf_classes``: Gaussian clusters in ``dim`` dimensions whose class frequencies
  follow Zipf's law, π_k ∝ 1/(k+1)^exponent; class ids are frequency ranks (0 the most
  common), which the per-group metrics ``loss_head``/``loss_mid``/``loss_tail`` rely on.
  Every class has at least one training and one validation example.
* ``click_logs`` (workload ``click_dlrm``): an endless stream of synthetic click logs.
  Each example has ``num_dense`` Gaussian dense features and one id per categorical
  table, drawn from a Zipf law over the table's rows (heavy-tailed: a few ids are very
  common, most are rare). The click probability is a planted logistic model:
  logit = bias + ⟨w, dense⟩ + Σ_j β_j[id_j] + Σ_{j<k} ⟨u_j[id_j], u_k[id_k]⟩,
  so the first-order effects of rare ids and the pairwise interactions both have to be
  learned. Training batches are fresh samples (no example is seen twice, as in one pass
  over Criteo); validation and the train-eval split are fixed samples. ``metadata``
  records the Bayes log-loss of the validation sample (the planted model's own), the
  floor no model can beat.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import torch

from optbench.workloads.data import Batch, TensorData, _move
from optbench.workloads.registry import register_dataset


@register_dataset("modular_addition")
def modular_addition(modulus: int = 97, train_fraction: float = 0.5, seed: int = 0) -> TensorData:
    a, b = np.meshgrid(np.arange(modulus), np.arange(modulus), indexing="ij")
    a, b = a.ravel(), b.ravel()
    tokens = np.stack([a, b, np.full_like(a, modulus)], axis=1)  # token `modulus` is "="
    labels = (a + b) % modulus
    order = np.random.default_rng(seed).permutation(len(labels))
    n_train = int(round(train_fraction * len(labels)))
    x, y = torch.tensor(tokens[order], dtype=torch.long), torch.tensor(labels[order], dtype=torch.long)
    return TensorData(
        {"train": (x[:n_train], y[:n_train]), "validation": (x[n_train:], y[n_train:])},
        info={"vocab_size": modulus + 1, "sequence_length": 3, "num_classes": modulus},
        metadata={"modulus": modulus, "train_pairs": n_train, "validation_pairs": len(labels) - n_train},
    )


def zipf_counts(total: int, num_classes: int, exponent: float, minimum: int = 1) -> np.ndarray:
    """Deterministic class counts ≈ total·π_k, each at least ``minimum``."""
    weights = 1.0 / np.arange(1, num_classes + 1) ** exponent
    return np.maximum(minimum, np.round(total * weights / weights.sum())).astype(int)


@register_dataset("zipf_classes")
def zipf_classes(num_classes: int = 1000, dim: int = 64, num_train: int = 50000, num_validation: int = 10000,
                 exponent: float = 1.0, noise: float = 1.0, seed: int = 0) -> TensorData:
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((num_classes, dim))

    def sample(total: int) -> tuple[torch.Tensor, torch.Tensor]:
        labels = np.repeat(np.arange(num_classes), zipf_counts(total, num_classes, exponent))
        labels = labels[rng.permutation(len(labels))]
        x = means[labels] + noise * rng.standard_normal((len(labels), dim))
        return torch.tensor(x, dtype=torch.float32), torch.tensor(labels, dtype=torch.long)

    train, validation = sample(num_train), sample(num_validation)
    counts = np.bincount(train[1].numpy(), minlength=num_classes)
    return TensorData(
        {"train": train, "validation": validation},
        info={"input_dim": dim, "num_classes": num_classes},
        metadata={"zipf_exponent": exponent, "train_count_most_common": int(counts[0]),
                  "train_count_rarest": int(counts[-1]), "train_examples": int(counts.sum())},
    )


class ClickStream:
    """The :class:`~optbench.spec.Dataset` protocol for freshly sampled click logs."""

    splits = ("train", "validation")

    def __init__(self, truth: dict[str, Any], fixed: dict[str, Batch], info: dict[str, Any],
                 metadata: dict[str, Any]):
        self.truth, self.fixed, self.info, self.metadata = truth, fixed, info, metadata

    def to(self, device: torch.device | str) -> ClickStream:
        self.truth = {k: (v.to(device) if isinstance(v, torch.Tensor) else [t.to(device) for t in v])
                      for k, v in self.truth.items()}
        self.fixed = {k: (_move(x, device), y.to(device)) for k, (x, y) in self.fixed.items()}
        return self

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
        while True:
            yield sample_clicks(self.truth, batch_size, generator)[0]

    def eval_batches(self, split: str, batch_size: int) -> Iterator[Batch]:
        (dense, categorical), labels = self.fixed[split]
        for start in range(0, len(labels), batch_size):
            end = start + batch_size
            yield (dense[start:end], categorical[start:end]), labels[start:end]


def sample_clicks(truth: dict[str, Any], n: int, generator: torch.Generator) -> tuple[Batch, torch.Tensor]:
    """``n`` examples and their true click probabilities, drawn with ``generator`` (on CPU)."""
    device = truth["bias"].device
    dense = torch.randn(n, truth["w_dense"].numel(), generator=generator).to(device)
    uniform = torch.rand(len(truth["cdfs"]), n, generator=generator).to(device)
    ids = torch.stack([torch.searchsorted(cdf, uniform[j]).clamp_(max=len(cdf) - 1)
                       for j, cdf in enumerate(truth["cdfs"])], dim=1)
    ids = torch.stack([perm[ids[:, j]] for j, perm in enumerate(truth["perms"])], dim=1)
    logit = truth["bias"] + dense @ truth["w_dense"]
    latents = []
    for j in range(ids.size(1)):
        logit = logit + truth["beta"][j][ids[:, j]]
        latents.append(truth["u"][j][ids[:, j]])
    latents = torch.stack(latents, dim=1)  # (n, tables, rank)
    gram = torch.bmm(latents, latents.transpose(1, 2))
    logit = logit + gram.triu(diagonal=1).sum(dim=(1, 2))
    prob = torch.sigmoid(logit)
    labels = (torch.rand(n, generator=generator).to(device) < prob).float()
    return ((dense, ids), labels), prob


@register_dataset("click_logs")
def click_logs(cardinalities: list[int] | None = None, num_dense: int = 4, zipf_exponent: float = 1.1,
               effect_scale: float = 1.0, interaction_rank: int = 4, interaction_scale: float = 0.35,
               bias: float = -2.0, num_validation: int = 20000, num_train_eval: int = 10000,
               seed: int = 0) -> ClickStream:
    cards = list(cardinalities or [40000, 20000, 10000, 5000, 2000, 1000, 500, 100])
    g = torch.Generator().manual_seed(seed)
    cdfs, perms, betas, us = [], [], [], []
    for n in cards:
        weights = 1.0 / torch.arange(1, n + 1, dtype=torch.float64) ** zipf_exponent
        cdfs.append((weights.cumsum(0) / weights.sum()).float())
        perms.append(torch.randperm(n, generator=g))  # ids do not reveal their frequency rank
        betas.append(effect_scale * torch.randn(n, generator=g))
        us.append(interaction_scale * torch.randn(n, interaction_rank, generator=g))
    truth = {"bias": torch.tensor(bias), "w_dense": 0.5 * torch.randn(num_dense, generator=g),
             "cdfs": cdfs, "perms": perms, "beta": betas, "u": us}
    (val_x, val_y), val_p = sample_clicks(truth, num_validation, torch.Generator().manual_seed(seed + 1))
    (tr_x, tr_y), _ = sample_clicks(truth, num_train_eval, torch.Generator().manual_seed(seed + 2))
    eps = 1e-7
    bayes = -(val_y * torch.log(val_p + eps) + (1 - val_y) * torch.log(1 - val_p + eps)).mean()
    rate = val_y.mean()
    constant = -(rate * torch.log(rate) + (1 - rate) * torch.log(1 - rate))
    return ClickStream(
        truth, {"train": (tr_x, tr_y), "validation": (val_x, val_y)},
        info={"num_dense": num_dense, "cardinalities": cards},
        metadata={"bayes_logloss_validation": float(bayes), "constant_logloss_validation": float(constant),
                  "click_rate_validation": float(rate)},
    )
