"""Scoring steps (docs/design.md §6), each on a case small enough to compute by hand, plus
properties any correct score must have, and our own results folder scored end to end."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optbench.errors import OptbenchError
from optbench.scoring import bootstrap, inputs, rules, scoreboard
from optbench.spec import Budget, ComponentRef, EvalPolicy, Target, TrialResult, TrialSpec, WorkloadSpec
from tests.conftest import examples

INF = math.inf


def frame(rows: dict[str, list[float]], workloads: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=workloads, dtype=float)


def trials_frame(rows: list[tuple]) -> pd.DataFrame:
    """(submission, workload, study, trial, time) -> the columns the steps need."""
    df = pd.DataFrame(rows, columns=["submission", "workload", "study", "trial", "time"])
    return df


# ---------------------------------------------------------------- step 1


def test_trial_time_to_target_uses_status_and_clock():
    trials = pd.DataFrame({
        "status": ["reached", "diverged", "reached", "budget_exhausted"],
        "time_to_target": [12.5, 3.0, None, None],
        "steps_to_target": [100, 20, None, None],
    })
    assert list(rules.trial_time_to_target(trials)) == [12.5, INF, INF, INF]
    assert list(rules.trial_time_to_target(trials, "steps")) == [100, INF, INF, INF]


# ---------------------------------------------------------------- step 2


def test_study_times_external_takes_the_best_trial():
    trials = trials_frame([
        ("A", "w", 0, 0, 12.0), ("A", "w", 0, 1, 10.0), ("A", "w", 0, 2, INF),
        ("A", "w", 1, 0, INF), ("A", "w", 1, 1, INF),
    ])
    out = rules.study_times(trials)
    assert out["time"].tolist() == [10.0, INF]
    assert out["row"].tolist() == [1, 3]  # ties (all inf) go to the first trial


def test_study_times_first_hit_is_algoperfs_rule_not_the_fastest():
    # trial 0 reaches the target at eval 3 after 50 s; trial 1 at eval 5 after 40 s
    # (it logged evals more often): AlgoPerf takes trial 0 and its 50 s.
    trials = trials_frame([("A", "w", 0, 0, 50.0), ("A", "w", 0, 1, 40.0), ("A", "w", 0, 2, INF)])
    trials["hit_index"] = [3, 5, -1]
    out = rules.study_times(trials, choose="first_hit")
    assert out["time"].tolist() == [50.0]
    assert rules.study_times(trials, choose="time")["time"].tolist() == [40.0]


def test_study_times_first_hit_tie_goes_to_the_faster_trial():
    # both first reach the target at eval 2; trial 1 got there in 40 s, trial 0 in 50 s:
    # the faster one wins, whatever the trial numbers (AlgoPerf's order is the directory listing's)
    trials = trials_frame([("A", "w", 0, 0, 50.0), ("A", "w", 0, 1, 40.0), ("A", "w", 0, 2, 30.0)])
    trials["hit_index"] = [2, 2, 3]
    out = rules.study_times(trials, choose="first_hit")
    assert out["time"].tolist() == [40.0] and out["row"].tolist() == [1]
    # the same with the rows in the other order
    flipped = trials.iloc[::-1].reset_index(drop=True)
    assert rules.study_times(flipped, choose="first_hit")["time"].tolist() == [40.0]


def test_study_times_first_hit_full_tie_goes_to_the_earlier_row():
    trials = trials_frame([("A", "w", 0, 0, 40.0), ("A", "w", 0, 1, 40.0)])
    trials["hit_index"] = [2, 2]
    assert rules.study_times(trials, choose="first_hit")["row"].tolist() == [0]


def test_study_times_never_reached_is_inf():
    trials = trials_frame([("A", "w", 0, 0, INF), ("A", "w", 0, 1, INF)])
    trials["hit_index"] = [-1, -1]
    assert rules.study_times(trials, choose="first_hit")["time"].tolist() == [INF]


# ---------------------------------------------------------------- step 3


def test_workload_times_median_over_studies_counts_inf():
    studies = pd.DataFrame({
        "submission": ["A"] * 3 + ["B"] * 3 + ["C"] * 2,
        "workload": ["w"] * 8,
        "study": [0, 1, 2, 0, 1, 2, 0, 1],
        "time": [10.0, 9.0, 11.0, 15.0, INF, 14.0, 5.0, INF],
    })
    out = rules.workload_times(studies, workloads=["w", "v"])
    assert out.loc["A", "w"] == 10.0
    assert out.loc["B", "w"] == 15.0  # one miss of three still has a median
    assert out.loc["C", "w"] == INF  # one miss of two: the median is inf
    assert (out["v"] == INF).all()  # no studies at all: not reached


# ---------------------------------------------------------------- step 4


def test_cut_above_tau():
    times = frame({"A": [10, 10], "B": [40, 41], "C": [INF, 20]}, ["w1", "w2"])
    out = rules.cut_above_tau(times, 4.0)
    assert out.loc["B", "w1"] == 40  # exactly 4x stays
    assert out.loc["B", "w2"] == INF  # above 4x goes
    assert out.loc["C", "w2"] == 20


def test_held_out_rule_missed_variant_takes_the_base():
    times = frame({"A": [10, 100], "B": [12, INF], "C": [11, 500]}, ["ogbg", "ogbg_model_size"])
    out = rules.apply_held_out_rule(times, {"ogbg_model_size": "ogbg"})
    assert list(out.columns) == ["ogbg"]
    assert out["ogbg"].tolist() == [10, INF, INF]  # B missed the variant; C's variant is > 4x best


def test_held_out_rule_base_miss_first_removes_the_variants_best():
    # A is fastest on the variant but missed the base, so (AlgoPerf's first pass) its
    # variant time goes: the variant's best becomes B's 100, and C's 300 survives the cut.
    times = frame({"A": [INF, 10], "B": [10, 100], "C": [12, 300]}, ["wmt", "wmt_glu_tanh"])
    out = rules.apply_held_out_rule(times, {"wmt_glu_tanh": "wmt"})
    assert out["wmt"].tolist() == [INF, 10, 12]


# ---------------------------------------------------------------- steps 5-7


def test_ratios_to_best_and_to_a_reference():
    times = frame({"A": [10, 30, INF], "B": [20, 15, INF], "C": [INF, 60, 5]}, ["w1", "w2", "w3"])
    r = rules.ratios_to_best(times)
    assert r.loc["A"].tolist()[:2] == [1.0, 2.0] and r.loc["B", "w2"] == 1.0
    assert math.isnan(r.loc["A", "w3"]) is False and r.loc["A", "w3"] == INF
    assert r.loc["C", "w3"] == 1.0
    ref = rules.ratios_to_best(times, reference="B")
    assert ref.loc["A"].tolist()[:2] == [0.5, 2.0]
    assert ref.loc["C", "w3"] == 0.0  # B missed w3: C, which reached it, did better
    assert math.isnan(ref.loc["A", "w3"])  # both missed


def test_tau_grid():
    taus = rules.tau_grid(4.0)
    assert len(taus) == 100 and taus[0] == 1.0 and taus[-1] == 4.0
    with pytest.raises(OptbenchError, match="tau-max"):
        rules.tau_grid(1.0)


def test_performance_profiles_counts_share_of_workloads():
    ratios = frame({"A": [1.0, 2.5, INF], "B": [1.5, 1.0, 1.0]}, ["w1", "w2", "w3"])
    taus = np.array([1.0, 2.0, 3.0])
    rho = rules.performance_profiles(ratios, taus)
    assert rho.loc["A"].tolist() == pytest.approx([1 / 3, 1 / 3, 2 / 3])
    assert rho.loc["B"].tolist() == pytest.approx([2 / 3, 1, 1])
    # AlgoPerf divides by the number of base workloads even when some are absent
    assert rules.performance_profiles(ratios, taus, n_workloads=6).loc["B"].tolist() == pytest.approx(
        [1 / 3, 1 / 2, 1 / 2])


def test_scores_from_profiles_is_normalised_area():
    taus = np.linspace(1, 4, 100)
    profiles = pd.DataFrame([np.ones(100), np.zeros(100), np.where(taus >= 2.5, 1.0, 0.0)],
                            index=["one", "zero", "half"], columns=taus)
    scores = rules.scores_from_profiles(profiles)
    assert scores["one"] == pytest.approx(1.0)
    assert scores["zero"] == 0.0
    assert scores["half"] == pytest.approx(0.5)  # step at 2.5, the midpoint of a grid interval


def test_hand_computed_two_submissions_three_workloads():
    """A: 10, 25, miss; B: 15, 10, 20. Ratios A: 1, 2.5, inf; B: 1.5, 1, 1.
    rho_A = (1 + [tau >= 2.5]) / 3 -> area 1.5 -> score 1.5 / 3 = 1/2;
    rho_B = (2 + [tau >= 1.5]) / 3 -> area 2 + 2.5 / 3 -> score 17/18.
    (Steps at 1.5 and 2.5 fall at midpoints of the 100-point grid, where the
    trapezoid rule is exact.)"""
    times = frame({"A": [10, 25, INF], "B": [15, 10, 20]}, ["w1", "w2", "w3"])
    result = rules.score_times(times, rules.Rules(tau_max=4.0))
    assert result.scores["A"] == pytest.approx(0.5)
    assert result.scores["B"] == pytest.approx(17 / 18)


def test_hand_computed_cut_and_reference():
    # C is 4.5x slower on w1: cut (not just off the plot), so it reaches nothing.
    times = frame({"A": [10, 25, INF], "B": [15, 10, 20], "C": [45, INF, INF]}, ["w1", "w2", "w3"])
    result = rules.score_times(times)
    assert result.times.loc["C", "w1"] == INF
    assert result.scores["C"] == 0.0
    # ratios to B: A = 2/3 (counts everywhere), 2.5, inf -> (1 + [tau >= 2.5]) / 3 -> 1/2
    assert rules.score_times(times, rules.Rules(reference="B")).scores["A"] == pytest.approx(0.5)
    with pytest.raises(OptbenchError, match="--reference Z"):
        rules.score_times(times, rules.Rules(reference="Z"))


def test_full_chain_from_trials():
    """Trials -> studies -> medians -> score, by hand: A's studies 10, 9, 11 (median 10);
    B's 15, inf, 14 (median 15). Ratios 1 and 1.5: A scores 1, B (1 - 0.5 / 3) = 5/6."""
    trials = trials_frame([
        ("A", "w", 0, 0, 12.0), ("A", "w", 0, 1, 10.0), ("A", "w", 0, 2, INF),
        ("A", "w", 1, 0, INF), ("A", "w", 1, 1, 9.0), ("A", "w", 2, 0, 11.0),
        ("B", "w", 0, 0, 15.0), ("B", "w", 1, 0, INF), ("B", "w", 2, 0, 16.0), ("B", "w", 2, 1, 14.0),
    ])
    medians = rules.workload_times(rules.study_times(trials))
    assert medians["w"].tolist() == [10.0, 15.0]
    scores = rules.score_times(medians).scores
    assert scores["A"] == pytest.approx(1.0) and scores["B"] == pytest.approx(5 / 6)


# ---------------------------------------------------------------- properties

times_st = st.one_of(st.just(INF), st.floats(0.5, 1000.0, allow_nan=False))


@st.composite
def time_tables(draw, min_subs=1):
    n_sub = draw(st.integers(min_subs, 5))
    n_wl = draw(st.integers(1, 6))
    values = draw(st.lists(st.lists(times_st, min_size=n_wl, max_size=n_wl), min_size=n_sub, max_size=n_sub))
    return frame({f"s{i}": row for i, row in enumerate(values)}, [f"w{j}" for j in range(n_wl)])


@settings(max_examples=examples(150), deadline=None)
@given(time_tables(), st.sampled_from([2.0, 4.0, 6.5]))
def test_property_scores_in_unit_interval(times, tau_max):
    scores = rules.score_times(times, rules.Rules(tau_max=tau_max)).scores
    assert ((scores >= 0) & (scores <= 1 + 1e-12)).all()


@settings(max_examples=examples(150), deadline=None)
@given(time_tables(), st.data())
def test_property_best_everywhere_scores_one(times, data):
    best = times.min(axis=0).where(lambda s: np.isfinite(s), 100.0)
    factors = data.draw(st.lists(st.floats(0.1, 1.0), min_size=times.shape[1], max_size=times.shape[1]))
    times.loc["champion"] = (best * np.array(factors)).to_numpy()
    assert rules.score_times(times).scores["champion"] == pytest.approx(1.0)


@settings(max_examples=examples(150), deadline=None)
@given(time_tables(), st.integers(-10, 10))
def test_property_scaling_all_times_leaves_scores_unchanged(times, exponent):
    factor = 2.0 ** exponent  # a power of two scales floats exactly
    before = rules.score_times(times).scores
    after = rules.score_times(times * factor).scores
    pd.testing.assert_series_equal(before, after)


@settings(max_examples=examples(200), deadline=None)
@given(time_tables(), st.data())
def test_property_worse_time_never_raises_own_score(times, data):
    sub = data.draw(st.sampled_from(list(times.index)))
    wl = data.draw(st.sampled_from(list(times.columns)))
    worse = times.copy()
    worse.loc[sub, wl] = data.draw(st.one_of(st.just(INF), st.floats(1.0, 50.0))) * times.loc[sub, wl]
    assert rules.score_times(worse).scores[sub] <= rules.score_times(times).scores[sub] + 1e-12


@settings(max_examples=examples(100), deadline=None)
@given(time_tables(), st.data())
def test_property_held_out_rule_only_takes_reached_workloads_away(times, data):
    times.columns = ["base"] + [f"base_v{j}" for j in range(1, times.shape[1])]
    variant = data.draw(st.sampled_from(list(times.columns)))
    if variant == "base":
        return
    out = rules.score_times(times, rules.Rules(variants={variant: "base"})).times
    assert variant not in out.columns
    reached = np.isfinite(out["base"])
    assert (np.isfinite(times["base"]) | ~reached).all()
    assert (np.isfinite(times[variant]) | ~reached).all()  # missed the variant -> no base


# ---------------------------------------------------------------- bootstrap, checks


def test_bootstrap_is_seeded_and_in_range():
    rng = np.random.default_rng(1)
    rows = [(s, w, j, float(rng.uniform(5, 20)) if rng.random() > 0.2 else INF)
            for s in "ABC" for w in ("w1", "w2") for j in range(5)]
    studies = pd.DataFrame(rows, columns=["submission", "workload", "study", "time"])
    medians = rules.workload_times(studies)
    a = bootstrap.bootstrap_scores(studies, medians, n=300, seed=7)
    b = bootstrap.bootstrap_scores(studies, medians, n=300, seed=7)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    assert ((a[0]["score_lo"] >= 0) & (a[0]["score_lo"] <= a[0]["score_hi"]) & (a[0]["score_hi"] <= 1)).all()
    other = bootstrap.bootstrap_scores(studies, medians, n=300, seed=8)[0]
    assert not other.equals(a[0])
    ci = a[1].set_index(["submission", "workload"])
    assert (ci["median_lo"] <= ci["median_hi"]).all()
    assert not ci.isna().any().any()  # inf stays inf, never NaN


def test_bootstrap_one_study_per_cell_has_no_spread():
    studies = pd.DataFrame({"submission": ["A", "B"], "workload": ["w", "w"], "study": [0, 0], "time": [1.0, 2.0]})
    ci, _ = bootstrap.bootstrap_scores(studies, rules.workload_times(studies), n=50)
    assert (ci["score_lo"] == ci["score_hi"]).all()


def test_check_counts_reports_missing_workloads_and_odd_counts():
    trials = trials_frame(
        [("A", "w1", j, i, 1.0) for j in range(3) for i in range(2)]
        + [("A", "w2", j, i, 1.0) for j in range(2) for i in range(2)]
        + [("B", "w1", j, i, 1.0) for j in range(3) for i in range(2)][:-1]
    )
    problems = inputs.check_counts(trials, ["w1", "w2"], "external", {"A": "r/A", "B": "r/B"})
    text = [str(p) for p in problems]
    assert "r/B: no trials for workload(s) w2: scored as not reached" in text
    assert "r/A: w2: 2 studies, expected 3" in text
    assert "r/B/study_2: w1: 1 trials, expected 2" in text
    assert len(problems) == 3
    self_problems = inputs.check_counts(trials, ["w1", "w2"], "self", {"A": "r/A", "B": "r/B"})
    assert sum("expected 1" in str(p) for p in self_problems) == 7  # 8 studies, all but B study_2 have 2


# ---------------------------------------------------------------- our results folder


def _workload(name: str, value: float = 0.9) -> WorkloadSpec:
    return WorkloadSpec(
        name=name, version=1, description="", dataset=ComponentRef("mnist1d"), model=ComponentRef("mlp"),
        loss=ComponentRef("cross_entropy"), target=Target("validation/accuracy", value, "max"),
        budget=Budget(60.0, 1000), eval=EvalPolicy(every_steps=100), batch_size=32,
    )


def write_results(root: Path, times: dict, ruleset: str = "external", workloads: dict | None = None) -> None:
    """times: {(submission, workload, study, trial): seconds or None (not reached)}."""
    from optbench import store

    workloads = workloads or {}
    for (sub, wl, study, trial), seconds in times.items():
        spec = TrialSpec(workload=workloads.get(wl) or _workload(wl), submission=sub, submission_path=".",
                         hparams={"lr": 0.1}, seed=study * 10 + trial, study=study, trial=trial, ruleset=ruleset)
        reached = seconds is not None
        result = TrialResult(
            status="reached" if reached else "budget_exhausted",
            time_to_target=seconds, steps_to_target=int(seconds * 10) if reached else None,
            steps=100, submission_time=seconds or 60.0, best_metric=0.95 if reached else 0.5,
        )
        evals = [{"step": 10, "submission_time": 1.0, "eval_time": 0.1, "total_time": 1.2, "train/loss": 0.3,
                  "validation/accuracy": 0.5}]
        store.write_trial(root, spec, result, evals)


def test_optbench_results_folder_scored(tmp_path):
    times = {}
    for j in range(3):
        for i in range(2):
            times[("adamw", "w1", j, i)] = [10.0, 12.0][i] + j
            times[("adamw", "w2", j, i)] = None if j == 0 else 25.0
            times[("sgd", "w1", j, i)] = 15.0 + j + i
            times[("sgd", "w2", j, i)] = 10.0
    write_results(tmp_path, times)
    board = scoreboard.score_folder(tmp_path)
    assert board.ruleset == "external" and board.problems == []
    # adamw: w1 studies 10, 11, 12 -> 11; w2 inf, 25, 25 -> 25. sgd: w1 15, 16, 17 -> 16; w2 10
    assert board.medians.loc["adamw"].tolist() == [11.0, 25.0]
    assert board.medians.loc["sgd"].tolist() == [16.0, 10.0]
    assert board.trials["chosen"].sum() == 12
    # ratios adamw 1, 2.5; sgd 16/11, 1
    assert board.result.scores["adamw"] == pytest.approx((3 + 1.5) / 2 / 3)
    steps = scoreboard.score_folder(tmp_path, settings=scoreboard.ScoreSettings(clock="steps"))
    assert steps.medians.loc["adamw"].tolist() == [110.0, 250.0]


def test_optbench_results_refuses_mixed_workload_hashes(tmp_path):
    write_results(tmp_path, {("a", "w", 0, 0): 5.0})
    write_results(tmp_path, {("b", "w", 0, 0): 6.0}, workloads={"w": _workload("w", value=0.8)})
    with pytest.raises(OptbenchError, match="workload w was run with 2 different definitions"):
        scoreboard.score_folder(tmp_path)


def test_optbench_results_ruleset_from_trial_json(tmp_path):
    write_results(tmp_path, {("a", "w", 0, 0): 5.0, ("b", "w", 0, 0): 6.0}, ruleset="self")
    assert scoreboard.score_folder(tmp_path).ruleset == "self"
    write_results(tmp_path / "x", {("a", "w", 0, 0): 5.0}, ruleset="self")
    write_results(tmp_path / "x", {("b", "w", 0, 0): 6.0}, ruleset="external")
    with pytest.raises(OptbenchError, match="choose one with --ruleset"):
        scoreboard.score_folder(tmp_path / "x")
    assert list(scoreboard.score_folder(tmp_path / "x", ruleset="external").medians.index) == ["b"]


def test_optbench_results_unfinished_trial_is_a_warning(tmp_path):
    write_results(tmp_path, {("a", "w", 0, 0): 5.0, ("b", "w", 0, 0): 6.0})
    (tmp_path / "a/study_0/w/trial_1").mkdir()
    board = scoreboard.score_folder(tmp_path)
    assert any("trial_1: no complete trial.json" in str(p) for p in board.problems)
    assert board.result.scores["a"] == pytest.approx(1.0)


def test_optbench_results_errors(tmp_path):
    with pytest.raises(OptbenchError, match="no such results folder"):
        scoreboard.score_folder(tmp_path / "nope")
    with pytest.raises(OptbenchError, match="no finished trials"):
        scoreboard.score_folder(tmp_path)
    with pytest.raises(OptbenchError, match="--targets is for --format algoperf"):
        scoreboard.score_folder(tmp_path, targets=tmp_path / "t.json")
