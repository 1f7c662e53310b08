"""A hyperparameter name a submission does not declare is refused ("did you mean"), in a search space
and in --hparams, by run, validate and calibrate, before any trial; and, for a DEFAULT_HPARAMS that
only running the code can read, by the trial itself."""

from __future__ import annotations

import shutil

import pytest

from optbench.errors import OptbenchError
from optbench.submissions import BUILTIN_SUBMISSIONS_DIR, discover, load_submission, read_submission
from optbench.submissions.declared import python_defaults
from tests.conftest import cli, write


def one_line_refusal(proc, *fragments: str) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def misspelt_adamw(tmp_path):
    """The built-in adamw with `learning_rat:` in its search space."""
    folder = tmp_path / "adamw_typo"
    shutil.copytree(BUILTIN_SUBMISSIONS_DIR / "adamw", folder)
    space = folder / "search_space.yaml"
    space.write_text(space.read_text().replace("\nlearning_rate:", "\nlearning_rat:"))
    return folder


@pytest.mark.parametrize("command", [
    ["run", "--workloads", "logreg", "--ruleset", "external", "--submissions"],
    ["run", "--workloads", "logreg", "--submissions"],  # self-tuning: its search space is still its declaration
    ["validate"],
    ["calibrate", "logreg", "--submissions"],
])
def test_a_misspelt_search_space_name_is_refused_by_every_command(tmp_path, misspelt_adamw, command):
    proc = cli(*command, str(misspelt_adamw), *(["--results", str(tmp_path / "r")] if command[0] == "run" else []))
    one_line_refusal(proc, "search_space.yaml", "learning_rat", "did you mean", "'learning_rate'",
                     "DEFAULT_HPARAMS in submission.py")
    assert not (tmp_path / "r").exists()


def test_an_undeclared_hparams_flag_is_refused_with_a_suggestion(tmp_path):
    proc = cli("run", "--workloads", "logreg", "--submissions", "adamw", "--hparams", "one_minus_beta1=0.1",
                   "--results", str(tmp_path / "r"))
    one_line_refusal(proc, "--hparams (submission adamw)", "one_minus_beta1", "did you mean", "'beta1'")
    assert not (tmp_path / "r").exists()


def test_without_defaults_the_search_space_declares_the_names(tmp_path):
    folder = tmp_path / "plain"
    write(folder / "submission.py", """
        import torch
        def make_optimizer(params, hparams, ctx):
            return torch.optim.SGD(params, lr=hparams["learning_rate"])
    """)
    write(folder / "search_space.yaml", "learning_rate: {min: 0.01, max: 0.1, scaling: log}\n")
    sub = read_submission(folder)
    assert sub.hparam_names == {"learning_rate"}
    sub.check_hparams({"learning_rate": 0.1}, "--hparams")
    with pytest.raises(OptbenchError, match="'learning_rte' -> 'learning_rate'.*declared by its search space"):
        sub.check_hparams({"learning_rte": 0.1}, "--hparams")


def test_the_yaml_form_declares_its_defaults(tmp_path):
    folder = tmp_path / "lion2"
    write(folder / "submission.yaml", "optimizer: torch.optim.SGD\ndefaults: {learning_rate: 0.1, momentum: 0.9}\n")
    write(folder / "search_space.yaml", "learning_rate: {min: 0.01, max: 0.1, scaling: log}\nmomentun: 0.9\n")
    with pytest.raises(OptbenchError, match="momentun.*did you mean 'momentun' -> 'momentum'.*defaults: in "
                                            "submission.yaml"):
        read_submission(folder)


def test_every_builtin_submission_declares_its_search_space():
    for name, folder in discover().items():
        sub = read_submission(folder)
        assert sub.hparam_names, name


@pytest.mark.parametrize("source, names", [
    ("DEFAULT_HPARAMS = {'lr': 1, 'wd': 2}\n", {"lr", "wd"}),
    ("DEFAULT_HPARAMS: dict = {'lr': 1}\n", {"lr"}),
    ("DEFAULT_HPARAMS = dict(lr=1, momentum=0.9)\n", {"lr", "momentum"}),
    ("DEFAULT_HPARAMS = {'lr': 1}\nDEFAULT_HPARAMS = {'beta': 1}\n", {"beta"}),
    ("import torch\n", set()),
    ("BASE = {'lr': 1}\nDEFAULT_HPARAMS = {**BASE, 'wd': 2}\n", None),
    ("DEFAULT_HPARAMS = make()\n", None),
    ("DEFAULT_HPARAMS = [1, 2]\n", None),
    ("DEFAULT_HPARAMS = {'lr': 1}\nDEFAULT_HPARAMS['wd'] = 2\n", None),
    ("DEFAULT_HPARAMS = {'lr': 1}\nDEFAULT_HPARAMS.update(wd=2)\n", None),
    ("DEFAULT_HPARAMS = {'lr': 1}\nDEFAULT_HPARAMS |= {'wd': 2}\n", None),
    ("import os\nif os.environ.get('X'):\n    DEFAULT_HPARAMS = {'lr': 1}\n", None),
    ("DEFAULT_HPARAMS = {'lr': 1}\ndef f(h):\n    return {**DEFAULT_HPARAMS, **h}['lr']\n", {"lr"}),
])
def test_default_names_are_read_without_running_the_code(tmp_path, source, names):
    path = write(tmp_path / "submission.py", source)
    assert python_defaults(path) == (None if names is None else frozenset(names))


def test_a_computed_default_hparams_is_checked_by_the_trial(tmp_path):
    folder = tmp_path / "computed"
    write(folder / "submission.py", """
        import torch
        BASE = {"learning_rate": 0.1}
        DEFAULT_HPARAMS = {**BASE, "momentum": 0.9}
        def make_optimizer(params, hparams, ctx):
            return torch.optim.SGD(params, lr=hparams["learning_rate"], momentum=hparams["momentum"])
    """)
    assert read_submission(folder).hparam_names is None  # unknown before it runs: nothing refused up front
    loaded = load_submission(folder)
    assert loaded.resolve_hparams({"momentum": 0.5}) == {"learning_rate": 0.1, "momentum": 0.5}
    with pytest.raises(OptbenchError, match="'momentm' -> 'momentum'"):
        loaded.resolve_hparams({"momentm": 0.5})
