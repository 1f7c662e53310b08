"""Provenance facts that cost nothing to collect: torch's build without importing torch, and the
optbench source checkout (if any) whose git state is worth recording.

Importing torch in the command's own process took 4-6 s of CPU on 2 cores, in parallel
with the forkserver that imports it for the trials (so each slowed the other), plus 2.4 s
of interpreter teardown at exit, all for ``torch.__version__`` and ``cuda_available`` in
experiment.json. A torch build that ships no CUDA (or ROCm) library cannot have CUDA
available, and its version is in its installed metadata; only a build that could use a GPU
is imported to ask it (and such a run's start-up is small beside its trials).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from pathlib import Path
from typing import Any

#: Library name stems of the GPU back-ends of a torch build (Linux libtorch_cuda.so, Windows torch_cuda.dll).
_GPU_LIBRARIES = ("libtorch_cuda", "torch_cuda", "libtorch_hip", "torch_hip")


def torch_has_no_gpu_library() -> bool:
    """True when the installed torch has a lib/ folder and no CUDA or ROCm library in it."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.origin:
        return False
    lib = Path(spec.origin).parent / "lib"
    if not lib.is_dir():
        return False
    return not any(path.name.startswith(_GPU_LIBRARIES) for path in lib.iterdir())


def torch_facts() -> dict[str, Any]:
    """``torch`` (its version), ``cuda_available`` and, with CUDA, ``gpus`` (their names)."""
    if "torch" not in sys.modules and torch_has_no_gpu_library():
        try:
            return {"torch": importlib.metadata.version("torch"), "cuda_available": False}
        except importlib.metadata.PackageNotFoundError:
            pass
    import torch

    facts: dict[str, Any] = {"torch": torch.__version__, "cuda_available": torch.cuda.is_available()}
    if facts["cuda_available"]:
        facts["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return facts


def source_checkout() -> Path | None:
    """The root of the git checkout optbench runs from, or None for an installed optbench: a
    virtualenv inside someone's project must not record that project's commit as optbench's."""
    root = Path(__file__).resolve().parents[1]
    if (root / ".git").exists() and (root / "optbench" / "__init__.py").is_file():
        return root
    return None
