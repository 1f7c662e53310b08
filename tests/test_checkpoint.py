"""Mid-trial checkpoints: a trial stopped after an eval goes on from there with the numbers an
unbroken run has (bit for bit), for the simple form, the full form and a batch stream past an epoch."""

from __future__ import annotations

import dataclasses

import pytest

from optbench.spec import Budget, EvalPolicy, Target, TrialRuntime, TrialSpec
from optbench.submissions import BUILTIN_SUBMISSIONS_DIR
from optbench.trial import checkpoint, run_trial
from optbench.trial.checkpoint import Checkpointer
from optbench.workloads import find_workload
from tests.conftest import write

FULL_FORM = """
import torch

DEFAULT_HPARAMS = {"learning_rate": 0.05}

def init_optimizer_state(model, hparams, ctx):
    opt = torch.optim.SGD(model.parameters(), lr=hparams["learning_rate"], momentum=0.9)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.9)
    ema = [p.detach().clone() for p in model.parameters()]
    return {"opt": opt, "sched": sched, "ema": ema, "count": 0, "noise": (torch.zeros(1), 0.0)}

def update_params(model, batch, loss_fn, state, hparams, ctx):
    state["opt"].zero_grad()
    noise = torch.randn(1)  # the global RNG: restored with the checkpoint
    (loss_fn(model, batch) * (1 + 0.1 * noise)).backward()
    state["opt"].step()
    state["sched"].step()
    with torch.no_grad():
        for e, p in zip(state["ema"], model.parameters()):
            e.mul_(0.9).add_(p, alpha=0.1)
    state["count"] += 1
    return {**state, "noise": (state["noise"][0] + noise, state["noise"][1] + float(noise))}
"""


def digits(max_steps: int = 120, every: int = 10):
    wl = find_workload("digits_mlp")
    # 1,257 training examples / batch 64 = 19 batches an epoch: 120 steps cross six epochs
    return dataclasses.replace(wl, budget=Budget(60, 300, max_steps=max_steps), eval=EvalPolicy(every_steps=every),
                               target=Target("validation/accuracy", 0.9, "max"))


def spec_for(submission: str = "adamw", path=None) -> TrialSpec:
    return TrialSpec(digits(), submission, str(path or BUILTIN_SUBMISSIONS_DIR / submission), {}, seed=3,
                     stop_at_target=False)


def runtime_for(tmp_path, folder: str | None = "trial") -> TrialRuntime:
    return TrialRuntime(num_threads=1, checkpoint_dir=str(tmp_path / folder) if folder else None)


class Crash(Exception):
    pass


def run_until_crash(spec: TrialSpec, runtime: TrialRuntime, monkeypatch, after_saves: int):
    """Run the trial, 'crashing' right after its n-th checkpoint is written."""
    saves = {"n": 0}
    real_save = Checkpointer.save

    def save_then_crash(*args, **kwargs):
        real_save(*args, **kwargs)
        saves["n"] += 1
        if saves["n"] == after_saves:
            raise Crash("killed")

    monkeypatch.setattr(Checkpointer, "save", save_then_crash)
    outcome = run_trial(spec, runtime)
    monkeypatch.setattr(Checkpointer, "save", real_save)
    assert outcome.result.status == "failed" and "killed" in outcome.result.error
    return outcome


def numbers(evals):
    """Everything in the eval rows but the clocks."""
    return [{k: v for k, v in row.items() if not k.endswith("_time")} for row in evals]


@pytest.mark.parametrize("form", ["simple", "full"])
def test_a_trial_resumed_from_its_checkpoint_matches_an_unbroken_run(tmp_path, monkeypatch, form):
    path = write(tmp_path / "subs" / "fullform" / "submission.py", FULL_FORM).parent if form == "full" else None
    name = "fullform" if form == "full" else "adamw"
    unbroken = run_trial(spec_for(name, path), runtime_for(tmp_path, None))
    assert unbroken.result.status == "reached" and unbroken.result.steps == 120

    spec, runtime = spec_for(name, path), runtime_for(tmp_path)
    run_until_crash(spec, runtime, monkeypatch, after_saves=7)  # the checkpoint after the eval at step 60
    resumed = run_trial(spec, runtime)

    r = resumed.result
    assert r.preemption_count == 1 and r.status == "reached", r.error
    assert numbers(resumed.evals) == numbers(unbroken.evals)
    assert (r.steps_to_target, r.steps, r.num_evals) == (unbroken.result.steps_to_target, 120,
                                                         unbroken.result.num_evals)
    assert r.best_metric == unbroken.result.best_metric
    # the clock went on from the checkpoint: submission time of rows before it is kept as it was
    assert 0 < r.submission_time and r.eval_time > 0


def test_a_checkpoint_of_another_trial_or_a_damaged_one_is_ignored(tmp_path, monkeypatch):
    spec, runtime = spec_for(), runtime_for(tmp_path)
    run_until_crash(spec, runtime, monkeypatch, after_saves=3)
    other = dataclasses.replace(spec, hparams={"learning_rate": 0.01})  # another trial's identity
    assert Checkpointer.for_trial(other, runtime).load(__import__("torch").device("cpu")) is None
    assert run_trial(other, runtime).result.preemption_count == 0
    (tmp_path / "trial" / checkpoint.CHECKPOINT_FILE).write_bytes(b"half a file")
    result = run_trial(spec, runtime).result
    assert result.preemption_count == 0 and result.steps == 120


def test_without_checkpoint_dir_nothing_is_written(tmp_path):
    assert run_trial(spec_for(), runtime_for(tmp_path, None)).result.steps == 120
    assert not list(tmp_path.rglob(checkpoint.CHECKPOINT_FILE))


def test_pack_and_unpack_keep_structure_and_identity():
    import torch

    layer = torch.nn.Linear(2, 2)
    opt = torch.optim.Adam(layer.parameters())
    layer(torch.ones(1, 2)).sum().backward()
    opt.step()
    state = {"opt": opt, "t": torch.arange(3.0), "xs": [1, 2.5, "a"], "pair": (torch.ones(2), None)}
    packed = checkpoint.pack(state)
    assert isinstance(packed["opt"], checkpoint.StateDict)
    fresh_layer = torch.nn.Linear(2, 2)
    fresh = {"opt": torch.optim.Adam(fresh_layer.parameters()), "t": torch.zeros(3), "xs": [], "pair": (None, None)}
    tensor = fresh["t"]
    restored = checkpoint.unpack(fresh, packed)
    assert restored["t"] is tensor and torch.equal(tensor, torch.arange(3.0))  # copied in place
    assert restored["xs"] == [1, 2.5, "a"] and torch.equal(restored["pair"][0], torch.ones(2))
    assert restored["opt"].state_dict()["state"][0]["step"] == 1
