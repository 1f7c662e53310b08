"""Small models for the CPU workloads. Each factory takes the dataset's ``info`` first."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from optbench.workloads import roles
from optbench.workloads.registry import register_model


@register_model("linear")
def linear(info: dict[str, Any], bias: bool = False, zero_init: bool = True) -> nn.Module:
    """A linear model with one output per class (one score for binary problems).

    Zero init makes the convex workloads start from x₀ = 0, where f(x₀) is known.
    """
    outputs = info.get("num_outputs", 1)
    model = nn.Linear(info["input_dim"], outputs, bias=bias)
    if zero_init:
        nn.init.zeros_(model.weight)
        if bias:
            nn.init.zeros_(model.bias)
    return roles.tag(model, roles.by_name(model, head=("weight",)))


@register_model("mlp")
def mlp(info: dict[str, Any], hidden: list[int] | int = 128, dropout: float = 0.0) -> nn.Module:
    widths = [hidden] if isinstance(hidden, int) else list(hidden)
    layers: list[nn.Module] = []
    previous = info["input_dim"]
    for width in widths:
        layers += [nn.Linear(previous, width), nn.ReLU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        previous = width
    layers.append(nn.Linear(previous, info["num_classes"]))
    model = nn.Sequential(*layers)
    return roles.tag(model, roles.by_name(model, embedding=("0.weight",), head=(f"{len(layers) - 1}.weight",)))


class CNN1d(nn.Module):
    """Three 1-D convolutions (the last two with stride 2) and a linear head."""

    def __init__(self, length: int, num_classes: int, channels: int = 32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv1d(1, channels, 5, padding=2), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, stride=2, padding=1), nn.ReLU(),
        )
        self.head = nn.Linear(channels * ((length + 3) // 4), num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.unsqueeze(1)).flatten(1))

    def parameter_roles(self) -> dict[str, roles.Role]:
        return roles.by_name(self, head=("head.weight",))


@register_model("cnn1d")
def cnn1d(info: dict[str, Any], channels: int = 32) -> nn.Module:
    return CNN1d(info["input_dim"], info["num_classes"], channels)
