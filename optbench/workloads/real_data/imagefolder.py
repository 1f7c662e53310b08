"""ImageFolder data (ImageNet): JPEGs decoded with Pillow by a multi-worker DataLoader.

Training images get the standard Inception-style augmentation — a random crop of 8 %
to 100 % of the area with aspect ratio in [3/4, 4/3], resized to ``image_size``, then a
horizontal flip with probability 1/2; evaluation resizes the shorter side to
``resize_size`` and takes the centre ``image_size`` crop (256 → 224 for ImageNet). Crop
and resize are one Pillow ``resize(box=...)``. Workers send uint8 tensors (a quarter of
the bytes of floats) through pinned memory; the device converts and normalises them.

Every training example carries its own seed, drawn with its index from the trial's
generator in the main process, so the batches do not depend on the number of workers
or on which worker decodes what.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import random
from typing import Any, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from optbench.workloads.data import Batch
from optbench.workloads.real_data.formats import IMAGENET_SUBDIR, scan_imagefolder
from optbench.workloads.registry import register_dataset

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def random_resized_crop_box(width: int, height: int, rng: random.Random, scale: tuple[float, float] = (0.08, 1.0),
                            ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of an Inception-style random crop (torchvision's algorithm)."""
    area = width * height
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
        w, h = round(math.sqrt(target * aspect)), round(math.sqrt(target / aspect))
        if 0 < w <= width and 0 < h <= height:
            left, top = rng.randint(0, width - w), rng.randint(0, height - h)
            return left, top, left + w, top + h
    aspect = width / height  # fallback: the largest centre crop within the allowed aspect ratios
    if aspect < ratio[0]:
        w, h = width, min(height, round(width / ratio[0]))
    elif aspect > ratio[1]:
        w, h = min(width, round(height * ratio[1])), height
    else:
        w, h = width, height
    return (width - w) // 2, (height - h) // 2, (width - w) // 2 + w, (height - h) // 2 + h


def centre_crop_box(width: int, height: int, resize_size: int, image_size: int) -> tuple[float, float, float, float]:
    """The box that, resized to ``image_size``, equals resizing the shorter side to ``resize_size`` then centre-cropping."""
    side = image_size * min(width, height) / resize_size
    left, top = (width - side) / 2, (height - side) / 2
    return left, top, left + side, top + side


class Images(Dataset):
    """``items[i] = (path, label)``; train keys are ``(index, seed)``, eval keys plain indices."""

    def __init__(self, items: list[tuple[str, int]], train: bool, image_size: int, resize_size: int):
        self.items, self.train, self.image_size, self.resize_size = items, train, image_size, resize_size

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: Any) -> tuple[torch.Tensor, int]:
        from PIL import Image

        index, seed = key if self.train else (key, 0)
        path, label = self.items[index]
        with Image.open(path) as image:
            image = image.convert("RGB")
        size = (self.image_size, self.image_size)
        if self.train:
            rng = random.Random(seed)
            image = image.resize(size, Image.BILINEAR, box=random_resized_crop_box(*image.size, rng))
            if rng.random() < 0.5:
                image = image.transpose(Image.FLIP_LEFT_RIGHT)
        else:
            image = image.resize(size, Image.BILINEAR, box=centre_crop_box(*image.size, self.resize_size,
                                                                             self.image_size))
        return torch.from_numpy(np.array(image, dtype=np.uint8)).permute(2, 0, 1), label


class SeededBatches(Sampler):
    """Endless shuffled epochs of ``[(index, seed), ...]`` batches (last incomplete batch dropped)."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator):
        self.n, self.batch_size, self.generator = n, min(batch_size, n), generator

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        while True:
            order = torch.randperm(self.n, generator=self.generator).tolist()
            seeds = torch.randint(0, 2**62, (self.n,), generator=self.generator).tolist()
            for start in range(0, self.n - self.batch_size + 1, self.batch_size):
                yield list(zip(order[start:start + self.batch_size], seeds[start:start + self.batch_size]))


@contextlib.contextmanager
def _workers_allowed() -> Iterator[None]:
    """Let a daemonic process start DataLoader workers.

    The local executor runs each trial in a daemonic process, and ``multiprocessing``
    refuses children to those (it could not join them at exit). DataLoader workers
    watch their parent and exit when it dies, so lifting the flag while they start is safe.
    """
    process = multiprocessing.current_process()
    daemon = process._config.get("daemon")
    process._config["daemon"] = False
    try:
        yield
    finally:
        process._config["daemon"] = daemon


class ImageFolderData:
    def __init__(self, found: dict[str, Any], image_size: int, resize_size: int, num_workers: int,
                 train_eval_size: int, eval_batch_size: int):
        self.items = {"train": found["train"], "validation": found["validation"]}
        step = max(1, len(found["train"]) // max(train_eval_size, 1))  # spread over the classes
        self.train_eval = found["train"][::step][:train_eval_size]
        self.image_size, self.resize_size, self.num_workers = image_size, resize_size, num_workers
        self.eval_batch_size = eval_batch_size
        self.splits = ("train", "validation") if self.train_eval else ("validation",)
        self.info = {"num_classes": len(found["classes"]), "image_size": image_size}
        self.metadata = {"num_train": len(found["train"]), "num_validation": len(found["validation"]),
                         "classes": len(found["classes"])}
        self.device = torch.device("cpu")
        self.mean, self.std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)

    def to(self, device: torch.device | str) -> ImageFolderData:
        self.device = torch.device(device)
        self.mean, self.std = self.mean.to(self.device), self.std.to(self.device)
        return self

    def _loader(self, dataset: Dataset, **kwargs: Any) -> Iterator[Batch]:
        workers = self.num_workers
        # fork, not the start method this process inherited: in the executor's forkserver child that is
        # forkserver, whose workers import torch afresh (~3 s a loader). Workers never touch CUDA.
        fork = "fork" if workers and "fork" in multiprocessing.get_all_start_methods() else None
        loader = DataLoader(dataset, num_workers=workers, pin_memory=self.device.type == "cuda",
                            prefetch_factor=4 if workers else None, multiprocessing_context=fork, **kwargs)
        with _workers_allowed():
            batches = iter(loader)
        for images, labels in batches:
            images = images.to(self.device, non_blocking=True)
            yield (images.float() / 255 - self.mean) / self.std, labels.to(self.device, non_blocking=True)

    def train_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
        images = Images(self.items["train"], True, self.image_size, self.resize_size)
        yield from self._loader(images, batch_sampler=SeededBatches(len(images), batch_size, generator))

    def eval_batches(self, split: str, batch_size: int) -> Iterator[Batch]:
        items = self.train_eval if split == "train" else self.items[split]
        images = Images(items, False, self.image_size, self.resize_size)
        yield from self._loader(images, batch_size=min(batch_size, self.eval_batch_size))


@register_dataset("imagefolder")
def imagefolder(data_dir: Any = None, subdir: str = IMAGENET_SUBDIR, image_size: int = 224, resize_size: int = 256,
                num_classes: int | None = None, num_train: int | None = None, num_val: int | None = None,
                num_workers: int = 8, train_eval_size: int = 10000, eval_batch_size: int = 250) -> ImageFolderData:
    """``data_dir/imagenet/{train,val}/<class>/*.jpg``; ``num_*``: counts the folder must hold (None: any)."""
    check, found = scan_imagefolder(data_dir, subdir, num_classes, num_train, num_val)
    if not check.ok:
        raise check.error()
    return ImageFolderData(found, image_size, resize_size, num_workers, train_eval_size, eval_batch_size)
