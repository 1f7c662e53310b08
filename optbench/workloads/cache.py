"""An on-disk cache for generated datasets and exactly solved optima.

Every trial runs in its own process, so anything costly to make (MNIST-1D's
generator, a Newton solve for f*) would be redone per trial. Entries are keyed by
the hash of everything that determines them and written atomically, so parallel
workers can race to fill the same entry safely. ``OPTBENCH_CACHE`` moves it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch

from optbench.spec import stable_hash


def cache_dir() -> Path:
    return Path(os.environ.get("OPTBENCH_CACHE", Path.home() / ".cache" / "optbench"))


def cached(kind: str, key: dict[str, Any], build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``build()`` once per distinct ``key``; later calls load the saved result (tensors and numbers)."""
    path = cache_dir() / kind / f"{stable_hash(key)}.pt"
    if path.is_file():
        try:
            return torch.load(path, weights_only=True)
        except Exception:  # a damaged entry is rebuilt, never trusted
            path.unlink(missing_ok=True)
    value = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        torch.save(value, tmp)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs time
    return value
