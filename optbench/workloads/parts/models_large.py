"""ResNet-18 (CIFAR variant), ResNet-50 and GPT-2, in plain torch (no torchvision).

Every factory takes the dataset's ``info`` first; ``width`` (ResNets) and
``n_layer``/``n_embd``/``n_head`` (GPT-2) shrink the models for the CPU-sized ``gpu_tiny`` suite.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from optbench.errors import OptbenchError
from optbench.workloads import roles
from optbench.workloads.registry import register_model


def _bn(channels: int, zero: bool = False) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(channels)
    if zero:
        nn.init.zeros_(bn.weight)
    return bn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, width: int, stride: int, zero_init: bool):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False), _bn(width)
        self.conv2, self.bn2 = nn.Conv2d(width, width, 3, 1, 1, bias=False), _bn(width, zero_init)
        self.shortcut = _shortcut(cin, width, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int, zero_init: bool):
        super().__init__()
        cout = width * self.expansion
        self.conv1, self.bn1 = nn.Conv2d(cin, width, 1, bias=False), _bn(width)
        self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride, 1, bias=False), _bn(width)  # stride here: v1.5
        self.conv3, self.bn3 = nn.Conv2d(width, cout, 1, bias=False), _bn(cout, zero_init)
        self.shortcut = _shortcut(cin, cout, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        return F.relu(self.bn3(self.conv3(out)) + self.shortcut(x))


def _shortcut(cin: int, cout: int, stride: int) -> nn.Module:
    if stride == 1 and cin == cout:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), _bn(cout))


class ResNet(nn.Module):
    """Four stages of ``blocks``; ``small_stem``: a 3×3 stem without pooling (32×32 CIFAR images)."""

    def __init__(self, block: type, blocks: list[int], num_classes: int, width: int = 64, small_stem: bool = False,
                 zero_init_residual: bool = False):
        super().__init__()
        if small_stem:
            self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), _bn(width), nn.ReLU())
        else:
            self.stem = nn.Sequential(nn.Conv2d(3, width, 7, 2, 3, bias=False), _bn(width), nn.ReLU(),
                                      nn.MaxPool2d(3, 2, 1))
        layers, cin = [], width
        for stage, count in enumerate(blocks):
            for i in range(count):
                planes = width * 2**stage
                layers.append(block(cin, planes, 2 if stage > 0 and i == 0 else 1, zero_init_residual))
                cin = planes * block.expansion
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.layers(self.stem(x)), 1), 1))

    def parameter_roles(self) -> dict[str, roles.Role]:
        return roles.by_name(self, head=("fc.weight",))


@register_model("resnet18_cifar")
def resnet18_cifar(info: dict[str, Any], width: int = 64, zero_init_residual: bool = False) -> nn.Module:
    """ResNet-18 with a 3×3 stem and no max-pool, as usual for 32×32 images (11.2M parameters at width 64)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], info["num_classes"], width, small_stem=True,
                  zero_init_residual=zero_init_residual)


@register_model("resnet50")
def resnet50(info: dict[str, Any], width: int = 64, zero_init_residual: bool = False) -> nn.Module:
    """ResNet-50 v1.5 (stride in the 3×3 convolution; 25.6M parameters at width 64 with 1000 classes)."""
    return ResNet(Bottleneck, [3, 4, 6, 3], info["num_classes"], width, zero_init_residual=zero_init_residual)


# -- GPT-2 ------------------------------------------------------------------------------------------------


class Block(nn.Module):
    """Pre-LayerNorm transformer block: causal self-attention, then a 4× GELU MLP."""

    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.ln_1, self.ln_2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.qkv, self.proj = nn.Linear(n_embd, 3 * n_embd), nn.Linear(n_embd, n_embd)
        self.fc, self.fc_proj = nn.Linear(n_embd, 4 * n_embd), nn.Linear(4 * n_embd, n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln_1(x)).view(b, t, 3, self.n_head, c // self.n_head).permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(attn.transpose(1, 2).reshape(b, t, c))
        return x + self.fc_proj(F.gelu(self.fc(self.ln_2(x)), approximate="tanh"))


class GPT2(nn.Module):
    def __init__(self, vocab_size: int, seq_len: int, n_layer: int, n_head: int, n_embd: int):
        super().__init__()
        if n_embd % n_head:
            raise OptbenchError(f"model gpt2: n_embd={n_embd} is not a multiple of n_head={n_head}")
        self.wte, self.wpe = nn.Embedding(vocab_size, n_embd), nn.Embedding(seq_len, n_embd)
        self.blocks = nn.ModuleList(Block(n_embd, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        for name, param in self.named_parameters():  # GPT-2's init; residual projections get 0.02/sqrt(2L)
            if param.dim() == 2:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(param, std=std)
            elif name.endswith("bias"):
                nn.init.zeros_(param)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.size(1), device=tokens.device)
        x = self.wte(tokens) + self.wpe(positions)
        for block in self.blocks:
            x = block(x)
        return F.linear(self.ln_f(x), self.wte.weight)  # (B, T, vocab) logits, weights tied

    def parameter_roles(self) -> dict[str, roles.Role]:
        """The token table is also the head (tied): it is an embedding, as the speedrun treats it."""
        return roles.by_name(self, embedding=("wte.weight", "wpe.weight"))


@register_model("gpt2")
def gpt2(info: dict[str, Any], n_layer: int = 12, n_head: int = 12, n_embd: int = 768,
         vocab_size: int | None = None, seq_len: int | None = None) -> nn.Module:
    """GPT-2 (small by default: 124M parameters); vocab and context default to the dataset's."""
    vocab = vocab_size or info["vocab_size"]
    if vocab < info["vocab_size"]:
        raise OptbenchError(f"model gpt2: vocab_size={vocab} is smaller than the data's ({info['vocab_size']})")
    return GPT2(vocab, seq_len or info["seq_len"], n_layer, n_head, n_embd)
