"""The group_loss metric kind: classes grouped by training frequency (~10 % of examples each), and a
planted dataset on which a class that never appears in a batch makes no progress while the others do."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench.spec import Budget, ComponentRef, EvalPolicy, Target, TrialSpec, WorkloadSpec
from optbench.submissions import BUILTIN_SUBMISSIONS_DIR
from optbench.trial import run_trial
from optbench.workloads.data import TensorData
from optbench.workloads.groups import frequency_groups
from tests.conftest import examples, one_thread

#: Planted: four separable classes with 400/300/200/100 training examples; class 3 is never in a batch.
COUNTS, HIDDEN_CLASS = (400, 300, 200, 100), 3


class _NeverClass3(TensorData):
    """TensorData whose batches skip class 3 (it is counted and evaluated, never trained on)."""

    def train_batches(self, batch_size, generator, shard=(0, 1)):
        x, y = self.data["train"]
        keep = y != HIDDEN_CLASS
        x, y = x[keep], y[keep]
        while True:
            perm = torch.randperm(len(y), generator=generator)
            for start in range(0, len(y) - batch_size + 1, batch_size):
                idx = perm[start:start + batch_size]
                yield x[idx], y[idx]


def planted(seed: int = 0) -> TensorData:
    """Dataset factory (named by dotted path in the workload below)."""
    rng = np.random.default_rng(seed)
    means = 3.0 * rng.standard_normal((len(COUNTS), 8))
    labels = np.repeat(np.arange(len(COUNTS)), COUNTS)
    x = means[labels] + 0.5 * rng.standard_normal((len(labels), 8))
    train = (torch.tensor(x, dtype=torch.float32), torch.tensor(labels))
    return _NeverClass3({"train": train, "validation": train}, info={"input_dim": 8, "num_classes": len(COUNTS), "num_outputs": len(COUNTS)})


def test_groups_hold_about_a_tenth_of_the_examples_each():
    counts = 10_000 / np.arange(1, 1001)  # Zipf(1) over 1000 classes
    groups = frequency_groups(np.round(counts).astype(int))
    shares = np.bincount(groups, weights=np.round(counts)) / np.round(counts).sum()
    assert groups[0] == 0 and groups[-1] == groups.max()  # most frequent first, rarest last
    assert np.all(np.diff(groups[np.argsort(-counts, kind="stable")]) >= 0)  # monotone in frequency
    assert shares.max() < 0.2 and shares[1:-1].min() > 0.05  # ~10 % each (a class is never split)


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=200), st.integers(1, 12))
def test_groups_are_consecutive_ordered_and_never_split_a_class(counts, num_groups):
    groups = frequency_groups(counts, num_groups)
    counts = np.asarray(counts)
    seen = counts > 0
    assert np.all(groups[~seen] == -1)  # never seen in training: in no group
    if seen.any():
        assert set(groups[seen]) == set(range(groups.max() + 1))  # no empty group
        assert groups.max() < num_groups
    # a more frequent class is never in a later group than a rarer one
    for i in np.flatnonzero(seen):
        assert np.all(groups[counts > counts[i]] <= groups[i])


def planted_trial():
    workload = WorkloadSpec(
        name="planted_groups", version=1, description="", dataset=ComponentRef("tests.test_groups:planted"),
        model=ComponentRef("linear", {"bias": True}), loss=ComponentRef("cross_entropy"),
        target=Target("validation/accuracy", 1.1, "max"), budget=Budget(seconds=60, step_hint=60, max_steps=60),
        eval=EvalPolicy(every_steps=20), batch_size=50, metrics=("loss", "accuracy", "group_loss"))
    spec = TrialSpec(workload, "sgd_nesterov", str(BUILTIN_SUBMISSIONS_DIR / "sgd_nesterov"),
                     {"learning_rate": 0.05, "warmup_fraction": 0.0}, seed=0)
    return spec, run_trial(spec, one_thread())


@pytest.fixture(scope="module")
def planted_outcome():
    return planted_trial()


def test_a_class_never_in_a_batch_makes_no_progress(planted_outcome):
    _, outcome = planted_outcome
    assert outcome.result.status == "budget_exhausted", outcome.result.error
    first, last = outcome.evals[0], outcome.evals[-1]
    # one group per class here (each holds > 10 % of the examples), in order of frequency
    assert {k for k in first if k.startswith("train/group_loss_")} == {f"train/group_loss_{g}" for g in range(4)}
    for g in range(3):
        assert last[f"train/group_loss_{g}"] < 0.5 * first[f"train/group_loss_{g}"]
    assert last[f"train/group_loss_{HIDDEN_CLASS}"] >= first[f"train/group_loss_{HIDDEN_CLASS}"]
    # the groups' weighted mean is the whole loss
    weighted = sum(c * last[f"train/group_loss_{g}"] for g, c in enumerate(COUNTS)) / sum(COUNTS)
    assert weighted == pytest.approx(last["train/loss"], rel=1e-5)


def test_plot_groups_draws_one_line_per_group_from_the_trials_evals(planted_outcome, tmp_path):
    from optbench import store
    from optbench.report.collect import collect
    from optbench.report.groups import group_curves, write_group_plots

    spec, outcome = planted_outcome
    store.write_trial(tmp_path, spec, outcome.result, outcome.evals)
    data = collect(tmp_path)
    [curves] = group_curves(data)
    lines = curves.by_submission["sgd_nesterov"]
    assert curves.workload == "planted_groups" and len(lines) == 4
    for g, line in enumerate(lines):
        assert list(line.median) == [row[f"train/group_loss_{g}"] for row in outcome.evals]
    written = write_group_plots(data, tmp_path / "plots")
    assert [p.name for p in written] == ["group_loss_planted_groups.png", "group_loss_planted_groups.svg"]
