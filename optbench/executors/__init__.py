"""Where trials run: ``local`` (worker processes on this machine) and ``ray`` (a Ray cluster).

Both implement :class:`optbench.spec.Executor`; :func:`make_executor` picks and checks one
from a run's configuration. ``base`` holds what they share, ``ddp`` the launcher of
data-parallel trials (N processes for one trial) that either runs inside a worker.
"""

from __future__ import annotations

from optbench.errors import OptbenchError
from optbench.spec import Executor, RunConfig


def make_executor(config: RunConfig) -> Executor:
    """The executor ``config`` asks for, with its options checked (one line, exit 2, when they clash)."""
    from optbench.executors.devices import check_device
    from optbench.executors.local import LocalExecutor

    device = config.device
    check_device(device, config.executor)  # before any trial: a run on an absent GPU is one line, not N failures
    if config.nproc_per_trial > 1 and config.checkpoint:
        raise OptbenchError("--checkpoint does not go with --nproc-per-trial > 1 (data-parallel trials do not "
                            "checkpoint mid-trial)")
    if config.executor == "ray":
        if "," in device:
            raise OptbenchError(f"--executor ray --device {device}: give --device cuda and --gpus-per-trial N; "
                                "Ray assigns the GPUs")
        if config.gpus_per_trial and not device.startswith("cuda"):
            raise OptbenchError("--gpus-per-trial needs --device cuda")
        from optbench.executors.ray import RayExecutor  # one line and exit 2 when Ray is not installed

        return RayExecutor(address=config.ray_address, workers=config.workers, cpus_per_trial=config.cpus_per_trial,
                           gpus_per_trial=config.gpus_per_trial, threads_per_trial=config.threads)
    if config.executor != "local":
        raise OptbenchError(f"--executor {config.executor}: expected local or ray")
    if config.ray_address or config.gpus_per_trial or config.cpus_per_trial != 1.0:
        raise OptbenchError("--ray-address, --cpus-per-trial and --gpus-per-trial go with --executor ray")
    devices = [d.strip() for d in device.split(",") if d.strip()] if device.startswith("cuda") and "," in device \
        else None
    return LocalExecutor(workers=config.workers or 1, devices=devices, threads_per_worker=config.threads)
