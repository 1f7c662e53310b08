"""Built-in datasets, models, losses and metrics; importing this registers them all."""

from optbench.workloads.builtin import data_convex, data_small, losses, metrics, models  # noqa: F401
from optbench.workloads.gpu import cifar10, fineweb, imagefolder  # noqa: F401  (GPU workloads, issue 8)
from optbench.workloads.gpu import models as gpu_models  # noqa: F401
