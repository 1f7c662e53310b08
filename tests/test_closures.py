"""Optimizers whose step takes a closure (L-BFGS, SAM-style two-pass): they train in the simple and YAML
forms, every pass is counted and timed, and the divergence check sees the closure's loss."""

from __future__ import annotations

import dataclasses

import pytest

import optbench.trial.loop as loop
from optbench.errors import OptbenchError
from optbench.spec import Budget, Clock, EvalPolicy, Target, TrialSpec
from optbench.submissions import load_submission
from optbench.trial import run_trial
from optbench.trial.clock import RecordingLoss, SubmissionClock
from optbench.workloads import find_workload
from tests.conftest import one_thread, write

LBFGS_YAML = """
    description: L-BFGS by dotted path; its step(closure) is told by the signature
    optimizer: torch.optim.LBFGS
    defaults: {learning_rate: 1.0, max_iter: 4, history_size: 10, line_search_fn: strong_wolfe,
               decay_steps_factor: 0.1}
"""

#: a hand-written SAM (Foret et al. 2021) in the simple form: the gradient at w first (optbench's
#: first pass), then step(closure) climbs to w + rho g/|g|, recomputes the gradient there and
#: descends from w with it
SAM_SIMPLE = """
    import torch

    CLOSURE = "after_backward"
    DEFAULT_HPARAMS = {"learning_rate": 0.1, "rho": 0.05}

    class TwoPassSAM(torch.optim.SGD):
        def __init__(self, params, lr, rho):
            super().__init__(params, lr=lr)
            self.rho = rho

        @torch.no_grad()
        def step(self, closure=None):
            params = [p for g in self.param_groups for p in g["params"] if p.grad is not None]
            norm = torch.norm(torch.stack([p.grad.norm() for p in params]))
            shifts = [self.rho * p.grad / (norm + 1e-12) for p in params]
            for p, e in zip(params, shifts):
                p.add_(e)
            loss = closure()
            for p, e in zip(params, shifts):
                p.sub_(e)
            super().step()
            return loss

    def make_optimizer(params, hparams, ctx):
        return TwoPassSAM(params, hparams["learning_rate"], hparams["rho"])
"""


def trial(workload: str, folder, steps: int, **changes) -> TrialSpec:
    wl = find_workload(workload)
    wl = dataclasses.replace(wl, budget=Budget(wl.budget.seconds, wl.budget.step_hint, steps=steps,
                                               max_steps=steps), eval=EvalPolicy(every_steps=10), **changes)
    return TrialSpec(wl, folder.name, str(folder), {}, seed=0, clock=Clock.STEPS)


@pytest.mark.slow  # ~10 s on the shared machine, most of it solving logreg's optimum once
def test_lbfgs_by_dotted_path_reaches_the_logreg_target(tmp_path):
    folder = tmp_path / "lbfgs"
    write(folder / "submission.yaml", LBFGS_YAML)
    outcome = run_trial(trial("logreg", folder, steps=200), one_thread())
    result = outcome.result
    assert result.status == "reached", result.error
    assert result.steps_to_target <= 200
    # L-BFGS evaluates the loss several times per step (its iterations and line search): all counted
    assert result.loss_evaluations > result.steps


def test_a_two_pass_optimizer_in_the_simple_form_counts_both_passes_inside_the_clock(tmp_path, monkeypatch):
    folder = tmp_path / "sam"
    write(folder / "submission.py", SAM_SIMPLE)
    clocks: list[SubmissionClock] = []
    outside: list[int] = []

    class WatchedClock(SubmissionClock):
        inside = False

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            clocks.append(self)

        def __enter__(self):
            self.inside = True
            return super().__enter__()

        def __exit__(self, *exc):
            self.inside = False
            return super().__exit__(*exc)

    class WatchedLoss(RecordingLoss):
        def __call__(self, model, batch):
            if not clocks[-1].inside:
                outside.append(1)
            return super().__call__(model, batch)

    monkeypatch.setattr(loop, "SubmissionClock", WatchedClock)
    monkeypatch.setattr(loop, "RecordingLoss", WatchedLoss)
    outcome = run_trial(trial("digits_mlp", folder, steps=30), one_thread())
    result = outcome.result
    assert result.status in ("budget_exhausted", "reached"), result.error
    assert result.loss_evaluations == 2 * result.steps  # the gradient at w and the one at the perturbed point
    assert not outside  # every pass was submission time
    assert outcome.evals[-1]["train/loss"] < outcome.evals[0]["train/loss"]


def test_the_divergence_check_sees_the_closures_loss(tmp_path):
    folder = tmp_path / "lbfgs_wild"
    write(folder / "submission.yaml", """
        optimizer: torch.optim.LBFGS
        defaults: {learning_rate: 1.0e+30, max_iter: 2, schedule: none}
    """)
    outcome = run_trial(trial("digits_mlp", folder, steps=30, target=Target("validation/accuracy", 1.01, "max")),
                        one_thread())
    assert outcome.result.status == "diverged", outcome.result
    assert "non-finite training loss" in outcome.result.error


def test_a_bad_closure_flag_is_one_line(tmp_path):
    folder = tmp_path / "bad"
    write(folder / "submission.yaml", "optimizer: torch.optim.SGD\nclosure: twice\n")
    with pytest.raises(OptbenchError, match="closure: expected true, false or after_backward"):
        load_submission(folder)


def test_a_two_pass_optimizer_without_its_flag_says_what_to_declare(tmp_path):
    folder = tmp_path / "sam_undeclared"
    write(folder / "submission.py", SAM_SIMPLE.replace('CLOSURE = "after_backward"', "")
          .replace("loss = closure()", "if closure is None:\n                raise RuntimeError('SAM needs a closure')\n"
                   "            loss = closure()"))
    outcome = run_trial(trial("digits_mlp", folder, steps=3), one_thread())
    assert outcome.result.status == "failed"
    assert "closure: after_backward" in outcome.result.error
