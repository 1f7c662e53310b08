"""One trial, in process: the clock, the target, the budget, divergence, failure, determinism."""

from __future__ import annotations

import dataclasses

import pytest

from optbench.spec import Budget, EvalPolicy, Target, TrialSpec
from optbench.submissions import BUILTIN_SUBMISSIONS_DIR
from optbench.trial import run_trial
from optbench.workloads import find_workload
from tests.conftest import one_thread


def spec_for(workload, submission="adamw", path=None, hparams=None, **changes) -> TrialSpec:
    wl = find_workload(workload) if isinstance(workload, str) else workload
    wl = dataclasses.replace(wl, **changes) if changes else wl
    return TrialSpec(wl, submission, str(path or BUILTIN_SUBMISSIONS_DIR / submission), hparams or {}, seed=0)


@pytest.mark.parametrize("workload", [pytest.param("logreg", marks=pytest.mark.slow), "digits_mlp",
                                      pytest.param("mnist1d_cnn", marks=pytest.mark.slow)])
# logreg solves its optimum f* when first built (seconds, once per session), the CNN trains for seconds
def test_core_workloads_train_a_few_steps(workload):
    wl = find_workload(workload)
    spec = spec_for(wl, budget=Budget(wl.budget.seconds, wl.budget.step_hint, max_steps=20),
                    eval=EvalPolicy(every_steps=10))
    outcome = run_trial(spec, one_thread())
    assert outcome.result.status in ("budget_exhausted", "reached"), outcome.result.error
    assert outcome.result.steps == 20 or outcome.result.reached
    first, last = outcome.evals[0], outcome.evals[-1]
    assert first["step"] == 1
    assert last["train/loss"] < first["train/loss"]  # it actually learns
    assert all(v == v for v in last.values())  # no NaN metrics


def test_target_hit_records_the_first_eval_that_reaches_it():
    spec = spec_for("digits_mlp", target=Target("validation/accuracy", 0.8, "max"),
                    eval=EvalPolicy(every_steps=5))
    outcome = run_trial(spec, one_thread())
    result, evals = outcome.result, outcome.evals
    assert result.status == "reached"
    hits = [row for row in evals if row["validation/accuracy"] >= 0.8]
    assert hits and hits[0] is evals[-1]  # stopped at the first hit
    assert result.steps_to_target == hits[0]["step"] == result.steps
    assert result.time_to_target == pytest.approx(hits[0]["submission_time"])
    assert 0 < result.time_to_target <= result.submission_time < result.total_time
    assert result.eval_time > 0 and result.init_time > 0
    # every row but the last missed the target; steps are multiples of the eval period (after step 1)
    assert all(row["validation/accuracy"] < 0.8 for row in evals[:-1])
    assert [row["step"] for row in evals[1:]] == list(range(5, result.steps + 1, 5))


def test_budget_ends_the_trial_and_late_evals_do_not_count():
    spec = spec_for("digits_mlp", target=Target("validation/accuracy", 1.01, "max"),
                    budget=Budget(seconds=0.3, step_hint=100), eval=EvalPolicy(every_steps=25))
    outcome = run_trial(spec, one_thread())
    assert outcome.result.status == "budget_exhausted"
    assert outcome.result.submission_time > 0.3  # the step that crossed the budget ended it
    assert outcome.evals[-1]["step"] == outcome.result.steps  # a final eval is recorded


@pytest.mark.slow  # two CNN trials to a target (the fast lane: test_clocks' steps-clock reproducibility)
def test_same_seed_gives_the_same_steps_to_target_bit_for_bit():
    spec = spec_for("mnist1d_cnn", target=Target("validation/accuracy", 0.6, "max"), eval=EvalPolicy(every_steps=10),
                    hparams={"learning_rate": 1e-2})
    a, b = run_trial(spec, one_thread()), run_trial(spec, one_thread())
    assert a.result.reached and a.result.steps_to_target == b.result.steps_to_target
    assert [r["train/loss"] for r in a.evals] == [r["train/loss"] for r in b.evals]


def test_failure_and_divergence_are_recorded_not_raised(planted_submissions):
    wl = find_workload("digits_mlp")
    failed = run_trial(spec_for(wl, "boom", planted_submissions / "boom"), one_thread())
    assert failed.result.status == "failed"
    assert "planted failure at step 3" in failed.result.error
    assert "Traceback" in failed.result.traceback
    diverged = run_trial(spec_for(wl, "explode", planted_submissions / "explode"), one_thread())
    assert diverged.result.status == "diverged"
    assert diverged.result.steps_to_target is None


def test_prepare_for_eval_is_submission_time(tmp_path):
    """A full-form submission whose prepare_for_eval sleeps: the sleep lands on the clock."""
    from tests.conftest import write

    write(tmp_path / "slow_eval" / "submission.py", """
        import time, torch
        def init_optimizer_state(model, hparams, ctx):
            return torch.optim.SGD(model.parameters(), lr=0.05)
        def update_params(model, batch, loss_fn, state, hparams, ctx):
            state.zero_grad(); loss_fn(model, batch).backward(); state.step()
            return state
        def prepare_for_eval(model, state, hparams, ctx):
            time.sleep(0.05)
            return state
    """)
    spec = spec_for("digits_mlp", "slow_eval", tmp_path / "slow_eval",
                    budget=Budget(60, 100, max_steps=20), eval=EvalPolicy(every_steps=10))
    outcome = run_trial(spec, one_thread())
    assert outcome.result.status == "budget_exhausted", outcome.result.error
    assert outcome.result.num_evals == 3  # steps 1, 10, 20
    assert outcome.result.submission_time >= 3 * 0.05
