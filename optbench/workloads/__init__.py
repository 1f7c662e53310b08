"""Workloads: YAML loading and validation (``loader``), the registries of parts
(``registry``), and, importing torch, the runnable form (``runtime``) with the
built-in parts (``builtin``).

Only the torch-free parts are re-exported here, so ``optbench list`` stays fast.
"""

from optbench.workloads.loader import (
    BUILTIN_WORKLOADS_DIR,
    discover,
    find_workload,
    load_workload_file,
    parse_workload,
    resolve_workloads,
    suites,
)
from optbench.workloads.registry import (
    DATASETS,
    LOSSES,
    METRICS,
    MODELS,
    register_dataset,
    register_loss,
    register_metric,
    register_model,
)

__all__ = [
    "BUILTIN_WORKLOADS_DIR", "discover", "find_workload", "load_workload_file", "parse_workload",
    "resolve_workloads", "suites", "DATASETS", "LOSSES", "METRICS", "MODELS", "register_dataset",
    "register_loss", "register_metric", "register_model",
]
