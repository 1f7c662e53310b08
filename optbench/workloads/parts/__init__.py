"""The parts a workload YAML names by registered name: datasets, models, losses, metrics.

Importing this package registers every built-in part (it imports torch):

- datasets: ``datasets_convex`` (logistic and least-squares problems with known optima),
  ``datasets_packaged`` (digits, MNIST-1D: data shipped inside PyPI packages),
  ``datasets_synthetic`` (modular addition, Zipf classes, click logs: generated),
  ``datasets_text`` (bytes of the Python standard library), and the real-data readers of
  :mod:`optbench.workloads.real_data` (CIFAR-10, FineWeb tokens, an ImageFolder);
- models: ``models_small`` (linear, MLP, 1-D CNN), ``models_mini`` (the mini suite's
  transformers and DLRM), ``models_large`` (ResNets and GPT-2 for the real-data workloads);
- ``losses`` and ``metrics``.
"""

from optbench.workloads.parts import (  # noqa: F401
    datasets_convex,
    datasets_packaged,
    datasets_synthetic,
    datasets_text,
    losses,
    metrics,
    models_large,
    models_mini,
    models_small,
)
from optbench.workloads.real_data import cifar10, fineweb, imagefolder  # noqa: F401  (register their datasets)
