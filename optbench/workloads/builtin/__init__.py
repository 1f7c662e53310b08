"""Built-in datasets, models, losses and metrics; importing this registers them all."""

from optbench.workloads.builtin import data_convex, data_small, losses, metrics, models  # noqa: F401
