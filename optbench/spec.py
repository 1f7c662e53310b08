"""The contracts shared by every part of optbench (docs/design.md §1–§5), in one place, as code.

Dataclasses, enums and Protocols only: this module imports neither torch nor pandas, so
that `import optbench` and `optbench --help` stay fast, and every other module (the
runner, the executors, the scorer) can depend on it without cycles.

Read it the way you read AlgoPerf's `spec.py`: a workload says *what* must be reached
(`Target`) within *what* (`Budget`), checked *how often* (`EvalPolicy`); a `RunConfig`
is what `optbench run` was asked for; a `TrialSpec` is what one trial *is* (a submission,
a workload, hyperparameters, a seed) and a `TrialRuntime` how it is run; a
`TrialResult` (with its eval rows, a `TrialOutcome`) is what came of it, ending in a
`TrialStatus`; a `Context` is what a submission may know while it trains. The
Protocols say what a submission form, a dataset and an executor must provide.
Specs are frozen: nothing changes a spec in place.

Why one file of 500 lines, not several: it is the one place a reader learns every contract
(docs/design.md §8), as AlgoPerf's ``spec.py`` is; the classes are small, refer to each other
(a ``TrialSpec`` holds a ``WorkloadSpec`` and a ``RunConfig``'s choices), and have no logic
to split by. What grows with logic (reading, checking, planning) lives in the modules that
use the contracts, not here.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any, Callable, ClassVar, Iterable, Iterator, Literal, Mapping, Protocol

Mode = Literal["min", "max"]


class Clock(str, Enum):
    """What a budget is counted in, and what scores compare (chosen per run, recorded in experiment.json).

    ``wall``: AlgoPerf's submission time, wall seconds inside the timed blocks: the right
    clock on a dedicated GPU. ``cpu``: the same blocks timed by the trial process's CPU time
    (``time.process_time``): an expensive step still costs, other processes' load does not
    stretch it; the default on a CPU. ``steps``: the budget is a number of steps and scores
    use steps-to-target: bit-for-bit reproducible, for CI.
    """

    WALL = "wall"
    CPU = "cpu"
    STEPS = "steps"

    def __str__(self) -> str:
        return self.value


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
    """How long a trial may run, in each clock.

    ``seconds`` is submission time (docs/design.md §4) on the ``wall`` or ``cpu`` clock;
    ``steps`` is the budget on the ``steps`` clock (None: ``step_hint``). ``step_hint`` is
    AlgoPerf's hint of how many steps a good submission needs; schedules such as cosine
    decay use it. ``max_steps`` is an optional hard cap on every clock (None: no cap).
    """

    seconds: float
    step_hint: int
    max_steps: int | None = None
    steps: int | None = None

    @property
    def step_budget(self) -> int:
        return self.steps if self.steps is not None else self.step_hint


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
    """A workload as its YAML describes it (docs/design.md §2), after validation."""

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
    #: the declared scale ladder (YAML ``scales``): {"axis", "values", "set", "targets"}; not hashed (the
    #: workload itself runs at its own size; ``optbench run --scales`` expands it, workloads/scales.py)
    ladder: dict[str, Any] | None = None
    #: on a workload expanded from a ladder: {"of": base name, "axis", "value"} (hashed)
    scale: dict[str, Any] | None = None

    def resolved(self) -> dict[str, Any]:
        """Everything that changes results, as plain data (what the hash covers)."""
        data = asdict(self)
        for key in ("path", "suite", "description", "notes", "ladder"):
            data.pop(key)
        if data["budget"]["steps"] is None:  # hashes of workloads without a steps budget stay what they were
            del data["budget"]["steps"]
        if data["scale"] is None:  # nor do hashes of workloads that are no rung of a ladder
            del data["scale"]
        return data

    @property
    def hash(self) -> str:
        return stable_hash(self.resolved())


@dataclass(frozen=True)
class SuiteSpec:
    """A named list of workloads (``suites.yaml``, or a folder of workload YAML), and the clock its
    budgets were calibrated on (None: the device decides)."""

    name: str
    workloads: tuple[str, ...]
    clock: Clock | None = None


@dataclass(frozen=True)
class Hyperparameter:
    """One entry of a search space (docs/design.md §3).

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


Ruleset = Literal["external", "self"]


class TrialStatus(str, Enum):
    """How a finished trial ended. Only ``REACHED`` has a finite time-to-target.

    Values are the strings written to trial.json; ``str(status)`` is the value.
    """

    REACHED = "reached"  #: an eval within budget met the target
    BUDGET_EXHAUSTED = "budget_exhausted"  #: ran out of budget (or steps) before the target
    DIVERGED = "diverged"  #: the training loss became NaN/inf
    FAILED = "failed"  #: the submission or the workload raised, or the worker died
    TIMEOUT = "timeout"  #: the per-trial wall-clock limit killed it (a hang)

    def __str__(self) -> str:
        return self.value


#: Statuses that are an error rather than an outcome of training.
ERROR_STATUSES = frozenset({TrialStatus.FAILED, TrialStatus.TIMEOUT})


@dataclass(frozen=True)
class SubmissionRef:
    """What a plan needs of a submission: no code is imported to plan."""

    name: str
    path: str  #: the folder holding submission.py or submission.yaml
    code_hash: str


@dataclass(frozen=True)
class TrialSpec:
    """What one trial *is*: everything its numbers depend on, and its place in the results.

    Picklable plain data, never changed once planned (make another with
    ``dataclasses.replace``). How the trial is run (threads, which GPU, checkpoints,
    the hang limit) is a :class:`TrialRuntime`, chosen by the executor.
    ``folder`` is relative to the experiment root:
    ``<submission>/study_<j>/<workload>/trial_<i>`` (docs/design.md §5).
    """

    workload: WorkloadSpec
    submission: str  #: name
    submission_path: str  #: folder holding submission.py or submission.yaml
    hparams: Mapping[str, Any]  #: the tuned (or ``--hparams``) values; the submission's defaults fill the rest
    seed: int
    study: int = 0
    trial: int = 0
    ruleset: Ruleset = "external"
    budget_multiplier: float = 1.0  #: self-tuning multiplies the budget (v0.5: 3, v0.6: 1.5)
    device: str = "cpu"  #: as the run asked (``cpu``, ``cuda``, ``cuda:0,cuda:1``); where it ran is the runtime's
    stop_at_target: bool = True
    submission_hash: str = ""
    data_dir: str | None = None  #: where workloads that read real data find it
    compile: bool = False  #: torch.compile the model; its compile/warm-up time is ``compile_time``, not submission time
    amp: str | None = None  #: "bf16": autocast the training forward and loss to bfloat16 (evals stay float32)
    tf32: bool = False  #: CUDA: TF32 matmuls and convolutions
    cudnn_benchmark: bool = False  #: CUDA: cuDNN autotunes its kernels (faster, not bit-reproducible)
    nproc_per_trial: int = 1  #: >1: one data-parallel trial on that many processes (executors/ddp.py)
    clock: Clock = Clock.WALL  #: what the budget is counted in
    save_weights: bool = False  #: keep the initial and final weights in the trial folder (optbench landscape)

    def __post_init__(self) -> None:
        object.__setattr__(self, "clock", Clock(self.clock))

    @property
    def folder(self) -> str:
        return f"{self.submission}/study_{self.study}/{self.workload.name}/trial_{self.trial}"

    @property
    def budget_seconds(self) -> float:
        """The budget on the wall or cpu clock (also what the hang limit is sized from)."""
        return self.workload.budget.seconds * self.budget_multiplier

    @property
    def budget_steps(self) -> int:
        """The budget on the steps clock."""
        return int(round(self.workload.budget.step_budget * self.budget_multiplier))


@dataclass(frozen=True)
class TrialRuntime:
    """How one trial is run: chosen by the executor, never part of the results' identity.

    ``device`` is where the trial runs as recorded (``cuda:1`` for the second GPU of
    ``--device cuda:0,cuda:1``; None: the spec's device). When ``env`` restricts
    ``CUDA_VISIBLE_DEVICES`` the process itself sees that GPU as ``cuda``.
    """

    device: str | None = None
    num_threads: int | None = None  #: torch intra-op threads (None: torch's default)
    wall_clock_limit: float | None = None  #: seconds of wall time before the trial counts as hung
    checkpoint_dir: str | None = None  #: when set, save a checkpoint at every eval and resume from it
    env: Mapping[str, str] = field(default_factory=dict)  #: environment of the trial's process

    def placement(self, spec: TrialSpec) -> str:
        """The device to record: where this trial ran."""
        return self.device or spec.device

    def torch_device(self, spec: TrialSpec) -> str:
        """The device name inside the trial's process."""
        if self.env.get("CUDA_VISIBLE_DEVICES") is not None:
            return "cuda"
        return self.device or spec.device


@dataclass
class TrialResult:
    """What came of a trial; written as ``trial.json`` (with the spec's identity).

    The one mutable record here: the trial loop fills it in as the trial goes.
    """

    status: TrialStatus
    steps_to_target: int | None = None
    time_to_target: float | None = None  #: submission seconds at the eval that hit the target, on the run's clock
    wall_time_to_target: float | None = None  #: the same eval's wall seconds of submission time
    cpu_time_to_target: float | None = None  #: the same eval's CPU seconds of submission time
    steps: int = 0  #: steps taken in all
    submission_time: float = 0.0  #: seconds on the run's clock (wall on the steps clock)
    submission_wall_time: float = 0.0  #: the same blocks in wall seconds
    submission_cpu_time: float = 0.0  #: the same blocks in the trial process's CPU seconds
    eval_time: float = 0.0
    init_time: float = 0.0
    total_time: float = 0.0  #: wall time of the trial, init included
    best_metric: float | None = None  #: best value of the target metric seen at an eval within budget
    num_evals: int = 0
    preemption_count: int = 0
    compile_time: float = 0.0  #: torch.compile + warm-up step before the clock starts (part of init_time)
    #: training-loss passes the submission made through the loss function it was given (one per step
    #: for most optimizers, two for SAM, several for L-BFGS); all of them inside the submission clock
    loss_evaluations: int = 0
    num_params: int | None = None  #: the model's parameter count (the x axis of `optbench scaling`)
    error: str | None = None  #: a one-line reason; the traceback goes to ``traceback``
    traceback: str | None = None

    def __post_init__(self) -> None:
        self.status = TrialStatus(self.status)

    @property
    def reached(self) -> bool:
        return self.status == TrialStatus.REACHED


@dataclass
class TrialOutcome:
    """A trial's result and its eval rows (one dict per eval: the columns of evals.csv)."""

    result: TrialResult
    evals: list[dict[str, Any]] = field(default_factory=list)
    weights: dict[str, bytes] = field(default_factory=dict)  #: --save-weights: "init"/"final" -> torch.save bytes


@dataclass
class FinishedTrial:
    """A trial as an executor hands it back to the experiment."""

    spec: TrialSpec
    result: TrialResult
    evals: list[dict[str, Any]]
    crashed: bool = False  #: the worker process died (killed, out of memory, segfault)
    interrupted: bool = False  #: stopped by Ctrl-C: not a result, nothing is recorded
    attempts: int = 1
    runtime: TrialRuntime | None = None  #: how it ran (the device it ran on is recorded)
    weights: dict[str, bytes] = field(default_factory=dict)  #: --save-weights: written beside trial.json


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
    ruleset: Ruleset = "external"  #: "self": the trial has no tuned hyperparameters (AlgoPerf passes None)
    #: eval rows so far, oldest first (the trial appends to this list; read it, never change it)
    evals: list[dict[str, Any]] = field(default_factory=list)
    #: the runnable workload (optbench.workloads.runtime.Workload) and the trial's training batch
    #: iterator: forms that present the workload another way (AlgoPerf's) build on them
    runtime: Any = None
    train_batches: Any = None
    #: every parameter's role (embedding, head, matrix, vector, conv), by its name in
    #: ``model.named_parameters()`` (optbench.workloads.roles: the model's hook, else by shape)
    parameter_roles: dict[str, str] = field(default_factory=dict)
    #: the model's parameters grouped by role (every role a key): what a simple-form submission
    #: builds its parameter groups from, e.g. ``ctx.params_by_role["matrix"]`` for Muon
    params_by_role: dict[str, list[Any]] = field(default_factory=dict)


class TrainingComplete(Exception):
    """A form's ``update`` may raise this to end training now (AlgoPerf's ``TrainingCompleteError``
    derives from it): the step counts, the trial gets its final eval and stops."""


# ------------------------------------------------------------------------------ a run's configuration


@dataclass(frozen=True)
class RunConfig:
    """Everything ``optbench run`` was asked for: stored as ``config`` in experiment.json and read
    back by ``--resume``. The first group decides the plan (what is measured); the second only
    how it runs, and may change on ``--resume``."""

    # -- the plan ---------------------------------------------------------------------------------
    workloads: tuple[str, ...]  #: workload names, in plan order
    submissions: tuple[str, ...]  #: submission names, in plan order
    suite: str | None = None  #: the suite named on the command line, if any
    ruleset: Ruleset = "self"  #: external: search points per study; self: the submission's defaults
    preset: str | None = None  #: algoperf-v06 / algoperf-v05 when one decided studies, trials, multiplier
    studies: int = 1  #: independent repetitions (seeds, search points)
    trials: int = 1  #: search points per study (self-tuning and --hparams: 1)
    budget_multiplier: float = 1.0  #: the self-tuning budget multiplier (1 under external tuning)
    hparams: Mapping[str, Any] | None = None  #: --hparams: fixed values for every trial
    seed: int = 0  #: base seed; trial seeds derive from it, the workload, the study and the trial
    same_points_per_study: bool = False  #: AlgoPerf's harness: the same search points in every study
    stop_at_target: bool = True  #: False (--keep-going): run each trial's whole budget
    device: str = "cpu"  #: cpu, cuda, cuda:1, mps; cuda:0,cuda:1 places trials on both
    data_dir: str | None = None  #: where real-data workloads read their data
    compile: bool = False  #: --compile
    amp: str | None = None  #: --amp bf16
    tf32: bool = False  #: --tf32
    cudnn_benchmark: bool = False  #: --cudnn-benchmark
    nproc_per_trial: int = 1  #: processes per data-parallel trial
    clock: Clock = Clock.WALL  #: what budgets are counted in (the suite's, else cpu on a CPU, wall on a GPU)
    save_weights: bool = False  #: --save-weights: each trial keeps its initial and final weights
    # -- how it runs ------------------------------------------------------------------------------
    workers: int | None = 1  #: trials at once (None: as many as a Ray cluster holds)
    threads: int | None = None  #: torch threads per worker (None: cores / workers)
    checkpoint: bool = False  #: save a checkpoint at each eval
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None  #: --executor ray: a running cluster (None: start one here)
    cpus_per_trial: float = 1.0  #: --executor ray
    gpus_per_trial: float = 0.0  #: --executor ray

    #: Fields that may change on ``--resume``: how the plan runs, not what it is.
    EXECUTION_FIELDS: ClassVar[tuple[str, ...]] = ("workers", "threads", "checkpoint", "executor", "ray_address",
                                                   "cpus_per_trial", "gpus_per_trial")

    def __post_init__(self) -> None:
        object.__setattr__(self, "clock", Clock(self.clock))

    def to_record(self) -> dict[str, Any]:
        """As written to experiment.json (lists for tuples, the clock's name)."""
        record = asdict(self)
        record["workloads"], record["submissions"] = list(self.workloads), list(self.submissions)
        record["clock"] = str(self.clock)
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> RunConfig:
        """Read experiment.json's ``config`` back; keys it lacks (older records) take their defaults."""
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in record.items() if k in names}
        for key in ("workloads", "submissions"):
            values[key] = tuple(values.get(key) or ())
        return cls(**values)


# ------------------------------------------------------------------------------------ protocols


class SubmissionForm(Protocol):
    """The one calling convention the trial loop uses, whatever form a submission is written in
    (simple ``make_optimizer``, full ``init_optimizer_state``/``update_params``, YAML, or an
    AlgoPerf ``submission.py`` unchanged)."""

    def init(self, model: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        """Build the optimizer state (untimed, like AlgoPerf's init)."""

    def update(self, model: Any, batch: Any, loss_fn: Callable[[Any, Any], Any], state: Any,
               hparams: dict[str, Any], ctx: Context) -> Any:
        """One training step on ``batch`` (timed); returns the new state, or raises
        :class:`TrainingComplete` to end training after this step."""

    def prepare_for_eval(self, model: Any, state: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        """Get the model ready to be evaluated (timed); returns the new state."""

    def batch_size(self, workload_name: str) -> int | None:
        """The submission's own batch size for a workload, or None for the workload's."""


class Dataset(Protocol):
    """What a dataset factory returns (``optbench.workloads.data.TensorData`` is the in-memory one)."""

    info: dict[str, Any]  #: what the model factory needs: input_dim, num_classes, ...
    metadata: dict[str, Any]  #: facts about the problem: f_star, L, mu, ...

    @property
    def splits(self) -> tuple[str, ...]:
        """Eval splits: "train", "validation", optionally "test"."""

    def to(self, device: Any) -> Dataset:
        """The data on ``device`` (a torch device)."""

    def train_batches(self, batch_size: int, generator: Any) -> Iterator[Any]:
        """Endless training batches ``(inputs, targets)``, drawn with the seeded torch generator."""

    def eval_batches(self, split: str, batch_size: int) -> Iterator[Any]:
        """The split's batches, in a fixed order."""


OnEval = Callable[[TrialSpec, dict[str, Any]], None]
OnFinished = Callable[[FinishedTrial], None]


class Executor(Protocol):
    """Where trials run (``executors/local.py``: worker processes; ``executors/ray.py``: Ray tasks)."""

    workers: int  #: trials at once
    threads: int  #: torch threads per trial

    def start(self) -> None:
        """Get ready (start worker pools) while the caller writes experiment.json."""

    def run(self, specs: Iterable[TrialSpec], on_finished: OnFinished, on_eval: OnEval | None = None,
            on_start: Callable[[TrialSpec], None] | None = None,
            on_retry: Callable[[FinishedTrial], None] | None = None,
            checkpoint_root: str | None = None) -> None:
        """Run every spec; hand each finished trial to ``on_finished`` in this thread. With
        ``checkpoint_root`` a trial checkpoints into ``checkpoint_root/<its folder>``.
        KeyboardInterrupt propagates after everything finished was handed over."""


def stable_hash(data: Any) -> str:
    """A short hash of plain data that does not depend on dict order or Python's hash seed."""
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
