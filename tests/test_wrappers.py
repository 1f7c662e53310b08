"""Wrapper optimizers named in YAML with their base: SAM (two passes, both timed and counted) and
Lookahead (a base instance inside). pytorch-optimizer is an optional extra: without it these skip."""

from __future__ import annotations

import dataclasses

import pytest

from optbench.errors import OptbenchError
from optbench.spec import Budget, Clock, EvalPolicy, TrialSpec
from optbench.submissions import load_submission
from optbench.trial import run_trial
from optbench.workloads import find_workload
from tests.conftest import one_thread, write

pytest.importorskip("pytorch_optimizer", reason="pytorch-optimizer is an optional extra: "
                    "pip install 'optbench[optimizers]'")


def digits_trial(folder, steps=30) -> TrialSpec:
    wl = find_workload("digits_mlp")
    wl = dataclasses.replace(wl, budget=Budget(wl.budget.seconds, wl.budget.step_hint, steps=steps, max_steps=steps),
                             eval=EvalPolicy(every_steps=10))
    return TrialSpec(wl, folder.name, str(folder), {}, seed=0, clock=Clock.STEPS)


@pytest.mark.slow  # two passes a step, 30 steps: a few seconds, far more on a loaded machine
def test_sam_around_sgd_trains_and_counts_both_passes(tmp_path):
    folder = tmp_path / "sam"
    write(folder / "submission.yaml", """
        optimizer: pytorch_optimizer.SAM
        base: torch.optim.SGD
        closure: after_backward
        defaults: {learning_rate: 0.1, momentum: 0.9, rho: 0.05, warmup_fraction: 0.05}
    """)
    sub = load_submission(folder)
    outcome = run_trial(digits_trial(folder), one_thread())
    result = outcome.result
    assert result.status in ("budget_exhausted", "reached"), result.error or result.traceback
    assert result.loss_evaluations == 2 * result.steps  # the gradient at w, then at w + e(w)
    assert outcome.evals[-1]["train/loss"] < 0.8 * outcome.evals[0]["train/loss"]
    # the hyperparameters reached the right object: rho the wrapper, lr and momentum its base
    import torch

    state = sub.init(torch.nn.Linear(3, 2), sub.resolve_hparams({}), _ctx())
    sam = state["optimizer"]
    assert type(sam.base_optimizer) is torch.optim.SGD
    assert sam.param_groups[0]["rho"] == 0.05 and sam.base_optimizer.param_groups[0]["momentum"] == 0.9


def test_lookahead_wraps_a_base_instance(tmp_path):
    import torch

    folder = tmp_path / "lookahead"
    write(folder / "submission.yaml", """
        optimizer: pytorch_optimizer.Lookahead
        base: torch.optim.AdamW
        defaults: {learning_rate: 3.0e-3, k: 5, alpha: 0.5}
    """)
    sub = load_submission(folder)
    state = sub.init(torch.nn.Linear(3, 2), sub.resolve_hparams({}), _ctx())
    assert type(state["optimizer"].optimizer) is torch.optim.AdamW and state["optimizer"].k == 5
    outcome = run_trial(digits_trial(folder), one_thread())
    assert outcome.result.status in ("budget_exhausted", "reached"), outcome.result.error
    assert outcome.result.loss_evaluations == outcome.result.steps
    assert outcome.evals[-1]["train/loss"] < 0.8 * outcome.evals[0]["train/loss"]


def test_sam_without_its_closure_flag_says_what_to_write(tmp_path):
    folder = tmp_path / "sam_undeclared"
    write(folder / "submission.yaml", "optimizer: pytorch_optimizer.SAM\nbase: torch.optim.SGD\n"
                                      "defaults: {learning_rate: 0.1}\n")
    outcome = run_trial(digits_trial(folder, steps=2), one_thread())
    assert outcome.result.status == "failed" and "closure: after_backward" in outcome.result.error


def test_a_hyperparameter_neither_takes_is_one_line(tmp_path):
    import torch

    folder = tmp_path / "sam_typo"
    write(folder / "submission.yaml", "optimizer: pytorch_optimizer.SAM\nbase: torch.optim.SGD\n"
                                      "closure: after_backward\ndefaults: {learning_rate: 0.1, rhoo: 0.05}\n")
    sub = load_submission(folder)
    with pytest.raises(OptbenchError, match="'rhoo' is not an argument of SGD"):
        sub.init(torch.nn.Linear(3, 2), sub.resolve_hparams({}), _ctx())


def _ctx():
    from optbench.spec import Context

    return Context("w", 100, 10.0, 4, "cpu", 0)
