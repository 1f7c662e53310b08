"""Tiny data in the GPU workloads' real formats, for tests and the ``gpu_tiny`` suite.

``python -m optbench.workloads.real_data.fake_data DIR`` writes, in a second or two::

    DIR/cifar-10-batches-py/   data_batch_1..5 (100 images each), test_batch (200), batches.meta
    DIR/fineweb10B/            fineweb_train_000001.bin (8,192 tokens), fineweb_val_000000.bin (4,096)
    DIR/imagenet/              train/<3 classes>/ (8 JPEGs each), val/<3 classes>/ (4 JPEGs each)

The data is learnable (each image class has its own colour pattern; the tokens follow a
noisy deterministic successor rule) so a few hundred CPU steps show a falling loss.
Use it as ``--data-dir DIR`` for the workloads in ``workloads/gpu_tiny/``.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np

from optbench.workloads.real_data.formats import (
    CIFAR_SUBDIR,
    CIFAR_TEST_FILE,
    CIFAR_TRAIN_FILES,
    FINEWEB_SUBDIR,
    HEADER_INTS,
    IMAGENET_SUBDIR,
    SHARD_MAGIC,
    SHARD_VERSION,
)


def _class_images(rng: np.random.Generator, labels: np.ndarray, height: int, width: int,
                  patterns: np.ndarray) -> np.ndarray:
    """uint8 images N×H×W×3: the label's smooth colour pattern plus noise."""
    noise = rng.normal(0, 40, (len(labels), height, width, 3))
    return np.clip(patterns[labels][:, :height, :width] + noise, 0, 255).astype(np.uint8)


def _patterns(rng: np.random.Generator, classes: int, size: int) -> np.ndarray:
    """One low-frequency colour pattern per class (coarse noise, upsampled)."""
    coarse = rng.uniform(30, 225, (classes, 4, 4, 3))
    return coarse.repeat(-(-size // 4), axis=1).repeat(-(-size // 4), axis=2)


def write_cifar10(root: Path, per_batch: int = 100, num_test: int = 200, seed: int = 0) -> Path:
    """A ``cifar-10-batches-py`` folder with 5 × ``per_batch`` train and ``num_test`` test images."""
    folder = Path(root) / CIFAR_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    patterns = _patterns(rng, 10, 32)
    for name, count in [*((n, per_batch) for n in CIFAR_TRAIN_FILES), (CIFAR_TEST_FILE, num_test)]:
        labels = rng.integers(0, 10, count)
        images = _class_images(rng, labels, 32, 32, patterns)  # NHWC → the format's N × 3072 (CHW rows)
        batch = {b"batch_label": name.encode(), b"labels": labels.tolist(),
                 b"data": images.transpose(0, 3, 1, 2).reshape(count, 3072),
                 b"filenames": [f"{name}_{i}.png".encode() for i in range(count)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": names, b"num_cases_per_batch": per_batch, b"num_vis": 3072}, f, protocol=2)
    return folder


def write_shard(path: Path, tokens: np.ndarray, magic: int = SHARD_MAGIC) -> Path:
    """A modded-nanogpt token shard: the 256-int32 header, then uint16 tokens."""
    header = np.zeros(HEADER_INTS, dtype="<i4")
    header[:3] = magic, SHARD_VERSION, len(tokens)
    with open(path, "wb") as f:
        f.write(header.tobytes())
        f.write(np.asarray(tokens, dtype="<u2").tobytes())
    return Path(path)


def _token_stream(rng: np.random.Generator, count: int, vocab: int) -> np.ndarray:
    """Mostly ``next = (7 t + 3) mod vocab``, with 20 % random tokens: learnable, not trivial."""
    tokens = np.empty(count, dtype=np.int64)
    tokens[0] = 0
    noise, random_tokens = rng.random(count) < 0.2, rng.integers(0, vocab, count)
    for i in range(1, count):
        tokens[i] = random_tokens[i] if noise[i] else (7 * tokens[i - 1] + 3) % vocab
    return tokens


def write_fineweb(root: Path, train_tokens: int = 8192, val_tokens: int = 4096, vocab: int = 512,
                  seed: int = 0) -> Path:
    """A ``fineweb10B`` folder with one train shard and one validation shard."""
    folder = Path(root) / FINEWEB_SUBDIR
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    write_shard(folder / "fineweb_train_000001.bin", _token_stream(rng, train_tokens, vocab))
    write_shard(folder / "fineweb_val_000000.bin", _token_stream(rng, val_tokens, vocab))
    return folder


def write_imagefolder(root: Path, classes: int = 3, train_per_class: int = 8, val_per_class: int = 4,
                      size: tuple[int, int] = (48, 40), seed: int = 0) -> Path:
    """An ``imagenet`` folder: ``train/`` and ``val/`` with one folder of JPEGs per class."""
    from PIL import Image

    folder = Path(root) / IMAGENET_SUBDIR
    rng = np.random.default_rng(seed)
    width, height = size
    patterns = _patterns(rng, classes, max(size))
    for split, count in (("train", train_per_class), ("val", val_per_class)):
        for label in range(classes):
            class_dir = folder / split / f"n{label:08d}"
            class_dir.mkdir(parents=True, exist_ok=True)
            images = _class_images(rng, np.full(count, label), height, width, patterns)
            for i, image in enumerate(images):
                Image.fromarray(image).save(class_dir / f"{split}_{label}_{i}.JPEG", quality=90)
    return folder


def write_all(root: Path, seed: int = 0) -> Path:
    """Every tiny dataset under ``root`` (the ``--data-dir`` of the ``gpu_tiny`` suite)."""
    root = Path(root)
    write_cifar10(root, seed=seed)
    write_fineweb(root, seed=seed)
    write_imagefolder(root, seed=seed)
    return root


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="where to write (created if missing)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    write_all(args.dir, args.seed)
    print(f"wrote tiny cifar10, fineweb and imagefolder data under {args.dir}; "
          f"use it with `optbench run --suite gpu_tiny --data-dir {args.dir}`")


if __name__ == "__main__":
    main()
