"""Is ``--device`` a device this machine can run trials on? Asked once, before any trial.

Without this check a run on ``--device cuda`` with a CPU-only torch (or ``--device mps`` off
a Mac) started every trial, each of which failed with torch's assertion, and the run exited
0. A device string is checked for its form first (``cpu``, ``cuda``, ``cuda:N``, a comma
list ``cuda:0,cuda:1`` for one worker per GPU, ``mps``), then for its availability. torch is
imported only where the answer needs it: a torch build that ships no CUDA library cannot
have CUDA (:func:`optbench.provenance.torch_has_no_gpu_library`), and MPS exists only on
macOS. Under ``--executor ray`` the trials run on the cluster's nodes, whose GPUs this
machine cannot see, so only the form is checked there.
"""

from __future__ import annotations

import re
import sys

from optbench.errors import OptbenchError
from optbench.provenance import torch_has_no_gpu_library

_ONE = re.compile(r"(cpu|mps|cuda)(?::(\d+))?")
_EXPECTED = "expected cpu, cuda, cuda:N, a list cuda:0,cuda:1 (one worker per GPU) or mps"


def parse_device(device: str) -> list[tuple[str, int | None]]:
    """``(kind, index)`` of each device in ``device``; one line (exit 2) when it is malformed."""
    parts = [part.strip() for part in device.split(",")]
    parsed = []
    for part in parts:
        match = _ONE.fullmatch(part)
        if match is None or (match.group(2) is not None and match.group(1) != "cuda"):
            raise OptbenchError(f"--device {device}: {part!r} is not a device; {_EXPECTED}")
        parsed.append((match.group(1), None if match.group(2) is None else int(match.group(2))))
    if len(parsed) > 1 and any(kind != "cuda" for kind, _ in parsed):
        raise OptbenchError(f"--device {device}: only CUDA devices make a list; {_EXPECTED}")
    return parsed


def check_device(device: str, executor: str = "local") -> None:
    """Refuse (one line, exit 2) a device that is malformed or, on this machine, absent."""
    parsed = parse_device(device)
    kinds = {kind for kind, _ in parsed}
    if executor == "ray" or kinds == {"cpu"}:
        return
    if kinds == {"mps"}:
        _check_mps(device)
    else:
        _check_cuda(device, [index for _, index in parsed if index is not None])


def _check_mps(device: str) -> None:
    if sys.platform != "darwin":
        raise OptbenchError(f"--device {device}: MPS (Apple's GPU) exists only on macOS; use --device cpu or cuda")
    import torch

    if not torch.backends.mps.is_available():
        raise OptbenchError(f"--device {device}: this torch cannot use MPS here (torch.backends.mps.is_available() "
                            "is False); use --device cpu")


def _check_cuda(device: str, indices: list[int]) -> None:
    if "torch" not in sys.modules and torch_has_no_gpu_library():
        raise OptbenchError(f"--device {device}: the installed torch is a CPU-only build (no CUDA library); "
                            "install a CUDA build of torch, or use --device cpu")
    import torch

    if not torch.cuda.is_available():
        raise OptbenchError(f"--device {device}: CUDA is not available to torch {torch.__version__} here "
                            "(no GPU visible, or no driver); use --device cpu")
    count = torch.cuda.device_count()
    absent = sorted({i for i in indices if i >= count})
    if absent:
        raise OptbenchError(f"--device {device}: cuda:{absent[0]} does not exist; {count} GPU(s) are visible "
                            f"(cuda:0 to cuda:{count - 1})")
