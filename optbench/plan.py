"""The plan of an experiment: workloads × submissions × studies × trials as :class:`TrialSpec`s,
its record in ``experiment.json``, and rebuilding it from that record to resume.

Seeds are derived from (base seed, workload, study, trial), *not* from the
submission: every submission sees the same initial weights and the same batch
order for a given study and trial, so comparisons are paired.

**What resuming trusts.** ``experiment.json`` is the experiment's definition: on
``--resume`` the plan is rebuilt from it, not from the command line. Workloads come
from the resolved specs recorded there (so a resume works even when the YAML moved
or the ``--workloads-dir`` is gone), and every trial keeps its recorded seed and
hyperparameters. What cannot be recorded is code, so before anything runs
:func:`resume_plan` checks that nothing the results depend on has changed:

* each workload's YAML (at its recorded path, else by name) must still hash to the
  recorded hash;
* each submission folder must still have the recorded code hash (its search space
  is part of it);
* planning the recorded configuration again with today's code (search spaces,
  Halton points, seed derivation) must give the recorded trials.

Any difference is refused with one line that names it, because finished and new
trials would otherwise be scored together although they measure different things.
``--force`` resumes anyway: the recorded workloads and trials are run with the
submissions' current code, whose hash each new ``trial.json`` records, and the
override is noted in ``experiment.json`` under ``resumes``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from optbench import store
from optbench.errors import OptbenchError
from optbench.safeio import path_part
from optbench.spec import (
    Budget,
    ComponentRef,
    EvalPolicy,
    RunConfig,
    SubmissionRef,
    Target,
    TrialSpec,
    WorkloadSpec,
    stable_hash,
)

if TYPE_CHECKING:
    from optbench.submissions import SubmissionFolder

#: experiment.json's layout version (absent in records older than resume support).
FORMAT = 1
#: The fields of a trial that make up the plan (compared on resume).
TRIAL_FIELDS = ("folder", "workload", "submission", "study", "trial", "seed", "hparams", "ruleset",
                "budget_multiplier", "device", "stop_at_target", "data_dir", "clock")
#: Run-wide TrialSpec fields kept only in the run's configuration (the GPU path; data-parallel trials).
RUN_WIDE_FIELDS = ("compile", "amp", "tf32", "cudnn_benchmark", "nproc_per_trial", "save_weights")

#: (submission, workload, study) -> the hyperparameter points of that study's trials, in order.
HparamsFor = Callable[[SubmissionRef, WorkloadSpec, int], list[dict[str, Any]]]


def trial_seed(base_seed: int, workload: str, study: int, trial: int) -> int:
    """A 31-bit seed that depends only on its inputs (not on Python's hash seed)."""
    return int(stable_hash([base_seed, workload, study, trial]), 16) % (2**31 - 1)


def build_plan(workloads: list[WorkloadSpec], submissions: list[SubmissionRef], config: RunConfig,
               hparams_for: HparamsFor) -> list[TrialSpec]:
    """Every trial of the run: studies × workloads × submissions × each study's points."""
    ruleset = "self" if config.ruleset == "self" else "external"
    run_wide = {name: getattr(config, name) for name in RUN_WIDE_FIELDS}
    specs = []
    for study in range(config.studies):
        for workload in workloads:
            for sub in submissions:
                for trial, hparams in enumerate(hparams_for(sub, workload, study)):
                    specs.append(TrialSpec(
                        workload=workload, submission=sub.name, submission_path=sub.path, hparams=dict(hparams),
                        seed=trial_seed(config.seed, workload.name, study, trial), study=study, trial=trial,
                        ruleset=ruleset, budget_multiplier=config.budget_multiplier, device=config.device,
                        stop_at_target=config.stop_at_target, submission_hash=sub.code_hash,
                        data_dir=config.data_dir, clock=config.clock, **run_wide,
                    ))
    return specs


def plan_from_config(workloads: list[WorkloadSpec], submissions: list[SubmissionFolder], config: RunConfig) -> list[TrialSpec]:
    """The plan a run configuration asks for.

    ``ruleset`` is ``external`` (quasi-random search points per study, or the fixed
    ``hparams`` override) or ``self`` (one trial per study, no hyperparameters).
    """
    from optbench.tuning.points import study_points
    from optbench.tuning.spaces import load_search_space

    override, ruleset = config.hparams, config.ruleset
    if override is not None:
        for sub in submissions:  # its search space was checked when its folder was read
            sub.check_hparams(override, f"--hparams (submission {sub.name})")
    spaces = {}
    if ruleset == "external" and override is None:
        for sub in submissions:
            if sub.search_space_path is None:
                raise OptbenchError(f"{sub.path}: no search_space.yaml for external tuning")
            spaces[sub.name] = (load_search_space(sub.search_space_path), str(sub.search_space_path))

    def hparams_for(ref: SubmissionRef, workload: WorkloadSpec, study: int) -> list[dict[str, Any]]:
        if override is not None:
            return [dict(override)]
        if ruleset == "self":
            return [{}]
        space, source = spaces[ref.name]
        return study_points(space, config.trials, config.seed, study,
                                   same_points_per_study=config.same_points_per_study, source=source)

    refs = [SubmissionRef(s.name, str(Path(s.path).resolve()), s.code_hash) for s in submissions]
    return build_plan(workloads, refs, config, hparams_for)


# ------------------------------------------------------------------------------- the record


def trial_entry(spec: TrialSpec) -> dict[str, Any]:
    """One trial of the plan as plain JSON data."""
    entry = {"folder": spec.folder, "workload": spec.workload.name, "submission": spec.submission,
             "study": spec.study, "trial": spec.trial, "seed": spec.seed, "hparams": spec.hparams,
             "ruleset": spec.ruleset, "budget_multiplier": spec.budget_multiplier, "device": spec.device,
             "stop_at_target": spec.stop_at_target, "data_dir": spec.data_dir, "clock": str(spec.clock)}
    return _as_json(entry)


def plan_record(specs: list[TrialSpec]) -> dict[str, Any]:
    """The plan's part of experiment.json: workloads (resolved, hashed), submissions, trials."""
    workloads = {s.workload.name: s.workload for s in specs}
    submissions = {s.submission: (s.submission_path, s.submission_hash) for s in specs}
    trials = [trial_entry(s) for s in specs]
    return {
        "format": FORMAT,
        "workloads": {n: {"hash": w.hash, "version": w.version, "path": _abspath(w.path), "suite": w.suite,
                          "spec": _as_json(w.resolved())} for n, w in workloads.items()},
        "submissions": {n: {"path": _abspath(p), "code_hash": h} for n, (p, h) in submissions.items()},
        "plan_hash": stable_hash(trials),
        "trials": trials,
    }


def workload_from_record(name: str, entry: dict[str, Any]) -> WorkloadSpec:
    """Rebuild a WorkloadSpec from experiment.json; its hash must be the recorded one."""
    try:
        data = entry["spec"]
        spec = WorkloadSpec(
            name=data["name"], version=data["version"], description="",
            dataset=ComponentRef(**data["dataset"]), model=ComponentRef(**data["model"]),
            loss=ComponentRef(**data["loss"]), target=Target(**data["target"]), budget=Budget(**data["budget"]),
            eval=EvalPolicy(**data["eval"]), batch_size=data["batch_size"], metrics=tuple(data["metrics"]),
            l2=data.get("l2", 0.0), suite=entry.get("suite", ""), path=entry.get("path", ""),
            scale=data.get("scale"),
        )
    except (KeyError, TypeError) as exc:
        raise OptbenchError(f"experiment.json: workloads.{name}: incomplete record ({exc})") from None
    if spec.hash != entry.get("hash"):
        raise OptbenchError(f"experiment.json: workloads.{name}: the recorded spec does not hash to the recorded "
                            f"hash {entry.get('hash')} (edited by hand?)")
    return spec


@dataclass
class Resumed:
    """What :func:`resume_plan` found: the plan to run, and what changed (only with ``force``)."""

    specs: list[TrialSpec]
    record: dict[str, Any]
    config: RunConfig
    changes: list[str]
    notes: list[str]


def resume_plan(root: Path, force: bool = False) -> Resumed:
    """Rebuild the plan of the experiment in ``root`` (see the module docstring for what is checked)."""
    from optbench.submissions import read_submission
    from optbench.workloads import find_workload, load_workload_file
    from optbench.workloads.scales import scale_of

    root = Path(root)
    if not root.is_dir():
        raise OptbenchError(f"--resume {root}: no such folder")
    record = store.read_experiment(root)
    if not isinstance(record, dict) or not isinstance(record.get("trials"), list) or "config" not in record:
        raise OptbenchError(f"--resume {root}: {store.EXPERIMENT_FILE} holds no plan (not written by optbench run?)")
    from optbench.schemas import ExperimentRecord, check  # pydantic: imported only when resuming

    check(ExperimentRecord, record, str(root / store.EXPERIMENT_FILE))
    config = RunConfig.from_record(record["config"])
    changes: list[str] = []
    notes: list[str] = []

    workloads: dict[str, WorkloadSpec] = {}
    for name, entry in (record.get("workloads") or {}).items():
        workloads[name] = workload_from_record(name, entry)
        try:
            path = Path(entry.get("path") or "")
            current = load_workload_file(path) if path.is_file() else find_workload(name)
            if workloads[name].scale is not None:  # a rung of a ladder: compare with the same rung of the file
                current = scale_of(current, workloads[name].scale["value"])
        except OptbenchError:
            notes.append(f"workload {name}: its YAML is gone; running the recorded definition")
            continue
        if current.hash != entry["hash"]:
            changes.append(f"workload {name} changed (hash {entry['hash']} -> {current.hash})")

    submissions: dict[str, SubmissionFolder] = {}
    for name, entry in (record.get("submissions") or {}).items():
        path = Path(entry.get("path", ""))
        if not path.is_dir():
            raise OptbenchError(f"--resume {root}: submission {name}: its folder {path} is gone; put it back to resume")
        submissions[name] = read_submission(path)
        if submissions[name].code_hash != entry.get("code_hash"):
            changes.append(f"submission {name}'s code changed (hash {entry.get('code_hash')} -> "
                           f"{submissions[name].code_hash})")

    entries = [_complete_entry(entry, config) for entry in record["trials"]]
    specs = [_spec_from_entry(entry, workloads, submissions, config) for entry in entries]
    try:
        replanned = plan_from_config([workloads[n] for n in _ordered(record, "workload")],
                                     [submissions[n] for n in _ordered(record, "submission")],
                                     config)
        if [trial_entry(s) for s in replanned] != [_as_json(e) for e in entries]:
            changes.append("the plan changed (planning the recorded configuration again gives other trials, "
                           "seeds or hyperparameters)")
    except OptbenchError as exc:
        changes.append(f"the plan cannot be made again ({exc})")
    if changes and not force:
        raise OptbenchError(f"cannot resume {root}: {'; '.join(changes)}. Finished and new trials would not be "
                            "comparable: start a new experiment, or pass --force to resume anyway")
    return Resumed(specs, record, config, changes, notes)


def _spec_from_entry(entry: dict[str, Any], workloads: dict[str, WorkloadSpec], submissions: dict[str, SubmissionFolder],
                     config: RunConfig) -> TrialSpec:
    try:
        path_part(entry["submission"], f"experiment.json: trial {entry.get('folder')}: submission")
        path_part(entry["workload"], f"experiment.json: trial {entry.get('folder')}: workload")
        sub = submissions[entry["submission"]]
        spec = TrialSpec(
            workload=workloads[entry["workload"]], submission=entry["submission"],
            submission_path=str(Path(sub.path).resolve()), hparams=entry["hparams"], seed=entry["seed"],
            study=entry["study"], trial=entry["trial"], ruleset=entry["ruleset"],
            budget_multiplier=entry["budget_multiplier"], device=entry["device"],
            stop_at_target=entry["stop_at_target"], submission_hash=sub.code_hash, data_dir=entry["data_dir"],
            clock=entry["clock"], **{name: getattr(config, name) for name in RUN_WIDE_FIELDS},
        )
    except KeyError as exc:
        raise OptbenchError(f"experiment.json: trial {entry.get('folder')}: no record of {exc}") from None
    if spec.folder != entry["folder"]:
        raise OptbenchError(f"experiment.json: trial {entry['folder']}: does not match its own fields")
    return spec


def _complete_entry(entry: dict[str, Any], config: RunConfig) -> dict[str, Any]:
    """Trials recorded before every run-wide field was kept per trial take them from the configuration."""
    defaults = {"ruleset": "self" if config.ruleset == "self" else "external",
                "budget_multiplier": config.budget_multiplier, "device": config.device,
                "stop_at_target": config.stop_at_target, "data_dir": config.data_dir, "clock": str(config.clock)}
    return {key: entry.get(key, defaults.get(key)) for key in TRIAL_FIELDS}


def _ordered(record: dict[str, Any], key: str) -> list[str]:
    """Names in the order the plan first used them (the order planning iterates in)."""
    return list(dict.fromkeys(t[key] for t in record["trials"]))


def _abspath(path: str) -> str:
    return os.path.abspath(path) if path else path


def _as_json(data: Any) -> Any:
    """``data`` as it reads back from JSON (tuples become lists, numpy scalars numbers)."""
    return json.loads(json.dumps(data, default=store._json_default))
