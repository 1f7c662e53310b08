"""Small real classification data that ships inside PyPI packages (no download).

``digits``: scikit-learn's bundled 8×8 handwritten digits (1,797 images).
``mnist1d``: MNIST-1D made offline by the ``mnist1d`` package's ``make_dataset``
(never its downloading helper), cached on disk because generation takes ~0.7 s.
"""

from __future__ import annotations

import numpy as np
import torch

from optbench.errors import OptbenchError
from optbench.workloads.cache import cached
from optbench.workloads.data import TensorData
from optbench.workloads.registry import register_dataset


def _split(x: np.ndarray, y: np.ndarray, fractions: tuple[float, float], seed: int) -> dict:
    """Shuffle with ``seed`` and cut into train / validation / test by the given fractions (no test
    split when its fraction is 0)."""
    val, test = fractions
    if not all(isinstance(f, (int, float)) and not isinstance(f, bool) and 0 <= f < 1 for f in fractions) \
            or val <= 0 or val + test >= 1:
        raise OptbenchError(f"dataset.params: validation_fraction {val!r} and test_fraction {test!r}: expected "
                            "0 < validation_fraction, 0 <= test_fraction and their sum < 1")
    order = np.random.default_rng(seed).permutation(len(y))
    x, y = torch.tensor(x[order], dtype=torch.float32), torch.tensor(y[order], dtype=torch.long)
    n_val, n_test = int(fractions[0] * len(y)), int(fractions[1] * len(y))
    n_train = len(y) - n_val - n_test
    splits = {"train": (x[:n_train], y[:n_train]), "validation": (x[n_train:n_train + n_val], y[n_train:n_train + n_val])}
    if n_test:
        splits["test"] = (x[n_train + n_val:], y[n_train + n_val:])
    return splits


@register_dataset("digits")
def digits(validation_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = 0) -> TensorData:
    def build() -> dict:  # cached: importing scikit-learn costs ~0.7 s in every trial's process
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return {"x": torch.from_numpy(bunch.data / 16.0), "y": torch.from_numpy(bunch.target)}

    built = cached("digits", {"version": 1}, build)
    splits = _split(built["x"].numpy(), built["y"].numpy(), (validation_fraction, test_fraction), seed)
    return TensorData(splits, info={"input_dim": 64, "num_classes": 10})


@register_dataset("mnist1d")
def mnist1d(num_samples: int = 5000, validation_fraction: float = 0.2, seed: int = 42) -> TensorData:
    """MNIST-1D with its default generator settings; ``num_samples`` in all, split train/validation."""

    def build() -> dict:
        from mnist1d.data import get_dataset_args, make_dataset

        args = get_dataset_args()
        args.num_samples, args.seed = num_samples, seed
        made = make_dataset(args)
        x = np.concatenate([made["x"], made["x_test"]]).astype(np.float32)
        y = np.concatenate([made["y"], made["y_test"]]).astype(np.int64)
        return {"x": torch.from_numpy(x), "y": torch.from_numpy(y)}

    built = cached("mnist1d", {"num_samples": num_samples, "seed": seed}, build)
    x, y = built["x"], built["y"]
    n_val = int(validation_fraction * len(y))
    return TensorData(
        {"train": (x[:-n_val], y[:-n_val]), "validation": (x[-n_val:], y[-n_val:])},
        info={"input_dim": x.shape[1], "num_classes": 10},
    )
