"""A workload made runnable: data, a fresh model, the loss, and evaluation.

:func:`build_workload` turns a :class:`~optbench.spec.WorkloadSpec` into a
:class:`Workload` by calling the registered factories. The trial loop only ever
talks to this object, so a workload plugged in from user code behaves exactly like
a built-in one.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable

import torch

from optbench.errors import OptbenchError
from optbench.spec import Dataset, WorkloadSpec
from optbench.workloads.data import Batch
from optbench.workloads.registry import DATASETS, LOSSES, METRICS, MODELS


def _call(factory: Callable[..., Any], what: str, spec: WorkloadSpec, *args: Any, **params: Any) -> Any:
    """Call a factory; a wrong parameter name is the user's YAML, so say so in one line."""
    try:
        return factory(*args, **params)
    except TypeError as exc:
        if "argument" in str(exc):
            raise OptbenchError(f"{spec.path or spec.name}: {what}: {exc}") from None
        raise


@dataclass
class Workload:
    spec: WorkloadSpec
    data: Dataset
    elementwise_loss: Callable[[Any, torch.Tensor], torch.Tensor]
    metric_fns: dict[str, Callable[[Any, torch.Tensor], torch.Tensor]]
    device: torch.device

    @property
    def name(self) -> str:
        return self.spec.name

    def init_model(self, seed: int) -> torch.nn.Module:
        """A freshly initialised model; the seed fixes its initial weights."""
        torch.manual_seed(seed)
        ref = self.spec.model
        model = _call(MODELS.get(ref.name), f"model {ref.name}", self.spec, self.data.info, **ref.params)
        return model.to(self.device)

    def regularizer(self, model: torch.nn.Module) -> torch.Tensor | float:
        if not self.spec.l2:
            return 0.0
        return 0.5 * self.spec.l2 * sum(p.pow(2).sum() for p in model.parameters())

    def loss_fn(self, model: torch.nn.Module, batch: Batch) -> torch.Tensor:
        """The training objective on one batch: mean loss (+ the workload's L2 term, if any)."""
        inputs, targets = batch
        loss = self.elementwise_loss(model(inputs), targets).mean()
        return loss + self.regularizer(model) if self.spec.l2 else loss

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, batch_size: int = 2048) -> dict[str, float]:
        """Every metric on every split, as ``<split>/<metric>``; the model is left in train mode.

        A metric returns per-example values (averaged over the split), or a pair
        ``(values, weights)``, averaged as Σ values·weights / Σ weights (NaN when no
        weight is positive): the loss over one group of classes, for instance.

        When the dataset declares the optimum ``f_star`` (and the objective at the
        initial point, ``f_init``) this adds ``train/objective`` and the relative
        suboptimality ``train/suboptimality = (f - f*) / (f_init - f*)``.
        """
        was_training = model.training
        model.eval()
        results: dict[str, float] = {}
        for split in self.data.splits:
            sums = dict.fromkeys(["loss", *self.metric_fns], 0.0)
            weights: dict[str, float] = {}  # metrics that return (values, weights): weighted means
            count = 0
            for inputs, targets in self.data.eval_batches(split, batch_size):
                outputs = model(inputs)
                losses = self.elementwise_loss(outputs, targets)
                sums["loss"] += float(losses.sum())
                for name, fn in self.metric_fns.items():
                    values = fn(outputs, targets)
                    if isinstance(values, tuple):  # e.g. the loss over one group of classes only
                        values, weight = values[0].float() * values[1].float(), values[1]
                        weights[name] = weights.get(name, 0.0) + float(weight.float().sum())
                    sums[name] += float(values.float().sum())
                count += losses.numel()
            for name, total in sums.items():
                denominator = weights.get(name, max(count, 1))
                results[f"{split}/{name}"] = total / denominator if denominator > 0 else math.nan
        meta = self.data.metadata
        if "f_star" in meta and "train/loss" in results:
            objective = results["train/loss"] + float(self.regularizer(model))
            results["train/objective"] = objective
            gap = meta.get("f_init", 1.0 + meta["f_star"]) - meta["f_star"]
            results["train/suboptimality"] = (objective - meta["f_star"]) / gap if gap > 0 else math.nan
        model.train(was_training)
        return results


def build_workload(spec: WorkloadSpec, device: str | torch.device = "cpu", data_dir: str | None = None) -> Workload:
    """Generate or read the data and resolve every named part of ``spec``."""
    device = torch.device(device)
    params = dict(spec.dataset.params)
    if data_dir is not None and "data_dir" in inspect.signature(DATASETS.get(spec.dataset.name)).parameters:
        params.setdefault("data_dir", data_dir)  # only datasets that read files take it (a run mixes both)
    data = _call(DATASETS.get(spec.dataset.name), f"dataset {spec.dataset.name}", spec, **params).to(device)
    declared_l2 = data.metadata.get("l2")
    if declared_l2 is not None and abs(declared_l2 - spec.l2) > 1e-15:
        raise OptbenchError(
            f"{spec.path or spec.name}: l2: the dataset's f* was solved with l2={declared_l2}, "
            f"but the workload says l2={spec.l2}; make them equal"
        )
    loss = _call(LOSSES.get(spec.loss.name), f"loss {spec.loss.name}", spec, **spec.loss.params)
    metric_fns = {}
    for name in (m for m in spec.metrics if m != "loss"):
        fn = METRICS.get(name)  # a metric kind built from the data (group_loss) gives several metrics
        metric_fns.update(fn(data, loss) if getattr(fn, "per_workload", False) else {name: fn})
    workload = Workload(spec, data, loss, metric_fns, device)
    known = {f"{s}/{m}" for s in data.splits for m in ["loss", *metric_fns]}
    if "f_star" in data.metadata:
        known |= {"train/objective", "train/suboptimality"}
    if spec.target.metric not in known:
        raise OptbenchError(
            f"{spec.path or spec.name}: target.metric: {spec.target.metric!r} is not measured by this workload; "
            f"measured: {', '.join(sorted(known))}"
        )
    return workload
