"""Built-in datasets, models, losses and metrics; importing this registers them all."""

from optbench.workloads.builtin import (  # noqa: F401
    data_convex,
    data_small,
    data_synthetic,
    data_text,
    losses,
    metrics,
    models,
    models_extra,
)
from optbench.workloads.gpu import cifar10, fineweb, imagefolder  # noqa: F401  (GPU workloads, issue 8)
from optbench.workloads.gpu import models as gpu_models  # noqa: F401
