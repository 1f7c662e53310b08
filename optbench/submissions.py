"""Submissions (DESIGN.md §3): finding a folder, checking its API, and one calling convention.

A submission folder holds one of

* ``submission.py`` in the **simple form**: ``make_optimizer(params, hparams, ctx)``
  returning a ``torch.optim.Optimizer`` or ``(optimizer, scheduler)`` (the scheduler is
  stepped once per step);
* ``submission.py`` in the **full form** (AlgoPerf-style): ``init_optimizer_state``,
  ``update_params`` and optionally ``prepare_for_eval`` and ``get_batch_size``;
* ``submission.yaml`` naming any optimizer class by dotted path (YAML-only form).

plus ``search_space.yaml`` (or AlgoPerf's ``tuning_search_space.json``). Defaults for
self-tuning runs come from ``DEFAULT_HPARAMS`` in submission.py, or ``defaults:`` in
submission.yaml. :class:`Submission` hides the three forms behind ``init``/``update``/
``prepare_for_eval`` so the trial loop has one code path.

Checking a folder (:func:`find_submission`) needs no torch; loading the code
(:meth:`Submission.load`) happens in the worker process that runs the trial.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import math
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import yaml

from optbench.errors import OptbenchError
from optbench.spec import Context

BUILTIN_SUBMISSIONS_DIR = Path(__file__).resolve().parents[1] / "submissions"
SEARCH_SPACE_FILES = ("search_space.yaml", "search_space.yml", "tuning_search_space.json")
#: hparams the adapter itself understands (schedule), never passed to an optimizer constructor
SCHEDULE_KEYS = {"warmup_fraction", "warmup_factor", "schedule", "decay_steps_factor", "end_lr_factor"}
#: common names that map onto torch.optim constructor arguments
_RENAMES = {"learning_rate": "lr", "epsilon": "eps"}


def submission_dirs(extra: list[Path] | None = None) -> list[Path]:
    dirs = [Path(d) for d in (extra or [])]
    for d in dirs:
        if not d.is_dir():
            raise OptbenchError(f"--submissions-dir {d}: not a folder")
    return [*dirs, BUILTIN_SUBMISSIONS_DIR]


def discover(extra: list[Path] | None = None) -> dict[str, Path]:
    """Submission name (folder name) → folder; earlier folders shadow later ones."""
    found: dict[str, Path] = {}
    for base in reversed(submission_dirs(extra)):
        if base.is_dir():
            for folder in sorted(p for p in base.iterdir() if p.is_dir()):
                if (folder / "submission.py").is_file() or (folder / "submission.yaml").is_file():
                    found[folder.name] = folder
    return found


def code_hash(folder: Path) -> str:
    """A hash of every source/config file in the folder, so a changed submission is noticed."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and path.suffix in (".py", ".yaml", ".yml", ".json") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class Submission:
    name: str
    path: Path
    form: str  #: "simple", "full" or "yaml"
    code_hash: str
    search_space_path: Path | None
    config: dict[str, Any] = field(default_factory=dict)  #: submission.yaml content (yaml form)
    module: ModuleType | None = None

    # -- what can be known without running the code -------------------------------------------
    @property
    def source(self) -> Path:
        return self.path / ("submission.yaml" if self.form == "yaml" else "submission.py")

    @property
    def defaults(self) -> dict[str, Any]:
        if self.form == "yaml":
            return dict(self.config.get("defaults") or {})
        return dict(getattr(self.module, "DEFAULT_HPARAMS", None) or {})

    def resolve_hparams(self, hparams: dict[str, Any] | None) -> dict[str, Any]:
        """The submission's defaults, overridden by the given (tuned or ``--hparams``) values."""
        return {**self.defaults, **(hparams or {})}

    def batch_size(self, workload_name: str) -> int | None:
        fn = getattr(self.module, "get_batch_size", None)
        return int(fn(workload_name)) if fn else None

    # -- the one calling convention the trial loop uses ---------------------------------------
    def init(self, model: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        if self.form == "full":
            return self.module.init_optimizer_state(model, hparams, ctx)
        if self.form == "simple":
            made = self.module.make_optimizer(list(model.parameters()), hparams, ctx)
        else:
            made = _yaml_optimizer(self, model, hparams, ctx)
        optimizer, scheduler = made if isinstance(made, tuple) else (made, None)
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "zero_grad"):
            raise OptbenchError(f"{self.source}: make_optimizer returned {type(optimizer).__name__}, not an optimizer")
        return {"optimizer": optimizer, "scheduler": scheduler, "eval_mode": False}

    def update(self, model: Any, batch: Any, loss_fn: Callable, state: Any, hparams: dict[str, Any],
               ctx: Context) -> Any:
        if self.form == "full":
            return self.module.update_params(model, batch, loss_fn, state, hparams, ctx)
        optimizer = state["optimizer"]
        if state["eval_mode"]:  # schedule-free style optimizers switch back to training weights
            optimizer.train()
            state["eval_mode"] = False
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model, batch).backward()
        optimizer.step()
        if state["scheduler"] is not None:
            state["scheduler"].step()
        return state

    def prepare_for_eval(self, model: Any, state: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        if self.form == "full":
            fn = getattr(self.module, "prepare_for_eval", None)
            return fn(model, state, hparams, ctx) if fn else state
        optimizer = state["optimizer"]
        if hasattr(optimizer, "eval") and callable(optimizer.eval) and not state["eval_mode"]:
            optimizer.eval()
            state["eval_mode"] = True
        return state

    def load(self) -> Submission:
        """Import submission.py (or the YAML's optimizer class) and check its API."""
        if self.form == "yaml":
            _resolve_optimizer_class(self)
            return self
        self.module = _import_file(self.source, f"optbench_submission_{self.name}_{self.code_hash}")
        has_simple = callable(getattr(self.module, "make_optimizer", None))
        has_full = all(callable(getattr(self.module, f, None)) for f in ("init_optimizer_state", "update_params"))
        if not (has_simple or has_full):
            raise OptbenchError(
                f"{self.source}: defines neither make_optimizer(params, hparams, ctx) nor "
                "init_optimizer_state(model, hparams, ctx) + update_params(model, batch, loss_fn, state, hparams, ctx)"
            )
        self.form = "full" if has_full else "simple"
        defaults = getattr(self.module, "DEFAULT_HPARAMS", None)
        if defaults is not None and not isinstance(defaults, dict):
            raise OptbenchError(f"{self.source}: DEFAULT_HPARAMS must be a dict, got {type(defaults).__name__}")
        return self


def _import_file(path: Path, module_name: str) -> ModuleType:
    """Import a submission file; its own folder is importable too (helpers beside it)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise OptbenchError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
        where = f"{path}:{frames[-1].lineno}" if frames else str(path)
        raise OptbenchError(f"{where}: failed to import: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.remove(str(path.parent))
    sys.modules[module_name] = module
    return module


def _resolve_optimizer_class(sub: Submission) -> type:
    from optbench.workloads.registry import resolve_dotted

    name = sub.config.get("optimizer")
    if not isinstance(name, str):
        raise OptbenchError(f"{sub.source}: optimizer: expected a dotted path such as torch.optim.AdamW")
    cls = resolve_dotted(name, what=f"optimizer in {sub.source}")
    if not inspect.isclass(cls):
        raise OptbenchError(f"{sub.source}: optimizer: {name} is not a class")
    return cls


def optimizer_kwargs(cls: type, hparams: dict[str, Any], source: Path) -> dict[str, Any]:
    """Map hparams onto a constructor: learning_rate→lr, beta1/beta2→betas, the rest by name."""
    accepted = inspect.signature(cls.__init__).parameters
    kwargs: dict[str, Any] = {}
    for key, value in hparams.items():
        if key in SCHEDULE_KEYS or key in ("beta1", "beta2"):
            continue
        arg = _RENAMES.get(key, key)
        if arg not in accepted:
            raise OptbenchError(
                f"{source}: hyperparameter {key!r} is not an argument of {cls.__name__} "
                f"(accepted: {', '.join(p for p in accepted if p not in ('self', 'params'))})"
            )
        kwargs[arg] = value
    if "beta1" in hparams or "beta2" in hparams:
        default = accepted["betas"].default if "betas" in accepted else (0.9, 0.999)
        kwargs["betas"] = (hparams.get("beta1", default[0]), hparams.get("beta2", default[1]))
    return kwargs


def _yaml_optimizer(sub: Submission, model: Any, hparams: dict[str, Any], ctx: Context):
    cls = _resolve_optimizer_class(sub)
    optimizer = cls(model.parameters(), **optimizer_kwargs(cls, hparams, sub.source))
    return optimizer, warmup_schedule(optimizer, hparams, ctx)


def warmup_schedule(optimizer: Any, hparams: dict[str, Any], ctx: Context):
    """AlgoPerf's baseline schedule: the decay horizon is ``decay_steps_factor × step_hint``
    (AlgoPerf's NAdamW uses 0.75); linear warm-up over ``warmup_fraction`` of it, then cosine
    decay to ``end_lr_factor`` (default 0) at its end. ``schedule: linear`` decays linearly,
    ``constant`` keeps the rate after warm-up; ``none`` with no warm-up returns None.
    """
    import torch

    kind = hparams.get("schedule", "cosine")
    horizon = max(int(ctx.step_hint * hparams.get("decay_steps_factor", 1.0)), 1)
    warmup = int(hparams.get("warmup_fraction", hparams.get("warmup_factor", 0.0)) * horizon)
    total = max(horizon, warmup + 1)
    if kind == "none" and warmup == 0:
        return None
    end = hparams.get("end_lr_factor", 0.0)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if kind in ("constant", "none"):
            return 1.0
        progress = min((step - warmup) / max(total - warmup, 1), 1.0)
        if kind == "linear":
            return 1.0 - (1.0 - end) * progress
        return end + (1.0 - end) * 0.5 * (1.0 + math.cos(math.pi * progress))

    if kind not in ("cosine", "linear", "constant", "none"):
        raise OptbenchError(f"hyperparameter schedule: expected cosine, linear, constant or none, got {kind!r}")
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def read_submission(folder: Path) -> Submission:
    """Check a submission folder's files (no code is run)."""
    folder = Path(folder)
    search_space = next((folder / f for f in SEARCH_SPACE_FILES if (folder / f).is_file()), None)
    if (folder / "submission.py").is_file():
        return Submission(folder.name, folder, "python", code_hash(folder), search_space)
    if (folder / "submission.yaml").is_file():
        source = folder / "submission.yaml"
        try:
            config = yaml.safe_load(source.read_text()) or {}
        except yaml.YAMLError as exc:
            raise OptbenchError(f"{source}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
        allowed = {"optimizer", "defaults", "description"}
        if not isinstance(config, dict) or set(config) - allowed:
            extra = sorted(set(config) - allowed) if isinstance(config, dict) else config
            raise OptbenchError(f"{source}: unknown keys {extra}; allowed: {', '.join(sorted(allowed))}")
        if not isinstance(config.get("defaults", {}), dict):
            raise OptbenchError(f"{source}: defaults: expected a mapping of hyperparameter to value")
        return Submission(folder.name, folder, "yaml", code_hash(folder), search_space, config=config)
    raise OptbenchError(f"{folder}: not a submission folder (no submission.py or submission.yaml in it)")


def find_submission(name_or_path: str, extra: list[Path] | None = None) -> Submission:
    """A submission by name (a folder under submissions/ or --submissions-dir) or by path."""
    if "/" in name_or_path or Path(name_or_path).is_dir() and not discover(extra).get(name_or_path):
        return read_submission(Path(name_or_path))
    known = discover(extra)
    if name_or_path not in known:
        raise OptbenchError(
            f"unknown submission {name_or_path!r}; known: {', '.join(sorted(known))} "
            "(see `optbench list submissions`, or pass --submissions-dir or a folder path)"
        )
    return read_submission(known[name_or_path])


def load_submission(folder: str | Path) -> Submission:
    """Read and import a submission (in the worker process)."""
    return read_submission(Path(folder)).load()
