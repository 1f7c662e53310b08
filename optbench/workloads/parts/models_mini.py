"""Models of the mini suite's AlgoPerf analogues: small transformers and a DLRM.

* ``char_transformer``: a GPT-style causal language model on bytes (pre-LayerNorm
  blocks, learned positions, ``scaled_dot_product_attention``), the WMT/LM analogue;
* ``grok_transformer``: the one-layer transformer of modular-arithmetic grokking
  (Nanda et al. 2023: d = 128, 4 heads, MLP 512, no LayerNorm), reading ``a b =`` and
  predicting the answer from the last position;
* ``dlrm``: DLRM (Naumov et al. 2019): a bottom MLP for the dense features, one
  embedding table per categorical feature, pairwise dot-product interactions and a top
  MLP, the Criteo analogue.

Each factory takes the dataset's ``info`` first, like the models in ``models.py``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from optbench.workloads import roles
from optbench.workloads.registry import register_model


class Block(nn.Module):
    """Attention + MLP with residual connections; pre-LayerNorm unless ``layer_norm`` is False."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, layer_norm: bool = True):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim) if layer_norm else nn.Identity()
        self.ln2 = nn.LayerNorm(dim) if layer_norm else nn.Identity()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_dim), nn.GELU(), nn.Linear(mlp_dim, dim))

    def forward(self, x: torch.Tensor, causal: bool) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
        x = x + self.proj(attended.transpose(1, 2).reshape(B, T, D))
        return x + self.mlp(self.ln2(x))


class CharTransformer(nn.Module):
    def __init__(self, vocab: int, context: int, dim: int, layers: int, heads: int):
        super().__init__()
        self.token = nn.Embedding(vocab, dim)
        self.position = nn.Parameter(torch.zeros(context, dim))
        self.blocks = nn.ModuleList(Block(dim, heads, 4 * dim) for _ in range(layers))
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)
        nn.init.normal_(self.token.weight, std=0.02)
        nn.init.normal_(self.position, std=0.02)
        for block in self.blocks:  # GPT-2's scaled init of the residual projections
            for layer in (block.proj, block.mlp[2]):
                nn.init.normal_(layer.weight, std=0.02 / math.sqrt(2 * layers))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.token(tokens) + self.position[: tokens.size(1)]
        for block in self.blocks:
            x = block(x, causal=True)
        return self.head(self.ln(x))  # (B, T, vocab)

    def parameter_roles(self) -> dict[str, roles.Role]:
        return roles.by_name(self, embedding=("token.weight", "position"), head=("head.weight",))


@register_model("char_transformer")
def char_transformer(info: dict[str, Any], dim: int = 128, layers: int = 2, heads: int = 4) -> nn.Module:
    return CharTransformer(info["vocab_size"], info["context"], dim, layers, heads)


class GrokTransformer(nn.Module):
    def __init__(self, vocab: int, length: int, num_classes: int, dim: int, heads: int, mlp_dim: int,
                 layers: int, layer_norm: bool):
        super().__init__()
        self.token = nn.Embedding(vocab, dim)
        self.position = nn.Parameter(torch.randn(length, dim) / math.sqrt(dim))
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_dim, layer_norm) for _ in range(layers))
        self.head = nn.Linear(dim, num_classes, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.token(tokens) + self.position
        for block in self.blocks:
            x = block(x, causal=False)
        return self.head(x[:, -1])  # (B, num_classes): read out at the "=" token

    def parameter_roles(self) -> dict[str, roles.Role]:
        return roles.by_name(self, embedding=("token.weight", "position"), head=("head.weight",))


@register_model("grok_transformer")
def grok_transformer(info: dict[str, Any], dim: int = 128, heads: int = 4, mlp_dim: int = 512, layers: int = 1,
                     layer_norm: bool = False) -> nn.Module:
    return GrokTransformer(info["vocab_size"], info["sequence_length"], info["num_classes"], dim, heads, mlp_dim,
                           layers, layer_norm)


def _mlp(widths: list[int], last_activation: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if last_activation or i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class DLRM(nn.Module):
    def __init__(self, num_dense: int, cardinalities: list[int], embed_dim: int, bottom: list[int], top: list[int]):
        super().__init__()
        self.bottom = _mlp([num_dense, *bottom, embed_dim], last_activation=True)
        self.embeddings = nn.ModuleList(nn.Embedding(n, embed_dim) for n in cardinalities)
        for table in self.embeddings:  # AlgoPerf's DLRM init: uniform(±1/sqrt(rows))
            bound = 1.0 / math.sqrt(table.num_embeddings)
            nn.init.uniform_(table.weight, -bound, bound)
        vectors = len(cardinalities) + 1
        self.pairs = torch.triu_indices(vectors, vectors, offset=1)
        self.top = _mlp([embed_dim + self.pairs.size(1), *top, 1], last_activation=False)

    def forward(self, inputs: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        dense, categorical = inputs
        z = self.bottom(dense)
        vectors = torch.stack([z, *(table(categorical[:, j]) for j, table in enumerate(self.embeddings))], dim=1)
        dots = torch.bmm(vectors, vectors.transpose(1, 2))[:, self.pairs[0], self.pairs[1]]
        return self.top(torch.cat([z, dots], dim=1)).squeeze(-1)  # (B,) logits

    def parameter_roles(self) -> dict[str, roles.Role]:
        """The tables and the dense input layer are the inputs; the top MLP's last layer the head."""
        tables = tuple(f"embeddings.{j}.weight" for j in range(len(self.embeddings)))
        return roles.by_name(self, embedding=(*tables, "bottom.0.weight"), head=(f"top.{len(self.top) - 1}.weight",))


@register_model("dlrm")
def dlrm(info: dict[str, Any], embed_dim: int = 16, bottom: list[int] | None = None,
         top: list[int] | None = None) -> nn.Module:
    return DLRM(info["num_dense"], list(info["cardinalities"]), embed_dim, list(bottom or [64, 32]),
                list(top or [64, 32]))
