"""Parameter roles: the built-in models tag theirs, a user model gets the shape-based default (or says
its own through the hook), submissions see them in ctx, and the YAML form splits optimizers by role."""

from __future__ import annotations

import dataclasses
import functools

import pytest
import torch
from torch import nn

from optbench.errors import OptbenchError
from optbench.spec import Budget, Clock, Context, EvalPolicy, TrialSpec
from optbench.submissions import load_submission
from optbench.trial import run_trial
from optbench.workloads import find_workload
from optbench.workloads.roles import ROLES, default_roles, parameter_roles, params_by_role, tag
from optbench.workloads.runtime import build_workload
from tests.conftest import one_thread, write

CHAR_LM_EMBEDDINGS = {"token.weight", "position"}
CHAR_LM_HEAD = {"head.weight"}


def char_lm_matrices(layers: int = 2) -> set[str]:
    return {f"blocks.{i}.{name}.weight" for i in range(layers) for name in ("qkv", "proj", "mlp.0", "mlp.2")}


@functools.lru_cache(maxsize=1)
def char_lm():
    return build_workload(find_workload("char_lm"))


def roles_by_name(model) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {role: set() for role in ROLES}
    for name, role in parameter_roles(model).items():
        found[str(role)].add(name)
    return found


def test_char_lm_tags_its_parameters_by_role():
    model = char_lm().init_model(0)
    found = roles_by_name(model)
    assert found["embedding"] == CHAR_LM_EMBEDDINGS
    assert found["head"] == CHAR_LM_HEAD
    assert found["matrix"] == char_lm_matrices()
    assert found["conv"] == set()
    assert "head.bias" in found["vector"] and "blocks.0.ln1.weight" in found["vector"] and "ln.bias" in found["vector"]
    assert set().union(*found.values()) == {name for name, _ in model.named_parameters()}


@pytest.mark.parametrize("name", ["linear", "mlp", "cnn1d", "char_transformer", "grok_transformer", "dlrm",
                                  "resnet18_cifar", "gpt2"])
def test_every_builtin_model_tags_every_parameter(name):
    from optbench.workloads.registry import MODELS

    info = {"input_dim": 40, "num_classes": 10, "vocab_size": 50, "context": 16, "sequence_length": 3,
            "num_dense": 4, "cardinalities": [7, 9], "seq_len": 16}
    params = {"resnet18_cifar": {"width": 4}, "gpt2": {"n_layer": 1, "n_head": 2, "n_embd": 8}}.get(name, {})
    model = MODELS.get(name)(info, **params)
    declared = model.parameter_roles() if callable(model.parameter_roles) else model.parameter_roles
    assert set(declared) == {n for n, _ in model.named_parameters()}  # tagged, not left to the default
    roles = parameter_roles(model)
    for n, p in model.named_parameters():
        if p.dim() < 2:
            assert roles[n] == "vector", n
        if p.dim() > 2:
            assert roles[n] == "conv", n
    assert any(r == "head" for r in roles.values()) or name == "gpt2"  # GPT-2's head is its (tied) embedding


class Untagged(nn.Module):
    """A user model that says nothing: the shape-based default decides."""

    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(12, 16)
        self.hidden = nn.Linear(16, 16)
        self.norm = nn.LayerNorm(16)
        self.conv = nn.Conv1d(1, 2, 3)
        self.out = nn.Linear(16, 5)

    def forward(self, x):
        return self.out(self.norm(torch.relu(self.hidden(self.inp(x)))))


def test_a_user_model_without_tags_gets_the_shape_based_default():
    roles = {name: str(role) for name, role in parameter_roles(Untagged()).items()}
    assert roles == {
        "inp.weight": "embedding", "inp.bias": "vector",  # the first 2-D weight: the input layer
        "hidden.weight": "matrix", "hidden.bias": "vector",
        "norm.weight": "vector", "norm.bias": "vector",
        "conv.weight": "conv", "conv.bias": "vector",
        "out.weight": "head", "out.bias": "vector",  # the last 2-D weight: the output layer
    }
    with_table = nn.Sequential(nn.Embedding(10, 8), nn.Linear(8, 8), nn.Linear(8, 3))
    assert {n: str(r) for n, r in default_roles(with_table).items() if n.endswith("weight")} == {
        "0.weight": "embedding", "1.weight": "matrix", "2.weight": "head"}
    assert {str(r) for r in default_roles(nn.Linear(4, 1)).values()} == {"head", "vector"}


def test_the_hook_overrides_the_default_and_bad_tags_are_one_line():
    model = tag(Untagged(), {"out.weight": "matrix"})  # the hook may name only some parameters
    assert parameter_roles(model)["out.weight"] == "matrix"
    assert parameter_roles(model)["inp.weight"] == "embedding"
    with pytest.raises(OptbenchError, match="no parameter named 'nope'"):
        tag(Untagged(), {"nope": "matrix"})
    with pytest.raises(OptbenchError, match="role 'hidden' is not one of"):
        tag(Untagged(), {"hidden.weight": "hidden"})


def make_ctx(model) -> Context:
    roles = parameter_roles(model)
    return Context("char_lm", 600, 30.0, 8, "cpu", 0, parameter_roles=roles,
                   params_by_role=params_by_role(model, roles))


def names_of(model, optimizer) -> set[str]:
    names = {id(p): n for n, p in model.named_parameters()}
    return {names[id(p)] for group in optimizer.param_groups for p in group["params"]}


SPLIT_YAML = """
    description: hidden matrices by one optimizer, everything else by AdamW
    groups:
      matrix: {{optimizer: {matrix_optimizer}{param_group}}}
      default: {{optimizer: torch.optim.AdamW}}
    defaults:
      matrix.learning_rate: {matrix_lr}
      default.learning_rate: 3.0e-3
      default.weight_decay: 0.0
      warmup_fraction: 0.05
"""


def split_submission(tmp_path, matrix_optimizer="torch.optim.SGD", param_group="", matrix_lr=0.05):
    folder = tmp_path / "split"
    write(folder / "submission.yaml", SPLIT_YAML.format(matrix_optimizer=matrix_optimizer, param_group=param_group,
                                                        matrix_lr=matrix_lr))
    return folder


def check_split_trains_char_lm(folder):
    sub = load_submission(folder)
    model = char_lm().init_model(0)
    state = sub.init(model, sub.resolve_hparams({}), make_ctx(model))
    grouped = state["optimizer"].optimizers
    assert set(grouped) == {"matrix", "default"}
    assert names_of(model, grouped["matrix"]) == char_lm_matrices()
    everything = {n for n, _ in model.named_parameters()}
    assert names_of(model, grouped["default"]) == everything - char_lm_matrices()
    assert CHAR_LM_EMBEDDINGS | CHAR_LM_HEAD <= names_of(model, grouped["default"])
    # and it trains: a few real steps of the trial loop lower the training loss
    wl = find_workload("char_lm")
    wl = dataclasses.replace(wl, budget=Budget(wl.budget.seconds, wl.budget.step_hint, steps=12, max_steps=12),
                             eval=EvalPolicy(every_steps=100))
    outcome = run_trial(TrialSpec(wl, folder.name, str(folder), {}, seed=0, clock=Clock.STEPS), one_thread())
    assert outcome.result.status == "budget_exhausted", outcome.result.error
    assert outcome.evals[-1]["train/loss"] < outcome.evals[0]["train/loss"]


@pytest.mark.slow  # a real run of a YAML submission (~2 s); the split itself is checked in-process above
def test_a_yaml_submission_splits_optimizers_by_role(tmp_path):
    check_split_trains_char_lm(split_submission(tmp_path))


@pytest.mark.slow  # trains char_lm with an optional library (test_a_yaml_submission_splits... stays fast)
def test_pytorch_optimizer_muon_on_the_matrices(tmp_path):
    pytest.importorskip("pytorch_optimizer", reason="pytorch-optimizer is an optional extra: pip install "
                        "'optbench[optimizers]'")
    check_split_trains_char_lm(split_submission(tmp_path, "pytorch_optimizer.Muon", ", param_group: {use_muon: true}",
                                                matrix_lr=0.02))


def test_per_group_hyperparameters_reach_their_optimizer(tmp_path):
    sub = load_submission(split_submission(tmp_path))
    model = char_lm().init_model(0)
    state = sub.init(model, sub.resolve_hparams({"matrix.learning_rate": 0.125}), make_ctx(model))
    grouped = state["optimizer"].optimizers
    # the schedule starts in warm-up: the base rates are what the hyperparameters said
    assert grouped["matrix"].param_groups[0]["initial_lr"] == 0.125
    assert grouped["default"].param_groups[0]["initial_lr"] == 3e-3
    with pytest.raises(OptbenchError, match=r"unknown hyperparameter\(s\) conv.learning_rate"):
        sub.init(model, sub.resolve_hparams({"conv.learning_rate": 0.1}), make_ctx(model))


def test_bad_groups_are_one_line(tmp_path):
    cases = {
        "groups: {hidden: {optimizer: torch.optim.SGD}}": "'hidden'] is not a role",
        "groups: {matrix: {optimizer: torch.optim.SGD, colour: red}}": "unknown keys",
        "optimizer: torch.optim.SGD\ngroups: {matrix: {optimizer: torch.optim.SGD}}": "either optimizer",
        "groups: {matrix: {optimizer: torch.optim.Nope}}": "Nope",
    }
    for i, (text, message) in enumerate(cases.items()):
        folder = tmp_path / f"bad{i}"
        write(folder / "submission.yaml", text + "\n")
        with pytest.raises(OptbenchError, match=message):
            load_submission(folder)
    folder = tmp_path / "no_default"
    write(folder / "submission.yaml", "groups: {matrix: {optimizer: torch.optim.SGD}}\ndefaults: {learning_rate: 0.1}\n")
    sub = load_submission(folder)
    model = char_lm().init_model(0)
    with pytest.raises(OptbenchError, match="in no group; add a `default:` group"):
        sub.init(model, sub.resolve_hparams({}), make_ctx(model))


def test_the_simple_form_sees_the_groups_in_ctx(tmp_path):
    folder = tmp_path / "by_role"
    write(folder / "submission.py", """
        import torch
        DEFAULT_HPARAMS = {}
        def make_optimizer(params, hparams, ctx):
            groups = ctx.params_by_role
            assert sum(len(v) for v in groups.values()) == len(params)
            hidden = {id(p) for p in groups["matrix"]}
            assert all(ctx.parameter_roles[n] == "matrix" for n in ctx.parameter_roles if "qkv.weight" in n)
            return torch.optim.AdamW([{"params": groups["matrix"], "lr": 1e-2},
                                      {"params": [p for p in params if id(p) not in hidden], "lr": 1e-3}])
    """)
    wl = find_workload("char_lm")
    wl = dataclasses.replace(wl, budget=Budget(wl.budget.seconds, wl.budget.step_hint, steps=2, max_steps=2))
    outcome = run_trial(TrialSpec(wl, folder.name, str(folder), {}, seed=0, clock=Clock.STEPS), one_thread())
    assert outcome.result.status == "budget_exhausted", outcome.result.error
