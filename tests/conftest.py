"""Shared fixtures and helpers: a private cache for generated data, tiny workload YAMLs, planted
submissions, the command line in this process (``cli``) or in a subprocess (``run_cli``), and the check
that bad input is refused in one line (``assert_one_line_error``).

The fast lane (``python -m pytest -q -m "not slow" -n 2``) runs the property tests with the ``fast``
hypothesis profile (fewer examples); the full suite runs each test's own number of examples.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import settings

#: Hypothesis examples per property test in the fast lane (the full suite draws each test's own number).
FAST_EXAMPLES = 20
settings.register_profile("fast", max_examples=FAST_EXAMPLES, deadline=None)  # no deadline on a busy machine
settings.register_profile("full", settings.get_profile("default"))
_lane = {"fast": False}


def pytest_configure(config: pytest.Config) -> None:
    """-m "not slow" loads the `fast` hypothesis profile (--hypothesis-profile or HYPOTHESIS_PROFILE=full
    or fast overrides)."""
    fast_lane = "not slow" in (config.getoption("markexpr", "") or "")
    profile = (config.getoption("hypothesis_profile", None) or os.environ.get("HYPOTHESIS_PROFILE")
               or ("fast" if fast_lane else "full"))
    _lane["fast"] = profile == "fast"
    settings.load_profile(profile)


def examples(n: int) -> int:
    """max_examples for a property test that asks for ``n``: n in the full suite, FAST_EXAMPLES in the fast
    lane (an explicit ``@settings(max_examples=...)`` wins over any profile, hence this)."""
    return min(n, FAST_EXAMPLES) if _lane["fast"] else n

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
    """Run the real `optbench` command line in a subprocess (seconds each: keep it to a few tests or slow ones)."""
    return subprocess.run([sys.executable, "-m", "optbench.cli", *args], capture_output=True, text=True,
                          cwd=cwd or REPO, timeout=timeout)


@dataclass(frozen=True)
class CliResult:
    """What `optbench ARGS` did in this process; the field names of subprocess.CompletedProcess."""

    returncode: int
    stdout: str
    stderr: str


def cli(*args: object, cwd: Path | None = None, columns: int = 80) -> CliResult:
    """`optbench ARGS` through its console entry point (``optbench.cli.main``) in this process.

    Milliseconds instead of the seconds of a subprocess's imports; trials still run in worker processes
    (their forkserver is shared by the tests of the session). An exception that main() lets through is
    raised here, so a would-be traceback fails the test. rich prints ``columns`` wide, as in a CI log."""
    from optbench import cli as cli_module

    out, err = io.StringIO(), io.StringIO()
    code = 0
    here = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                mock.patch.object(sys, "argv", ["optbench", *map(str, args)]), \
                mock.patch.dict(os.environ, {"COLUMNS": str(columns)}):
            try:
                cli_module.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.chdir(here)
    return CliResult(code, out.getvalue(), err.getvalue())


def assert_one_line_error(proc: CliResult | subprocess.CompletedProcess, *fragments: str) -> str:
    """Bad input: exit 2, one line on stderr that starts with `error:` and holds every fragment, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


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
