"""The ``algoperf`` form: an AlgoPerf PyTorch ``submission.py``, unchanged, called as AlgoPerf's runner calls it.

Which files are of this form is told without running them (:mod:`.algoperf_files`).

**Loading** (:meth:`AlgoPerfForm.load`, in the worker): ``algoperf`` and
``algorithmic_efficiency`` (and the companion YAML's aliases) become importable
(:mod:`.import_aliases`), the submission's folder goes on ``sys.path`` (Shampoo's
``optimizers/`` package sits beside its file) and ``submission.py`` is imported as a module of
a package made of that folder, so relative imports work too. All of it is undone when the
form object goes away.

**Calling**, per the trial loop's protocol (init / update / prepare_for_eval / batch_size):

* ``init``: ``init_optimizer_state(workload, model_params, model_state, hyperparameters, rng)``
  with the :class:`~optbench.submissions.algoperf_workload.WorkloadAdapter`, the trial's model, model
  state ``None`` and the hyperparameters as a namedtuple ``Hyperparameters`` of the trial's
  point (its keys only, so ``hasattr`` tells what the search space has), or ``None`` when the
  trial has none (the self-tuning ruleset);
* ``update`` (one step, inside the submission clock with the batch fetch):
  ``data_selection(workload, input_queue, optimizer_state, current_param_container,
  model_state, hyperparameters, global_step, rng)``, whose ``input_queue`` yields the batch
  the loop drew and then further batches of the trial's own stream, then
  ``update_params(workload=…, current_param_container=…, current_params_types=…,
  model_state=…, hyperparameters=…, batch=…, loss_type=…, optimizer_state=…,
  eval_results=…, global_step=…, rng=…)`` by keyword, with ``train_state`` (read-only) when
  its signature asks for it; it returns ``(optimizer_state, params, model_state)``.
  ``spec.TrainingCompleteError`` ends the trial after a final eval;
* ``prepare_for_eval`` (timed), when the file has it, with AlgoPerf's arguments;
* ``batch_size``: ``get_batch_size(workload_name)``; AlgoPerf's submissions raise
  ``ValueError`` for a workload they do not know, and then the workload's batch size is used.

``rng`` is a fresh key every step in AlgoPerf's PyTorch form (an int32 pair), split four
ways as AlgoPerf does (data selection, update, prepare-for-eval, eval), derived from the
trial's seed and the step by a fast integer hash: deterministic per trial, not AlgoPerf's
numbers (AlgoPerf seeds from hardware randomness unless told otherwise).
"""

from __future__ import annotations

import collections
import functools
import inspect
import keyword
import sys
import time
import traceback
import weakref
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Any

from optbench.errors import OptbenchError
from optbench.spec import Context
from optbench.submissions.base import LoadedSubmission
from optbench.submissions.folder import SubmissionFolder

# ------------------------------------------------------------------------------ rng and hyperparameters

_M64 = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


@functools.lru_cache(maxsize=16)
def _seed_hash(seed: int) -> int:
    return _mix(seed & _M64)


def step_key(seed: int, step: int, role: int) -> Any:
    """The key of ``role`` (0 data selection, 1 update, 2 prepare-for-eval, 3 eval) at ``step``:
    an int32 pair in [0, 2³¹), one hash per key (a few microseconds: it is paid every step)."""
    import numpy as np

    value = _mix((_seed_hash(seed) + 4 * step + role) & _M64)
    return np.array([value & 0x7FFFFFFF, (value >> 32) & 0x7FFFFFFF], dtype=np.int32)


def step_keys(seed: int, step: int) -> list[Any]:
    """The four keys of ``step`` (AlgoPerf splits each step's key four ways)."""
    return [step_key(seed, step, role) for role in range(4)]


def to_hyperparameters(hparams: dict[str, Any], ruleset: str, source: Path) -> Any:
    """A namedtuple ``Hyperparameters`` of the point, or None for a self-tuning trial without any."""
    if ruleset == "self" and not hparams:
        return None
    bad = [k for k in hparams if not k.isidentifier() or keyword.iskeyword(k) or k.startswith("_")]
    if bad:
        raise OptbenchError(f"{source}: hyperparameter name(s) {bad} cannot be namedtuple fields, so an AlgoPerf "
                            "submission cannot read them; rename them in the search space")
    return collections.namedtuple("Hyperparameters", list(hparams))(**hparams)


# ------------------------------------------------------------------------------ the form


class _InputQueue:
    """``data_selection``'s input queue: the batch the trial loop drew, then the trial's stream, as dicts."""

    def __init__(self, to_batch: Any, stream: Any):
        self.to_batch, self.stream, self.first = to_batch, stream, None

    def __iter__(self) -> _InputQueue:
        return self

    def __next__(self) -> dict[str, Any]:
        if self.first is not None:
            batch, self.first = self.first, None
            return self.to_batch(batch)
        if self.stream is None:
            raise StopIteration
        return self.to_batch(next(self.stream))


def _default_data_selection(workload: Any, input_queue: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    return next(input_queue)


def _unload(finder: Any, folder: str, package: str) -> None:
    from optbench.submissions import import_aliases

    import_aliases.uninstall(finder)
    if folder in sys.path:
        sys.path.remove(folder)
    for name, module in list(sys.modules.items()):  # the submission and the helpers it imported from its folder
        if name == package or name.startswith(package + ".") or _lives_in(module, folder):
            sys.modules.pop(name, None)


def _lives_in(module: ModuleType, folder: str) -> bool:
    """Whether a module was imported from a file (or, a namespace package, a folder) under ``folder``."""
    where = getattr(module, "__file__", None)
    if where is None:
        path = getattr(module, "__path__", None)  # torch's pseudo-modules have odd __path__ objects
        where = next(iter(path), None) if isinstance(path, (list, tuple)) or type(path).__name__ == "_NamespacePath" \
            else None
    return isinstance(where, str) and where.startswith(folder + "/")


class AlgoPerfForm(LoadedSubmission):
    """One AlgoPerf ``submission.py``, behind the trial loop's init/update/prepare_for_eval/batch_size."""

    form_name = "algoperf"
    describes = ("AlgoPerf's init_optimizer_state(workload, model_params, model_state, hyperparameters, rng) + "
                 "update_params(workload, current_param_container, ...)")

    def __init__(self, folder: SubmissionFolder, module: ModuleType | None = None):
        super().__init__(folder, module)
        self.workload: Any = None
        self.hyperparameters: Any = None
        self._queue: _InputQueue | None = None
        self._train_state: dict[str, Any] = {}

    @property
    def source(self) -> Path:
        return self.folder.source

    # -- loading ----------------------------------------------------------------------------------
    @classmethod
    def load(cls, folder: SubmissionFolder) -> AlgoPerfForm:
        """Make ``algoperf`` (and the folder's aliases) importable, then import ``submission.py``."""
        from optbench.submissions import import_aliases

        form = cls(folder)
        where = str(folder.path.resolve())
        package = f"optbench_algoperf_{folder.code_hash}_{id(form):x}"
        aliases = folder.config.get("aliases") or {}
        own = {name: package if target == import_aliases.FOLDER else target for name, target in aliases.items()}
        finder = import_aliases.install({**import_aliases.ALGOPERF_ALIASES, **own})
        sys.path.insert(0, where)
        weakref.finalize(form, _unload, finder, where, package)
        holder = ModuleType(package, "the folder of an AlgoPerf submission, as a package")
        holder.__path__ = [where]
        sys.modules[package] = holder
        form.module = form._import(f"{package}.submission")
        missing = [f for f in ("init_optimizer_state", "update_params") if not callable(getattr(form.module, f, None))]
        if missing:
            raise OptbenchError(f"{form.source}: an AlgoPerf submission must define {' and '.join(missing)}")
        form._update_params = form.module.update_params
        form._data_selection = getattr(form.module, "data_selection", None) or _default_data_selection
        form._prepare = getattr(form.module, "prepare_for_eval", None)
        form._wants_train_state = "train_state" in inspect.signature(form._update_params).parameters
        return form

    @property
    def defaults(self) -> dict[str, Any]:
        return {}  # AlgoPerf: a self-tuning file keeps its own settings; the trial passes None

    def _import(self, name: str) -> ModuleType:
        import importlib.util

        spec = importlib.util.spec_from_file_location(name, self.source)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:
            raise OptbenchError(f"{self.source}:{exc.lineno}: syntax error: {exc.msg}") from None
        except Exception as exc:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(self.source)]
            where = f"{self.source}:{frames[-1].lineno}" if frames else str(self.source)
            hint = ""
            if isinstance(exc, ModuleNotFoundError) and exc.name and exc.name.split(".")[0] == "absl":
                hint = "; pip install 'optbench[algoperf]'"
            elif isinstance(exc, ModuleNotFoundError):
                hint = ("; install it, or map the name in an aliases: entry of a submission.yaml beside the "
                        "file (docs/algoperf.md)")
            raise OptbenchError(f"{where}: failed to import: {type(exc).__name__}: {exc}{hint}") from None
        return module

    # -- the protocol ------------------------------------------------------------------------------
    def batch_size(self, workload_name: str) -> int | None:
        fn = getattr(self.module, "get_batch_size", None)
        if fn is None:
            return None
        try:
            size = fn(workload_name)
        except (ValueError, KeyError, NotImplementedError):  # an AlgoPerf workload list: not ours
            return None
        return None if size is None else int(size)

    def init(self, model: Any, hparams: dict[str, Any], ctx: Context) -> dict[str, Any]:
        from optbench.submissions.algoperf_workload import WorkloadAdapter

        if ctx.runtime is None:
            raise OptbenchError(f"{self.source}: an AlgoPerf submission needs the trial's workload (ctx.runtime)")
        self.hyperparameters = to_hyperparameters(hparams, ctx.ruleset, self.source)
        self.workload = WorkloadAdapter(ctx.runtime, model)
        self._queue = _InputQueue(self.workload.to_batch, None)
        self._seed = ctx.seed
        try:
            optimizer_state = self.module.init_optimizer_state(self.workload, model, None, self.hyperparameters,
                                                               step_key(ctx.seed, -1, 0))
        except AttributeError as exc:
            if self.hyperparameters is None and "'NoneType'" in str(exc):
                raise OptbenchError(f"{self.source}: reads hyperparameters, but a self-tuning trial has none "
                                    f"({exc}); run it with --ruleset external (its tuning_search_space.json)") from None
            raise
        return {"optimizer_state": optimizer_state, "model_state": None}

    def update(self, model: Any, batch: Any, loss_fn: Any, state: dict[str, Any], hparams: dict[str, Any],
               ctx: Context) -> dict[str, Any]:
        step, workload = ctx.step, self.workload
        select_key, update_key = step_key(self._seed, step, 0), step_key(self._seed, step, 1)
        if len(ctx.evals) != len(workload.eval_results):
            self._note_evals(ctx)
        workload.recorder = loss_fn
        queue = self._queue
        queue.first, queue.stream = batch, ctx.train_batches
        chosen = self._data_selection(workload, queue, state["optimizer_state"], model, state["model_state"],
                                      self.hyperparameters, step, select_key)
        extra = {"train_state": self._train_state_for(ctx)} if self._wants_train_state else {}
        returned = self._update_params(
            workload=workload, current_param_container=model, current_params_types=workload.model_params_types,
            model_state=state["model_state"], hyperparameters=self.hyperparameters, batch=chosen,
            loss_type=workload.loss_type, optimizer_state=state["optimizer_state"],
            eval_results=workload.eval_results, global_step=step, rng=update_key, **extra)
        state["optimizer_state"], state["model_state"] = self._unpack(returned, model, "update_params")
        return state

    def prepare_for_eval(self, model: Any, state: dict[str, Any], hparams: dict[str, Any],
                         ctx: Context) -> dict[str, Any]:
        if self._prepare is None:
            return state
        workload = self.workload
        if len(ctx.evals) != len(workload.eval_results):
            self._note_evals(ctx)
        returned = self._prepare(
            workload=workload, current_param_container=model, current_params_types=workload.model_params_types,
            model_state=state["model_state"], hyperparameters=self.hyperparameters, loss_type=workload.loss_type,
            optimizer_state=state["optimizer_state"], eval_results=workload.eval_results, global_step=ctx.step,
            rng=step_key(self._seed, ctx.step, 2))
        state["optimizer_state"], state["model_state"] = self._unpack(returned, model, "prepare_for_eval")
        return state

    # -- helpers -----------------------------------------------------------------------------------
    def _unpack(self, returned: Any, model: Any, fn: str) -> tuple[Any, Any]:
        if not isinstance(returned, (tuple, list)) or len(returned) != 3:
            raise OptbenchError(f"{self.source}: {fn} returned {type(returned).__name__}, not "
                                "(optimizer_state, params, model_state)")
        optimizer_state, params, model_state = returned
        if params is not model and params is not getattr(model, "module", None):
            raise OptbenchError(f"{self.source}: {fn} returned another parameter container than the model it was "
                                "given; optbench trains and evaluates that model, so update it in place")
        return optimizer_state, model_state

    def _note_evals(self, ctx: Context) -> None:
        """Bring ``eval_results`` (AlgoPerf's (step, result) list) and the train-state fields up to date."""
        results, target = self.workload.eval_results, ctx.runtime.spec.target
        state = self._train_state
        for row in ctx.evals[len(results):]:
            metrics = {k: v for k, v in row.items() if "/" in k}  # <split>/<metric>; the clocks follow
            metrics.update(score=row["submission_time"], total_duration=row["total_time"],
                           accumulated_submission_time=row["submission_time"],
                           accumulated_eval_time=row["eval_time"], accumulated_logging_time=0.0)
            results.append((row["step"], metrics))
            if target.is_hit(row.get(target.metric)):
                state["validation_goal_reached"] = state["test_goal_reached"] = True
        state["accumulated_eval_time"] = ctx.evals[-1]["eval_time"] if ctx.evals else 0.0
        state["last_eval_time"] = time.time()  # the eval just ended: the loop's next act is this call

    def _train_state_for(self, ctx: Context) -> MappingProxyType:
        """AlgoPerf's ``train_state`` (read-only); times are seconds of optbench's clocks, stamps ``time.time()``."""
        state = self._train_state
        state.setdefault("validation_goal_reached", False)
        state.setdefault("test_goal_reached", False)
        state.setdefault("last_eval_time", 0.0)
        state.setdefault("accumulated_eval_time", 0.0)
        state.update(is_time_remaining=ctx.submission_time < ctx.budget_seconds, training_complete=False,
                     accumulated_submission_time=ctx.submission_time, accumulated_logging_time=0.0,
                     last_step_end_time=time.time())
        return MappingProxyType(state)
