"""The ``algoperf`` form: submission files written against AlgoPerf's documented API run unchanged.

Every submission here is written for these tests from AlgoPerf's documented signatures
(``init_optimizer_state(workload, model_params, model_state, hyperparameters, rng)``,
``update_params(...)`` by keyword, ``data_selection``, ``prepare_for_eval``,
``get_batch_size``); they record what they were given in a JSON file beside themselves,
and the tests read it back.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench.errors import OptbenchError
from optbench.executors.ddp import launch
from optbench.spec import Budget, EvalPolicy, TrialSpec
from optbench.submissions import read_submission
from optbench.trial import run_trial
from optbench.workloads import find_workload
from tests.conftest import cli, examples, one_thread, write

# An AlgoPerf-style plain SGD: the smallest submission that uses model_fn, loss_fn, the dict batch,
# the namedtuple hyperparameters and get_batch_size raising ValueError for a workload it does not know.
SGD = '''
import json
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import torch

from algoperf import spec

SEEN = Path(__file__).with_name("seen.json")


def _note(**facts):
    seen = json.loads(SEEN.read_text()) if SEEN.exists() else {}
    for key, value in facts.items():
        seen.setdefault(key, []).append(value)
    SEEN.write_text(json.dumps(seen))


def init_optimizer_state(workload: spec.Workload, model_params: spec.ParameterContainer,
                         model_state: spec.ModelAuxiliaryState, hyperparameters: spec.Hyperparameters,
                         rng: spec.RandomState) -> spec.OptimizerState:
    _note(hp_type=type(hyperparameters).__name__, hp_fields=list(getattr(hyperparameters, "_fields", [])),
          has_label_smoothing=hasattr(hyperparameters, "label_smoothing"), model_state=repr(model_state),
          step_hint=workload.step_hint, target=workload.target_metric_name,
          types=sorted({t.name for t in workload.model_params_types.values()}))
    return {"optimizer": torch.optim.SGD(model_params.parameters(), lr=hyperparameters.learning_rate)}


def update_params(workload, current_param_container, current_params_types, model_state, hyperparameters,
                  batch, loss_type, optimizer_state, eval_results, global_step, rng):
    model = current_param_container
    optimizer_state["optimizer"].zero_grad()
    logits, new_model_state = workload.model_fn(
        params=model, augmented_and_preprocessed_input_batch=batch, model_state=model_state,
        mode=spec.ForwardPassMode.TRAIN, rng=rng, update_batch_norm=True)
    smoothing = hyperparameters.label_smoothing if hasattr(hyperparameters, "label_smoothing") else 0.0
    losses = workload.loss_fn(label_batch=batch["targets"], logits_batch=logits, mask_batch=batch.get("weights"),
                              label_smoothing=smoothing)
    loss = losses["summed"] / losses["n_valid_examples"]
    loss.backward()
    optimizer_state["optimizer"].step()
    _note(step=global_step, loss=loss.item(), keys=sorted(batch), loss_type=loss_type.name,
          rng=[int(x) for x in rng])
    return optimizer_state, current_param_container, new_model_state


def get_batch_size(workload_name):
    if workload_name == "mnist":
        return 16
    raise ValueError(f"Unsupported workload name: {workload_name}.")


def data_selection(workload, input_queue, optimizer_state, current_param_container, model_state,
                   hyperparameters, global_step, rng):
    return next(input_queue)
'''

NATIVE_SGD = '''
import torch

def make_optimizer(params, hparams, ctx):
    return torch.optim.SGD(params, lr=hparams["learning_rate"])
'''


def digits(steps: int = 20, every: int = 10, l2: float = 0.0, target: float | None = None):
    workload = find_workload("digits_mlp")
    target_spec = dataclasses.replace(workload.target, value=target) if target is not None else workload.target
    return dataclasses.replace(workload, budget=Budget(600, 300, max_steps=steps), eval=EvalPolicy(every_steps=every),
                               batch_size=64, l2=l2, target=target_spec)


def trial(folder: Path, workload=None, hparams=None, **fields) -> TrialSpec:
    return TrialSpec(workload or digits(), folder.name, str(folder), {"learning_rate": 0.1} if hparams is None
                     else hparams, seed=3, stop_at_target=False, **fields)


def train(spec: TrialSpec):
    """One trial here and now, on one torch thread."""
    return run_trial(spec, one_thread())


def seen(folder: Path) -> dict:
    return json.loads((folder / "seen.json").read_text())


def submission(tmp_path: Path, code: str, name: str = "algo", files: dict[str, str] | None = None) -> Path:
    folder = tmp_path / name
    write(folder / "submission.py", code)
    for relative, text in (files or {}).items():
        write(folder / relative, text)
    return folder


def test_the_simple_loop_follows_the_native_loss_curve_with_the_l2_term(tmp_path):
    algo, native = submission(tmp_path, SGD), submission(tmp_path, NATIVE_SGD, "native")
    assert read_submission(algo).form == "algoperf" and read_submission(native).form == "python"
    workload = digits(steps=20, l2=1e-2)
    ours, theirs = train(trial(algo, workload)), train(trial(native, workload))
    assert ours.result.status == theirs.result.status == "budget_exhausted", ours.result.error
    assert ours.result.steps == 20
    for a, b in zip(ours.evals, theirs.evals, strict=True):
        assert a["step"] == b["step"]
        assert a["train/loss"] == pytest.approx(b["train/loss"], rel=1e-5)
    facts = seen(algo)
    assert facts["step"] == list(range(20))
    assert facts["keys"][0] == ["inputs", "targets", "weights"] and facts["loss_type"][0] == "SOFTMAX_CROSS_ENTROPY"
    assert facts["loss"][-1] < facts["loss"][0]
    assert len({tuple(r) for r in facts["rng"]}) == 20  # a fresh key every step
    assert facts["step_hint"] == [300] and facts["target"] == ["accuracy"]
    assert facts["types"] == [["BIAS", "WEIGHT"]] and facts["model_state"] == ["None"]


def test_loss_fn_sums_the_objective_and_feeds_the_divergence_check(tmp_path):
    from optbench.submissions.algoperf_workload import WorkloadAdapter
    from optbench.trial.clock import RecordingLoss
    from optbench.workloads.runtime import build_workload

    runtime = build_workload(digits(l2=1e-2))
    model = runtime.init_model(0)
    adapter = WorkloadAdapter(runtime, model)
    x, y = next(runtime.data.train_batches(32, torch.Generator().manual_seed(0)))
    batch = adapter.to_batch((x, y))
    recorder = RecordingLoss(runtime.loss_fn)
    adapter.recorder = recorder
    logits, _ = adapter.model_fn(model, batch, None, adapter_mode("TRAIN"), None, True)
    out = {k: v.detach() for k, v in adapter.loss_fn(batch["targets"], logits, batch["weights"]).items()}
    objective = runtime.loss_fn(model, (x, y)).detach()
    assert float(out["summed"] / out["n_valid_examples"]) == pytest.approx(float(objective), rel=1e-6)
    assert float(recorder.last) == pytest.approx(float(objective), rel=1e-6)
    assert out["per_example"].shape == (32,) and float(out["n_valid_examples"]) == 32
    logits = logits.detach()
    smoothed = {k: v.detach() for k, v in adapter.loss_fn(y, logits, None, label_smoothing=0.2).items()}
    expected = torch.nn.functional.cross_entropy(logits, y, label_smoothing=0.2) + runtime.regularizer(model).detach()
    assert float(smoothed["summed"] / smoothed["n_valid_examples"]) == pytest.approx(float(expected), rel=1e-6)
    half = torch.zeros(32)
    half[:16] = 1
    masked = {k: v.detach() for k, v in adapter.loss_fn(y, logits, half).items()}
    assert float(masked["n_valid_examples"]) == 16
    assert float(masked["summed"]) == pytest.approx(float(out["per_example"][:16].sum()), rel=1e-6)


def adapter_mode(name: str):
    from optbench.algoperf import spec

    return spec.ForwardPassMode[name]


def test_model_fn_sets_dropout_and_freezes_batch_norm(tmp_path):
    from optbench.submissions.algoperf_workload import WorkloadAdapter
    from optbench.workloads.runtime import build_workload

    runtime = build_workload(digits())
    model = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.BatchNorm1d(16), torch.nn.Dropout(0.5),
                                torch.nn.Linear(16, 10))
    adapter = WorkloadAdapter(runtime, model)
    assert adapter.model_params_types["1.weight"].name == "BATCH_NORM_SCALE"
    assert adapter.is_output_params("3.weight") and not adapter.is_output_params("0.weight")
    x, y = next(runtime.data.train_batches(32, torch.Generator().manual_seed(0)))
    batch = adapter.to_batch((x, y))
    before = model[1].running_mean.clone()
    adapter.model_fn(model, batch, None, adapter_mode("TRAIN"), None, update_batch_norm=False, dropout_rate=0.0)
    assert torch.equal(model[1].running_mean, before) and model[2].p == 0.0
    adapter.model_fn(model, batch, None, adapter_mode("TRAIN"), None, update_batch_norm=True)
    assert not torch.equal(model[1].running_mean, before) and model[2].p == 0.0  # None keeps the last rate
    logits, _ = adapter.model_fn(model, batch, None, adapter_mode("EVAL"), None, update_batch_norm=False)
    assert not model.training and not logits.requires_grad


NOTE_HPARAMS = SGD.replace('''def update_params(''', '''def prepare_for_eval(workload, current_param_container, current_params_types, model_state,
                     hyperparameters, loss_type, optimizer_state, eval_results, global_step, rng):
    _note(prepared=global_step, evals_seen=[s for s, _ in eval_results])
    return optimizer_state, current_param_container, model_state


def update_params(''')


def test_hyperparameters_are_a_namedtuple_of_the_point_and_hasattr_tells(tmp_path):
    folder = submission(tmp_path, NOTE_HPARAMS)
    outcome = train(trial(folder, hparams={"learning_rate": 0.1, "label_smoothing": 0.1, "dropout_rate": 0.0}))
    assert outcome.result.status == "budget_exhausted", outcome.result.error
    facts = seen(folder)
    assert facts["hp_type"] == ["Hyperparameters"]
    assert facts["hp_fields"] == [["learning_rate", "label_smoothing", "dropout_rate"]]
    assert facts["has_label_smoothing"] == [True]
    bare = submission(tmp_path, SGD, "bare")
    train(trial(bare))
    assert seen(bare)["has_label_smoothing"] == [False]


def test_prepare_for_eval_runs_before_every_eval_with_the_results_so_far(tmp_path):
    folder = submission(tmp_path, NOTE_HPARAMS)
    outcome = train(trial(folder, digits(steps=30)))
    assert [row["step"] for row in outcome.evals] == [1, 10, 20, 30]
    facts = seen(folder)
    assert facts["prepared"] == [1, 10, 20, 30]
    assert facts["evals_seen"] == [[], [1], [1, 10], [1, 10, 20]]


SELF_TUNING = '''
import json
from pathlib import Path

import torch

HPARAMS = {"learning_rate": 0.1}


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    Path(__file__).with_name("seen.json").write_text(json.dumps({"hp": repr(hyperparameters)}))
    return {"optimizer": torch.optim.SGD(model_params.parameters(), lr=HPARAMS["learning_rate"])}


def update_params(workload, current_param_container, current_params_types, model_state, hyperparameters,
                  batch, loss_type, optimizer_state, eval_results, global_step, rng):
    optimizer_state["optimizer"].zero_grad()
    logits, _ = workload.model_fn(current_param_container, batch, model_state, None, rng, True)
    losses = workload.loss_fn(batch["targets"], logits, batch["weights"])
    (losses["summed"] / losses["n_valid_examples"]).backward()
    optimizer_state["optimizer"].step()
    return optimizer_state, current_param_container, model_state


def data_selection(workload, input_queue, *args):
    return next(input_queue)
'''


def test_self_tuning_passes_none_and_an_external_submission_is_told_to_use_external(tmp_path):
    folder = submission(tmp_path, SELF_TUNING)
    outcome = train(trial(folder, hparams={}, ruleset="self"))
    assert outcome.result.status == "budget_exhausted", outcome.result.error
    assert seen(folder) == {"hp": "None"}
    external = submission(tmp_path, SGD, "external")
    failed = train(trial(external, hparams={}, ruleset="self"))
    assert failed.result.status == "failed"
    assert "--ruleset external" in failed.result.error and "\n" not in failed.result.error


GREEDY_SELECTION = SGD.replace('''    return next(input_queue)''', '''    first, second = next(input_queue), next(input_queue)
    _note(selected_step=global_step, first=first["targets"][:4].tolist(), second=second["targets"][:4].tolist())
    return {key: torch.cat([first[key], second[key]]) for key in first}''')


def test_data_selection_gets_the_loop_batch_then_the_trials_own_stream(tmp_path):
    folder = submission(tmp_path, GREEDY_SELECTION)
    outcome = train(trial(folder, digits(steps=3, every=100)))
    assert outcome.result.status == "budget_exhausted", outcome.result.error
    stream = find_workload_batches(6)
    facts = seen(folder)
    assert facts["selected_step"] == [0, 1, 2]
    # step k: the loop drew its batch (2k-th of the stream), data_selection took it and the next one
    assert facts["first"] == [stream[0], stream[2], stream[4]]
    assert facts["second"] == [stream[1], stream[3], stream[5]]


def find_workload_batches(n: int) -> list[list[int]]:
    from optbench.workloads.runtime import build_workload

    batches = build_workload(digits()).data.train_batches(64, torch.Generator().manual_seed(3))
    return [next(batches)[1][:4].tolist() for _ in range(n)]


TRAIN_STATE = SGD.replace('''                  batch, loss_type, optimizer_state, eval_results, global_step, rng):''',
                          '''                  batch, loss_type, optimizer_state, eval_results, global_step, rng, train_state=None):
    try:
        train_state["is_time_remaining"] = False
        writable = True
    except TypeError:
        writable = False
    _note(ts_keys=sorted(train_state), writable=writable, goal=train_state["validation_goal_reached"],
          submission_time=train_state["accumulated_submission_time"])''')


def test_train_state_is_passed_read_only_when_the_signature_asks(tmp_path):
    folder = submission(tmp_path, TRAIN_STATE)
    outcome = train(trial(folder, digits(steps=25, target=0.2)))  # an easy target: reached at an eval
    assert outcome.result.status == "reached", outcome.result.error
    facts = seen(folder)
    assert facts["ts_keys"][0] == sorted(["validation_goal_reached", "test_goal_reached", "is_time_remaining",
                                          "last_eval_time", "training_complete", "accumulated_submission_time",
                                          "accumulated_eval_time", "accumulated_logging_time",
                                          "last_step_end_time"])
    assert not any(facts["writable"])
    assert facts["goal"][0] is False and facts["goal"][-1] is True
    times = facts["submission_time"]
    assert times == sorted(times) and times[-1] > times[0]


STOPS_EARLY = SGD.replace('''    return optimizer_state, current_param_container, new_model_state''',
                          '''    if global_step == 6:
        raise spec.TrainingCompleteError()
    return optimizer_state, current_param_container, new_model_state''')


def test_training_complete_error_ends_the_trial_cleanly_after_a_final_eval(tmp_path):
    folder = submission(tmp_path, STOPS_EARLY)
    outcome = train(trial(folder, digits(steps=50)))
    assert outcome.result.status == "budget_exhausted" and outcome.result.error is None
    assert outcome.result.steps == 7
    assert [row["step"] for row in outcome.evals] == [1, 7]


LOCAL_PACKAGE = '''
from algorithmic_efficiency import spec
from helpers.factory import make_sgd
from legacy.layout.helpers.factory import make_sgd as make_sgd_again
from . import local_module
import leaderboard.team.algo.local_module as local_again


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    assert make_sgd is make_sgd_again and local_module.ANSWER == 42 and local_again is local_module
    return {"optimizer": make_sgd(model_params, hyperparameters.learning_rate)}


def update_params(workload, current_param_container, current_params_types, model_state, hyperparameters,
                  batch, loss_type, optimizer_state, eval_results, global_step, rng):
    optimizer_state["optimizer"].zero_grad()
    logits, _ = workload.model_fn(current_param_container, batch, model_state, spec.ForwardPassMode.TRAIN, rng, True)
    losses = workload.loss_fn(batch["targets"], logits)
    (losses["summed"] / losses["n_valid_examples"]).backward()
    optimizer_state["optimizer"].step()
    return optimizer_state, current_param_container, model_state
'''


def test_a_folder_local_package_relative_imports_and_aliases_import(tmp_path):
    folder = submission(tmp_path, LOCAL_PACKAGE, files={
        "helpers/__init__.py": "",
        "helpers/factory.py": "import torch\n\ndef make_sgd(model, lr):\n    return torch.optim.SGD(model.parameters(), lr=lr)\n",
        "local_module.py": "ANSWER = 42\n",
        "submission.yaml": "form: algoperf\naliases: {legacy.layout.helpers: helpers, leaderboard.team.algo: .}\n",
    })
    assert read_submission(folder).config["aliases"] == {"legacy.layout.helpers": "helpers", "leaderboard.team.algo": "."}
    outcome = train(trial(folder))
    assert outcome.result.status == "budget_exhausted", outcome.result.error
    for name in ("algoperf", "algorithmic_efficiency", "legacy", "leaderboard", "helpers"):  # gone with the trial
        assert name not in sys.modules
    with pytest.raises(ImportError):
        __import__("algorithmic_efficiency")


def test_jax_submissions_and_bad_companions_are_refused_with_one_line(tmp_path):
    jax = submission(tmp_path, "import jax\nfrom algoperf import spec\n\n"
                     "def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):\n"
                     "    pass\n", "jaxy")
    with pytest.raises(OptbenchError, match=r"imports jax \(JAX/TensorFlow\); optbench runs AlgoPerf's PyTorch"):
        read_submission(jax)
    bad = submission(tmp_path, SGD, "bad", files={"submission.yaml": "form: algoperf\naliases: {'1bad': helpers}\n"})
    with pytest.raises(OptbenchError, match="not a dotted module name"):
        read_submission(bad)
    result = cli("validate", jax)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.slow  # validate trains a real AlgoPerf submission (~5 s); the fast lane validates in test_validate_first_step
def test_cli_validate_trains_an_external_submission_on_its_first_search_point(tmp_path):
    folder = submission(tmp_path, SGD, files={"tuning_search_space.json": json.dumps(
        [{"learning_rate": 0.05, "label_smoothing": 0.1, "dropout_rate": 0.0, "warmup_factor": 0.02}])})
    result = cli("validate", folder, "--steps", "3")
    assert result.returncode == 0, result.stderr
    assert "algoperf form" in result.stdout and "ok: 3 steps" in result.stdout
    assert seen(folder)["hp_fields"] == [["learning_rate", "label_smoothing", "dropout_rate", "warmup_factor"]]


@settings(max_examples=examples(50), deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(-1, 10**7))
def test_step_keys_are_int32_pairs_that_differ_by_step_and_role(seed, step):
    from optbench.submissions.algoperf import step_keys

    keys = step_keys(seed, step)
    assert len(keys) == 4 and all(k.dtype.name == "int32" and k.shape == (2,) and (k >= 0).all() for k in keys)
    assert len({tuple(k.tolist()) for k in keys}) == 4
    assert [k.tolist() for k in step_keys(seed, step)] == [k.tolist() for k in keys]
    assert step_keys(seed, step + 1)[1].tolist() != keys[1].tolist()


@settings(max_examples=examples(50), deadline=None)
@given(st.dictionaries(st.text(max_size=12), st.one_of(st.text(max_size=12), st.integers()), max_size=3))
def test_malformed_aliases_get_one_line(aliases):
    from optbench.submissions.import_aliases import check_aliases

    try:
        checked = check_aliases(aliases, "submission.yaml")
    except OptbenchError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("submission.yaml: aliases:")
    else:
        assert all(isinstance(v, str) and v.replace(".", "_").isidentifier() for v in checked.values())


DDP_SGD = SGD.replace('''import torch
''', '''import os
import torch
import torch.distributed.nn as dist_nn

from algoperf.pytorch_utils import pytorch_setup

USE_PYTORCH_DDP = pytorch_setup()[0]
''').replace('''SEEN = Path(__file__).with_name("seen.json")''',
          '''SEEN = Path(__file__).with_name(f"seen_{os.environ.get('RANK', 'none')}.json")  # one file per rank'''
          ).replace('''    loss = losses["summed"] / losses["n_valid_examples"]''', '''    summed, n_valid = losses["summed"], losses["n_valid_examples"]
    if USE_PYTORCH_DDP:
        summed, n_valid = dist_nn.all_reduce(summed), dist_nn.all_reduce(n_valid)
    loss = summed / n_valid
    if global_step == 0:
        Path(__file__).with_name(f"ddp_{os.environ.get('RANK', 'none')}.json").write_text(
            json.dumps({"ddp": USE_PYTORCH_DDP, "rows": len(batch["targets"])}))''')


@pytest.mark.slow
def test_two_ranks_keep_algoperfs_convention_and_follow_one_process(tmp_path):
    folder = submission(tmp_path, DDP_SGD)
    workload = digits(steps=30, l2=1e-3)
    one = train(trial(folder, workload))
    two = launch(trial(folder, workload, nproc_per_trial=2), one_thread())
    assert one.result.status == two.result.status == "budget_exhausted", two.result.error
    assert json.loads((folder / "ddp_none.json").read_text()) == {"ddp": False, "rows": 64}
    for rank in (0, 1):  # the global batch of 64, sharded: each rank sees its 32 rows and all-reduces
        assert json.loads((folder / f"ddp_{rank}.json").read_text()) == {"ddp": True, "rows": 32}
    assert [r["step"] for r in one.evals] == [r["step"] for r in two.evals]
    for a, b in zip(one.evals, two.evals):
        assert b["train/loss"] == pytest.approx(a["train/loss"], rel=1e-4)
