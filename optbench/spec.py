"""The contracts shared by every part of optbench (DESIGN.md §1–§5), in one place.

Plain dataclasses only: this module imports neither torch nor pandas, so that
`import optbench` and `optbench --help` stay fast, and so that every other module
(the runner, the executors, the scorer) can depend on it without cycles.

Read it the way you read AlgoPerf's `spec.py`: a workload says *what* must be
reached (`Target`) within *what* (`Budget`), checked *how often* (`EvalPolicy`);
a `TrialSpec` is one run of one submission on one workload with one set of
hyperparameters; a `TrialResult` is what came of it; a `Context` is what a
submission may know while it trains.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Mode = Literal["min", "max"]

#: Status of a finished trial. Only ``reached`` has a finite time-to-target.
#: ``budget_exhausted``: ran out of budget (or steps) before the target;
#: ``diverged``: the training loss became NaN/inf; ``failed``: the submission or the
#: workload raised; ``timeout``: the per-trial wall-clock limit killed it (a hang).
TrialStatus = Literal["reached", "budget_exhausted", "diverged", "failed", "timeout"]
TRIAL_STATUSES: tuple[str, ...] = ("reached", "budget_exhausted", "diverged", "failed", "timeout")


@dataclass(frozen=True)
class Target:
    """The metric a trial must reach, e.g. ``validation/accuracy >= 0.9``."""

    metric: str  #: a column of evals.csv: ``<split>/<name>``
    value: float
    mode: Mode  #: ``min``: hit when metric <= value; ``max``: hit when metric >= value

    def is_hit(self, measured: float | None) -> bool:
        if measured is None or not math.isfinite(measured):
            return False
        return measured <= self.value if self.mode == "min" else measured >= self.value

    def better(self, a: float, b: float) -> bool:
        """True when ``a`` is strictly better than ``b`` in this target's direction."""
        return a < b if self.mode == "min" else a > b


@dataclass(frozen=True)
class Budget:
    """How long a trial may run.

    ``seconds`` is submission time (DESIGN.md §4), not wall time. ``step_hint`` is
    AlgoPerf's hint of how many steps a good submission needs; schedules such as
    cosine decay use it. ``max_steps`` is an optional hard cap (None: no cap).
    """

    seconds: float
    step_hint: int
    max_steps: int | None = None


@dataclass(frozen=True)
class EvalPolicy:
    """When evals happen: every ``every_seconds`` of submission time, or every
    ``every_steps`` steps (deterministic, so steps-to-target is reproducible).
    Exactly one is set."""

    every_seconds: float | None = None
    every_steps: int | None = None

    def is_due(self, step: int, submission_time: float, last_eval_step: int, last_eval_time: float) -> bool:
        if self.every_steps is not None:  # at multiples of every_steps, so rows line up across trials
            return step // self.every_steps > last_eval_step // self.every_steps
        return submission_time - last_eval_time >= (self.every_seconds or 0.0)


@dataclass(frozen=True)
class ComponentRef:
    """A registered factory (``mnist1d``) or a dotted path (``pkg.mod:fn``) plus its kwargs."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkloadSpec:
    """A workload as its YAML describes it (DESIGN.md §2), after validation."""

    name: str
    version: int
    description: str
    dataset: ComponentRef
    model: ComponentRef
    loss: ComponentRef
    target: Target
    budget: Budget
    eval: EvalPolicy
    batch_size: int
    metrics: tuple[str, ...] = ("loss",)  #: evaluated on every split the dataset has
    l2: float = 0.0  #: part of the objective: + l2/2 * ||theta||^2 (not the optimizer's weight decay)
    suite: str = ""  #: folder the YAML came from
    path: str = ""  #: the YAML file (informational; not part of the hash)
    notes: dict[str, Any] = field(default_factory=dict)  #: free-form: calibration, sources

    def resolved(self) -> dict[str, Any]:
        """Everything that changes results, as plain data (what the hash covers)."""
        data = asdict(self)
        for key in ("path", "suite", "description", "notes"):
            data.pop(key)
        return data

    @property
    def hash(self) -> str:
        return stable_hash(self.resolved())


@dataclass(frozen=True)
class Hyperparameter:
    """One entry of a search space (DESIGN.md §3).

    Exactly one form: a range (``min``/``max``/``scaling``), a list of
    ``feasible_points``, or a fixed ``value``.
    """

    name: str
    min: float | None = None
    max: float | None = None
    scaling: Literal["linear", "log"] | None = None
    feasible_points: tuple[Any, ...] | None = None
    value: Any = None

    @property
    def kind(self) -> Literal["range", "discrete", "constant"]:
        if self.feasible_points is not None:
            return "discrete"
        if self.min is not None:
            return "range"
        return "constant"


@dataclass(frozen=True)
class SearchSpace:
    """A submission's search space: independent hyperparameters, or (AlgoPerf's list
    form of ``tuning_search_space.json``) an explicit list of points used in order."""

    params: tuple[Hyperparameter, ...] = ()
    points: tuple[dict[str, Any], ...] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        if self.points is not None:
            return tuple(sorted({k for p in self.points for k in p}))
        return tuple(p.name for p in self.params)


@dataclass
class TrialSpec:
    """One trial: everything a worker process needs to run it, picklable.

    ``folder`` is relative to the experiment root:
    ``<submission>/study_<j>/<workload>/trial_<i>`` (DESIGN.md §5).
    """

    workload: WorkloadSpec
    submission: str  #: name
    submission_path: str  #: folder holding submission.py or submission.yaml
    hparams: dict[str, Any]
    seed: int
    study: int = 0
    trial: int = 0
    ruleset: Literal["external", "self"] = "external"
    budget_multiplier: float = 1.0  #: self-tuning multiplies the budget (v0.5: 3, v0.6: 1.5)
    device: str = "cpu"
    num_threads: int | None = None  #: torch intra-op threads in the worker (None: torch's default)
    stop_at_target: bool = True
    wall_clock_limit: float | None = None  #: seconds of wall time before the trial counts as hung
    checkpoint_dir: str | None = None  #: when set, save a checkpoint at every eval and resume from it
    submission_hash: str = ""
    data_dir: str | None = None  #: where workloads that read real data find it
    compile: bool = False  #: torch.compile the model; its compile/warm-up time is ``compile_time``, not submission time
    amp: str | None = None  #: "bf16": autocast the training forward and loss to bfloat16 (evals stay float32)
    tf32: bool = False  #: CUDA: TF32 matmuls and convolutions
    cudnn_benchmark: bool = False  #: CUDA: cuDNN autotunes its kernels (faster, not bit-reproducible)
    nproc_per_trial: int = 1  #: >1: one data-parallel trial on that many processes (optbench.distributed)

    @property
    def folder(self) -> str:
        return f"{self.submission}/study_{self.study}/{self.workload.name}/trial_{self.trial}"

    @property
    def budget_seconds(self) -> float:
        return self.workload.budget.seconds * self.budget_multiplier


@dataclass
class TrialResult:
    """What came of a trial; written as ``trial.json`` (with the spec's identity)."""

    status: TrialStatus
    steps_to_target: int | None = None
    time_to_target: float | None = None  #: submission seconds at the eval that hit the target
    steps: int = 0  #: steps taken in all
    submission_time: float = 0.0
    eval_time: float = 0.0
    init_time: float = 0.0
    total_time: float = 0.0  #: wall time of the trial, init included
    best_metric: float | None = None  #: best value of the target metric seen at an eval within budget
    num_evals: int = 0
    preemption_count: int = 0
    compile_time: float = 0.0  #: torch.compile + warm-up step before the clock starts (part of init_time)
    error: str | None = None  #: a one-line reason; the traceback goes to ``traceback``
    traceback: str | None = None

    @property
    def reached(self) -> bool:
        return self.status == "reached"


@dataclass
class Context:
    """What a submission may know while it trains (passed as ``ctx``)."""

    workload: str
    step_hint: int
    budget_seconds: float
    batch_size: int
    device: str
    seed: int
    step: int = 0  #: steps completed so far
    submission_time: float = 0.0  #: submission seconds used so far
    metadata: dict[str, Any] = field(default_factory=dict)  #: what the dataset declares (num_classes, ...)


def stable_hash(data: Any) -> str:
    """A short hash of plain data that does not depend on dict order or Python's hash seed."""
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
