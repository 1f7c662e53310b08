"""Shared fixtures: a private cache for generated data, tiny workload YAMLs, planted submissions."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def one_thread():
    """In-process trials run with one torch thread: steadier on a shared 2-core machine."""
    from optbench.spec import TrialRuntime

    return TrialRuntime(num_threads=1)


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Generated datasets and solved optima go to a cache of the test session (shared by its subprocesses)."""
    os.environ.setdefault("OPTBENCH_CACHE", str(tmp_path_factory.mktemp("optbench-cache")))


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real `optbench` command line in a subprocess."""
    return subprocess.run([sys.executable, "-m", "optbench.cli", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=timeout)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


TINY_DIGITS = """
name: {name}
version: 1
description: digits MLP with a tiny budget, for tests
dataset: {{name: digits, params: {{seed: 0}}}}
model: {{name: mlp, params: {{hidden: 32}}}}
loss: cross_entropy
metrics: [accuracy]
target: {{metric: validation/accuracy, value: {target}, mode: max}}
budget: {{seconds: {seconds}, step_hint: 300}}
eval: {{every_steps: 10}}
batch_size: 64
"""


@pytest.fixture
def tiny_workloads(tmp_path: Path) -> Path:
    """A --workloads-dir with `tiny_digits` (easy target) and `tiny_digits_hard` (unreachable)."""
    folder = tmp_path / "workloads"
    write(folder / "tests" / "tiny_digits.yaml", TINY_DIGITS.format(name="tiny_digits", target=0.8, seconds=3))
    write(folder / "tests" / "tiny_digits_hard.yaml", TINY_DIGITS.format(name="tiny_digits_hard", target=1.01, seconds=0.5))
    return folder


@pytest.fixture
def planted_submissions(tmp_path: Path) -> Path:
    """A --submissions-dir with submissions that fail, diverge and hang."""
    folder = tmp_path / "subs"
    write(folder / "boom" / "submission.py", """
        import torch
        DEFAULT_HPARAMS = {}
        def make_optimizer(params, hparams, ctx):
            class Boom(torch.optim.SGD):
                def step(self, closure=None):
                    if ctx.step >= 3:
                        raise RuntimeError("planted failure at step 3")
                    return super().step(closure)
            return Boom(params, lr=0.1)
    """)
    write(folder / "explode" / "submission.py", """
        import torch
        DEFAULT_HPARAMS = {"learning_rate": 1.0e12}
        def make_optimizer(params, hparams, ctx):
            return torch.optim.SGD(params, lr=hparams["learning_rate"])
    """)
    write(folder / "sleepy" / "submission.py", """
        import time, torch
        def make_optimizer(params, hparams, ctx):
            class Sleepy(torch.optim.SGD):
                def step(self, closure=None):
                    time.sleep(3600)
            return Sleepy(params, lr=0.1)
    """)
    return folder
