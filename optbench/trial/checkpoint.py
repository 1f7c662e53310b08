"""Mid-trial checkpoints (``optbench run --checkpoint``): save at each eval, continue after a kill.

A checkpoint is ``checkpoint.pt`` in the trial's folder, written by the worker after
every eval that does not end the trial (to a temporary name, then renamed, so a kill
never leaves half a file) and deleted by the parent once ``trial.json`` is written.
It holds everything the rest of the trial depends on:

* the model's ``state_dict``;
* the submission's state, packed by :func:`pack`: anything with ``state_dict()`` /
  ``load_state_dict()`` (optimizers, schedulers, modules) is saved as its state dict,
  tensors and plain data as they are, dicts/lists/tuples recursively. The simple form's
  state is ``{"optimizer", "scheduler", "eval_mode"}``; the full form's is whatever
  ``init_optimizer_state`` returned;
* the step, the submission clock (wall and CPU seconds), the eval time, the evals so far and the result's
  running fields (best metric, steps-to-target when the trial goes on past its target);
* the RNG states of torch (and CUDA), numpy and Python;
* the batch stream's position: batches are drawn one per step from a generator seeded
  by the trial's seed, so on resume the stream is rebuilt from the seed and fast-forwarded
  by ``step`` batches (drawn, not trained on: microseconds each for in-memory data).
  This works for any dataset that draws its batches from the generator it is given.

Resuming (:func:`restore`) rebuilds the trial as usual (model, submission state, batch
stream), then loads all of the above into it, so the trial goes on with exactly the
numbers an unbroken run would have had (bit for bit on the same CPU), and
``preemption_count`` goes up by one. The time between the kill and the resume is not
counted anywhere; saving a checkpoint is not submission time.

A checkpoint belongs to one trial: it carries a hash of the workload, the submission's
code, the hyperparameters and the seed, and one that does not match (``--resume --force``
after a change) or does not load is ignored: the trial starts again from step 0.
"""

from __future__ import annotations

import itertools
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from optbench.errors import OptbenchError
from optbench.spec import Context, TrialOutcome, TrialRuntime, TrialSpec, TrialStatus, stable_hash

if TYPE_CHECKING:
    import torch

CHECKPOINT_FILE = "checkpoint.pt"
FORMAT = 2  #: 2: the clock's wall and CPU seconds
#: TrialResult fields carried over a resume (the rest are set when the trial ends).
_RESULT_FIELDS = ("status", "steps_to_target", "time_to_target", "wall_time_to_target", "cpu_time_to_target",
                  "eval_time", "init_time", "total_time", "best_metric", "num_evals", "preemption_count",
                  "loss_evaluations")


@dataclass
class StateDict:
    """Marks an object saved through ``state_dict()``; restored with ``load_state_dict``."""

    data: Any


def identity(spec: TrialSpec) -> str:
    """What a checkpoint must have been made by to be resumed from."""
    return stable_hash([spec.workload.hash, spec.submission_hash, spec.hparams, spec.seed, spec.budget_multiplier,
                        spec.stop_at_target, str(spec.clock)])


def pack(obj: Any) -> Any:
    """The submission state as data ``torch.save`` can write (see the module docstring)."""
    if callable(getattr(obj, "state_dict", None)) and callable(getattr(obj, "load_state_dict", None)):
        return StateDict(obj.state_dict())
    if isinstance(obj, dict):
        return {key: pack(value) for key, value in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a namedtuple
        return type(obj)(*(pack(value) for value in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(pack(value) for value in obj)
    return obj


def unpack(fresh: Any, saved: Any) -> Any:
    """Load ``saved`` (from :func:`pack`) into ``fresh`` (a newly initialised state of the same shape)."""
    import torch

    if isinstance(saved, StateDict):
        if not callable(getattr(fresh, "load_state_dict", None)):
            raise OptbenchError(f"the checkpoint holds the state of an object that the new state lacks "
                                f"(found {type(fresh).__name__})")
        fresh.load_state_dict(saved.data)
        return fresh
    if isinstance(saved, torch.Tensor):
        if isinstance(fresh, torch.Tensor) and fresh.shape == saved.shape:
            with torch.no_grad():
                fresh.copy_(saved)  # in place: whatever else refers to this tensor sees the value
            return fresh
        return saved
    if isinstance(saved, dict) and isinstance(fresh, dict):
        for key, value in saved.items():
            fresh[key] = unpack(fresh.get(key), value)
        return fresh
    if isinstance(saved, list) and isinstance(fresh, list) and len(saved) == len(fresh):
        fresh[:] = [unpack(f, s) for f, s in zip(fresh, saved)]
        return fresh
    if isinstance(saved, tuple) and isinstance(fresh, tuple) and len(saved) == len(fresh):
        values = [unpack(f, s) for f, s in zip(fresh, saved)]
        return type(saved)(*values) if hasattr(saved, "_fields") else tuple(values)
    return saved


def _rng_states(device: torch.device) -> dict[str, Any]:
    import numpy as np
    import torch

    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}


def _set_rng_states(states: dict[str, Any], device: torch.device) -> None:
    import numpy as np
    import torch

    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    if states.get("cuda") is not None and device.type == "cuda":
        torch.cuda.set_rng_state(states["cuda"], device)


class Checkpointer:
    """One trial's checkpoint file; every method is a no-op when the trial does not checkpoint.

    ``clock`` arguments are the trial's submission clock (anything with ``elapsed``)."""

    def __init__(self, path: Path | None, identity: str):
        self.path, self.identity = path, identity

    @classmethod
    def for_trial(cls, spec: TrialSpec, runtime: TrialRuntime) -> Checkpointer:
        path = Path(runtime.checkpoint_dir) / CHECKPOINT_FILE if runtime.checkpoint_dir else None
        return cls(path, identity(spec))

    def save(self, model: torch.nn.Module, state: Any, ctx: Context, clock: Any, out: TrialOutcome) -> None:
        """Write the trial's checkpoint (a no-op without ``--checkpoint``). Call it right after an eval."""
        if self.path is None:
            return
        import torch

        result = {name: getattr(out.result, name) for name in _RESULT_FIELDS}
        result["status"] = str(out.result.status)
        result["total_time"] = out.evals[-1]["total_time"] if out.evals else 0.0  # wall time at this eval
        payload = {
            "format": FORMAT, "identity": self.identity, "step": ctx.step, "submission_time": clock.elapsed,
            "submission_wall_time": clock.wall, "submission_cpu_time": clock.cpu,
            "batches_drawn": ctx.step, "model": model.state_dict(), "state": pack(state), "result": result,
            "evals": out.evals, "rng": _rng_states(torch.device(ctx.device)),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                torch.save(payload, fh)
            os.replace(tmp, self.path)  # a killed process leaves the previous checkpoint, never half of one
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def load(self, device: torch.device) -> dict[str, Any] | None:
        """The checkpoint, or None when there is none, it is damaged or it belongs to another trial."""
        if self.path is None or not self.path.is_file():
            return None
        import torch

        try:  # our own file, in the user's results folder: trusted, and it holds numpy/Python RNG states
            payload = torch.load(self.path, map_location=device, weights_only=False)
        except Exception:
            return None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT or payload.get("identity") != self.identity:
            return None
        return payload

    def restore(self, model: torch.nn.Module, state: Any, batches: Iterator, ctx: Context, clock: Any,
                out: TrialOutcome) -> Any:
        """Continue from the checkpoint, if there is one; returns the (restored) submission state.

        Call it after the model, the submission state and the batch stream have been made
        as for a fresh trial; without a checkpoint nothing changes.
        """
        import torch

        device = torch.device(ctx.device)
        payload = self.load(device)
        if payload is None:
            return state
        model.load_state_dict(payload["model"])
        state = unpack(state, payload["state"])
        next(itertools.islice(batches, payload["batches_drawn"], payload["batches_drawn"]), None)  # fast-forward
        clock.restore(payload["submission_wall_time"], payload["submission_cpu_time"])
        ctx.step, ctx.submission_time = payload["step"], clock.elapsed
        for name, value in payload["result"].items():
            setattr(out.result, name, value)
        out.result.status = TrialStatus(out.result.status)
        out.result.preemption_count += 1
        out.evals[:] = payload["evals"]
        _set_rng_states(payload["rng"], device)
        return state
