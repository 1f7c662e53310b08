"""docs/optimizers.md's YAML examples are real submissions: each is parsed out of the page and
trained a few steps where its library is installed (skipped, naming the library, where not)."""

from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path

import pytest
import yaml

from optbench.spec import Budget, Clock, EvalPolicy, TrialSpec
from optbench.submissions import load_submission
from optbench.trial import run_trial
from tests.conftest import TINY_DIGITS, one_thread, write

DOC = Path(__file__).resolve().parents[1] / "docs" / "optimizers.md"
EXAMPLE = re.compile(r"```yaml\n# example: (\w+)\n(.*?)```", re.S)


def examples() -> dict[str, str]:
    return dict(EXAMPLE.findall(DOC.read_text(encoding="utf-8")))


def importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def libraries(config: dict) -> set[str]:
    """The top-level packages an example's dotted paths name."""
    entries = [config, *(config.get("groups") or {}).values()]
    return {entry[key].split(".")[0] for entry in entries for key in ("optimizer", "base") if key in entry}


def test_the_page_has_an_example_for_every_library_of_its_table():
    found = set().union(*(libraries(yaml.safe_load(text)) for text in examples().values()))
    assert {"torch", "heavyball", "pytorch_optimizer", "prodigyopt", "dadaptation", "schedulefree",
            "lion_pytorch"} <= found


@pytest.mark.parametrize("name", sorted(examples()))
def test_doc_example_trains(name, tmp_path, monkeypatch):
    text = examples()[name]
    missing = sorted(lib for lib in libraries(yaml.safe_load(text)) if not importable(lib))
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (pip install 'optbench[optimizers]')")
    if "heavyball" in libraries(yaml.safe_load(text)):  # eager: its CPU autotuning takes minutes (the doc says so)
        import heavyball.utils

        monkeypatch.setattr(heavyball.utils, "compile_mode", None)
    folder = tmp_path / name
    write(folder / "submission.yaml", text)
    load_submission(folder)  # the classes import and the keys are known
    # digits with two hidden layers: every role but conv, so groups: examples have a matrix group
    wl_path = write(tmp_path / "w.yaml", TINY_DIGITS.format(name="doc_digits", target=1.01, seconds=30)
                    .replace("hidden: 32", "hidden: [32, 32]"))
    from optbench.workloads import load_workload_file

    wl = load_workload_file(wl_path)
    wl = dataclasses.replace(wl, budget=Budget(30, 300, steps=4, max_steps=4), eval=EvalPolicy(every_steps=100))
    outcome = run_trial(TrialSpec(wl, name, str(folder), {}, seed=0, clock=Clock.STEPS), one_thread())
    assert outcome.result.status == "budget_exhausted", outcome.result.error or outcome.result.traceback
    assert outcome.result.steps == 4
