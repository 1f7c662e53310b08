"""The baselines in submissions/: each loads, its search space samples, and it trains."""

from __future__ import annotations

import dataclasses

import pytest

from optbench import submissions as subs
from optbench.spec import Budget, EvalPolicy, TrialSpec
from optbench.trial import run_trial
from optbench.tuning.points import sample_points
from optbench.tuning.spaces import load_search_space
from optbench.workloads import find_workload
from tests.conftest import one_thread

ALL = ["adamw", "nadamw", "sgd_nesterov", "heavy_ball", "schedule_free_adamw", "lion", "muon"]
NEW = ["heavy_ball", "schedule_free_adamw", "lion"]


@pytest.mark.parametrize("name", ALL)
def test_baseline_folder_is_complete(name):
    sub = subs.load_folder(subs.find_submission(name))
    readme = (sub.path / "README.md").read_text()
    assert len(readme.split()) > 60 and "efault" in readme  # says where the defaults come from
    space = load_search_space(sub.search_space_path)
    points = sample_points(space, 4, 0, source=str(sub.search_space_path))
    assert len(points) == 4
    assert set(space.names) <= set(sub.defaults), "every searched hyperparameter has a self-tuning default"


def test_lion_is_a_yaml_only_submission_naming_a_class():
    sub = subs.find_submission("lion")
    assert sub.form == "yaml" and sub.config["optimizer"] == "lion_pytorch.Lion"
    assert not (sub.path / "submission.py").exists()


@pytest.mark.parametrize("name", NEW)
def test_new_baseline_trains_with_its_defaults(name):
    wl = find_workload("digits_mlp")
    wl = dataclasses.replace(wl, budget=Budget(30, 100, max_steps=60), eval=EvalPolicy(every_steps=10))
    sub = subs.find_submission(name)
    outcome = run_trial(TrialSpec(wl, name, str(sub.path), {}, seed=0, stop_at_target=False), one_thread())
    result = outcome.result
    assert result.status == "budget_exhausted" and result.steps == 60, result.error or result.traceback
    # evals every 10 steps: schedule-free switched to eval weights and back without complaint
    assert result.num_evals >= 6
    assert outcome.evals[-1]["train/loss"] < 0.95 * outcome.evals[0]["train/loss"]


def test_schedule_free_evaluates_the_averaged_weights():
    """prepare_for_eval swaps in x (the average); the next update swaps y back."""
    import torch

    sub = subs.load_folder(subs.find_submission("schedule_free_adamw"))
    model = torch.nn.Linear(3, 1)
    from optbench.spec import Context

    ctx = Context("w", 100, 10.0, 4, "cpu", 0)
    hparams = sub.resolve_hparams({})
    state = sub.init(model, hparams, ctx)
    batch = (torch.randn(4, 3), torch.randn(4))

    def loss_fn(m, b):
        return (m(b[0]).squeeze(1) - b[1]).pow(2).mean()

    for _ in range(5):
        state = sub.update(model, batch, loss_fn, state, hparams, ctx)
    train_weights = model.weight.detach().clone()
    state = sub.prepare_for_eval(model, state, hparams, ctx)
    assert not torch.equal(model.weight, train_weights)
    state = sub.update(model, batch, loss_fn, state, hparams, ctx)  # switches back, then steps
    assert state["optimizer"].param_groups[0]["train_mode"]


@pytest.mark.slow  # ~8 s: char_lm's corpus is read once
def test_muon_puts_the_hidden_matrices_in_its_muon_group_and_trains_char_lm():
    from optbench.spec import Clock, Context
    from optbench.workloads.roles import parameter_roles, params_by_role
    from optbench.workloads.runtime import build_workload

    sub = subs.load_folder(subs.find_submission("muon"))
    model = build_workload(find_workload("char_lm")).init_model(0)
    roles = parameter_roles(model)
    ctx = Context("char_lm", 600, 30.0, 32, "cpu", 0, parameter_roles=roles, params_by_role=params_by_role(model, roles))
    state = sub.init(model, sub.resolve_hparams({}), ctx)
    names = {id(p): n for n, p in model.named_parameters()}
    by_kind = {g["use_muon"]: {names[id(p)] for p in g["params"]} for g in state["optimizer"].param_groups}
    hidden = {f"blocks.{i}.{m}.weight" for i in range(2) for m in ("qkv", "proj", "mlp.0", "mlp.2")}
    assert by_kind[True] == hidden
    assert by_kind[False] == set(names.values()) - hidden
    assert {"token.weight", "position", "head.weight", "head.bias", "ln.weight"} <= by_kind[False]

    wl = find_workload("char_lm")
    wl = dataclasses.replace(wl, budget=Budget(wl.budget.seconds, wl.budget.step_hint, steps=15, max_steps=15),
                             eval=EvalPolicy(every_steps=100))
    outcome = run_trial(TrialSpec(wl, "muon", str(sub.path), {}, seed=0, clock=Clock.STEPS), one_thread())
    assert outcome.result.status == "budget_exhausted", outcome.result.error or outcome.result.traceback
    assert outcome.evals[-1]["train/loss"] < 0.9 * outcome.evals[0]["train/loss"]
