"""`optbench validate` runs all its steps whatever the first one costs (an optimizer that compiles on
its first step must not look broken), and says how long the first step took."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optbench.report.format import first_step
from tests.conftest import TINY_DIGITS, cli, write


def test_validate_runs_every_step_past_a_slow_first_one(tmp_path):
    # the workload's seconds budget (0.2 s) is far below the first step (0.5 s): validate counts steps
    workload = write(tmp_path / "tiny.yaml", TINY_DIGITS.format(name="tiny", target=1.01, seconds=0.2))
    write(tmp_path / "slow_start" / "submission.py", """
        import time
        import torch
        DEFAULT_HPARAMS = {}
        class CompilesFirst(torch.optim.SGD):
            compiled = False
            def step(self, closure=None):
                if not self.compiled:  # as a compile-first optimizer pays on its first step
                    time.sleep(0.5)
                    self.compiled = True
                return super().step(closure)
        def make_optimizer(params, hparams, ctx):
            return CompilesFirst(params, lr=0.1)
    """)
    proc = cli("validate", tmp_path / "slow_start", "--workload", workload, "--steps", "4")
    assert proc.returncode == 0, proc.stderr
    assert "ok: 4 steps" in proc.stdout
    assert "first step" in proc.stdout and "per step over 3 more" in proc.stdout


@given(st.floats(0.0, 1e4, allow_nan=False), st.floats(0.0, 1e4, allow_nan=False), st.integers(2, 10**6))
def test_first_step_reads_the_first_and_last_eval(first, more, steps):
    evals = [{"step": 1, "submission_wall_time": first}, {"step": steps, "submission_wall_time": first + more}]
    text = first_step(evals)
    assert text.startswith("first step ") and f"over {steps - 1:d} more" in text


@pytest.mark.parametrize("evals", [[], [{"step": 5, "submission_wall_time": 1.0}]])
def test_first_step_without_an_eval_after_step_one(evals):
    assert first_step(evals) == "first step: not measured"
