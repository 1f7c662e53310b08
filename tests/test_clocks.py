"""The three clocks: wall (AlgoPerf's), cpu (the trial process's CPU seconds) and steps.

Planted submissions make the difference visible without timing anything precisely: a step that
sleeps costs wall time but almost no CPU time; a step that spins costs both.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from optbench.errors import OptbenchError
from optbench.experiment import configure
from optbench.spec import Budget, Clock, EvalPolicy, Target, TrialSpec
from optbench.trial import run_trial
from optbench.workloads import find_workload
from tests.conftest import one_thread, run_cli, write

SLEEPY_STEP = """
import time, torch
def make_optimizer(params, hparams, ctx):
    class Sleepy(torch.optim.SGD):
        def step(self, closure=None):
            time.sleep(0.02)   # wall time, no CPU time
            return super().step(closure)
    return Sleepy(params, lr=0.01)
"""


def digits(seconds: float = 0.4, steps: int | None = None, max_steps: int | None = 400, target: float = 1.01):
    wl = find_workload("digits_mlp")
    return dataclasses.replace(wl, budget=Budget(seconds, 100, max_steps=max_steps, steps=steps),
                               eval=EvalPolicy(every_steps=10), target=Target("validation/accuracy", target, "max"))


def spec(workload, path, clock: Clock, **kw) -> TrialSpec:
    return TrialSpec(workload, path.name, str(path), {}, seed=0, clock=clock, **kw)


def test_a_sleeping_step_costs_wall_time_but_not_cpu_time(tmp_path):
    sleepy = write(tmp_path / "sleepy" / "submission.py", SLEEPY_STEP).parent
    wall = run_trial(spec(digits(), sleepy, Clock.WALL), one_thread()).result
    cpu = run_trial(spec(digits(), sleepy, Clock.CPU), one_thread()).result
    assert wall.status == cpu.status == "budget_exhausted", (wall.error, cpu.error)
    assert wall.steps < 20  # 0.4 s of 20 ms sleeps
    assert cpu.steps > 4 * wall.steps  # the CPU clock charged the steps' work, not their sleeps
    assert cpu.submission_time == cpu.submission_cpu_time < cpu.submission_wall_time
    assert wall.submission_time == wall.submission_wall_time > wall.submission_cpu_time


def test_cpu_time_counts_the_work_of_a_step():
    """A plain step is CPU work: the CPU-seconds budget binds (its wall seconds depend on the load)."""
    wl = digits(seconds=0.3, max_steps=None)
    result = run_trial(TrialSpec(wl, "adamw", str(find_workload_submission("adamw")), {}, seed=0, clock=Clock.CPU),
                       one_thread()).result
    assert result.status == "budget_exhausted"
    assert 0.3 < result.submission_cpu_time < 0.3 + 0.2  # stopped by CPU seconds, one step past the budget
    assert result.submission_time == result.submission_cpu_time <= result.submission_wall_time + 0.05


def find_workload_submission(name: str):
    from optbench.submissions import find_submission

    return find_submission(name).path


def test_the_steps_clock_stops_at_its_step_budget_and_its_last_eval_counts():
    wl = digits(seconds=0.001, steps=37, max_steps=None)  # seconds do not bind on the steps clock
    outcome = run_trial(TrialSpec(wl, "adamw", str(find_workload_submission("adamw")), {}, seed=0,
                                  clock=Clock.STEPS, budget_multiplier=2.0), one_thread())
    result = outcome.result
    assert result.status == "budget_exhausted" and result.steps == 74  # 37 x the self-tuning multiplier 2
    assert [row["step"] for row in outcome.evals][-2:] == [70, 74]
    assert result.best_metric == max(row["validation/accuracy"] for row in outcome.evals)  # the eval at 74 counts


def test_steps_to_target_on_the_steps_clock_is_reproducible_and_within_budget():
    wl = digits(seconds=0.001, steps=200, max_steps=None, target=0.9)
    make = lambda: run_trial(TrialSpec(wl, "adamw", str(find_workload_submission("adamw")), {}, seed=1,  # noqa: E731
                                       clock=Clock.STEPS), one_thread())
    a, b = make(), make()
    assert a.result.status == "reached" and a.result.steps_to_target <= 200
    assert a.result.steps_to_target == b.result.steps_to_target
    assert [r["validation/accuracy"] for r in a.evals] == [r["validation/accuracy"] for r in b.evals]


def test_configure_picks_the_clock_and_one_thread_on_a_cpu():
    base = dict(workloads=["w"], submissions=["s"], suite=None, ruleset="self", preset=None, studies=None,
                trials=None, hparams=None)
    assert configure(**base).clock == Clock.CPU and configure(**base).threads == 1
    assert configure(**base, device="cuda").clock == Clock.WALL and configure(**base, device="cuda").threads is None
    assert configure(**base, suite_clock=Clock.STEPS).clock == Clock.STEPS
    assert configure(**base, suite_clock=Clock.STEPS, clock="wall").clock == Clock.WALL
    assert configure(**base, threads=2).threads == 2
    with pytest.raises(OptbenchError, match="--clock cpu counts CPU seconds"):
        configure(**base, clock="cpu", device="cuda")
    with pytest.raises(OptbenchError, match="expected wall, cpu or steps"):
        configure(**base, clock="sundial")


@pytest.mark.slow
def test_the_clock_is_recorded_and_resume_keeps_it(tmp_path, tiny_workloads):
    args = ("run", "--workloads", "tiny_digits", "--submissions", "adamw", "--workloads-dir", str(tiny_workloads),
            "--results", str(tmp_path), "--name", "exp", "--clock", "steps")
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "clock steps" in proc.stdout
    record = json.loads((tmp_path / "exp" / "experiment.json").read_text())
    assert record["config"]["clock"] == "steps" and record["config"]["threads"] == 1
    assert record["environment"]["load_average_1min"] is not None
    assert {t["clock"] for t in record["trials"]} == {"steps"}
    trial = json.loads(next((tmp_path / "exp").rglob("trial.json")).read_text())
    assert trial["clock"] == "steps" and trial["budget_steps"] == 450  # step_hint 300 x 1.5 (self-tuning)
    proc = run_cli("run", "--resume", str(tmp_path / "exp"))
    assert proc.returncode == 0 and "nothing left to run" in proc.stdout, proc.stderr
    proc = run_cli("run", "--resume", str(tmp_path / "exp"), "--clock", "wall")
    assert proc.returncode == 2 and "drop --clock" in proc.stderr


def write_clocked(root, clock: str, submission: str, wall: float, cpu: float, steps: int) -> None:
    from optbench import store
    from optbench.spec import TrialResult

    wl = find_workload("digits_mlp")
    spec = TrialSpec(wl, submission, f"submissions/{submission}", {}, seed=0, clock=Clock(clock))
    seconds = cpu if clock == "cpu" else wall
    result = TrialResult("reached", steps_to_target=steps, time_to_target=seconds, wall_time_to_target=wall,
                         cpu_time_to_target=cpu, steps=steps, submission_time=seconds, best_metric=0.99)
    store.write_trial(root, spec, result, [{"step": steps, "submission_time": seconds, "validation/accuracy": 0.99}])


def test_scores_use_the_run_s_clock_unless_told_otherwise(tmp_path):
    from optbench.scoring.scoreboard import ScoreSettings, score_folder

    root = tmp_path / "cpu_run"
    write_clocked(root, "cpu", "fast_cpu", wall=9.0, cpu=2.0, steps=300)  # a busy machine stretched its wall time
    write_clocked(root, "cpu", "slow_cpu", wall=6.0, cpu=4.0, steps=200)
    board = score_folder(root)
    assert board.clock == "cpu" and board.medians.loc["fast_cpu", "digits_mlp"] == 2.0
    assert board.leaderboard.index[0] == "fast_cpu"
    by_wall = score_folder(root, settings=ScoreSettings(clock="wall"))
    assert by_wall.medians.loc["fast_cpu", "digits_mlp"] == 9.0 and by_wall.leaderboard.index[0] == "slow_cpu"
    by_steps = score_folder(root, settings=ScoreSettings(clock="steps"))
    assert by_steps.leaderboard.index[0] == "slow_cpu"
    assert score_folder(root, settings=ScoreSettings(clock="seconds")).clock == "cpu"  # the run's own seconds


def test_trials_on_two_time_clocks_need_a_clock_to_be_scored(tmp_path):
    from optbench.scoring.scoreboard import ScoreSettings, score_folder

    root = tmp_path / "mixed"
    write_clocked(root, "cpu", "a", wall=9.0, cpu=2.0, steps=300)
    write_clocked(root, "wall", "b", wall=6.0, cpu=4.0, steps=200)
    with pytest.raises(OptbenchError, match="different clocks"):
        score_folder(root)
    assert score_folder(root, settings=ScoreSettings(clock="steps")).clock == "steps"
