"""On-disk formats of the GPU workloads' data, read and checked with numpy, pickle and Pillow (no torch).

Each ``read_*``/``scan_*`` function returns a :class:`Check` (what was found, every
problem, how to get the data) and, when the folder is usable, what the dataset needs.
The dataset factories raise ``check.error()`` (one line); ``optbench data check``
prints the whole check. Nothing here downloads anything.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optbench.errors import OptbenchError


@dataclass
class Check:
    """The result of looking at one dataset's folder."""

    dataset: str
    folder: Path | None
    how_to_get: str
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)  #: what was found, for the report

    @property
    def ok(self) -> bool:
        return not self.problems

    def error(self) -> OptbenchError:
        more = f" (and {len(self.problems) - 1} more problem(s))" if len(self.problems) > 1 else ""
        return OptbenchError(
            f"{self.dataset} data in {self.folder}: {self.problems[0]}{more}; to get it: {self.how_to_get}; "
            "`optbench data check WORKLOAD --data-dir DIR` lists every problem"
        )


def locate(data_dir: str | os.PathLike | None, subdir: str, marker: str, check: Check) -> Path | None:
    """``data_dir/subdir``, or ``data_dir`` itself when it directly holds ``marker``."""
    if data_dir is None:
        check.problems.append("no --data-dir given")
        return None
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        check.folder = root
        check.problems.append(f"--data-dir {root} is not a folder")
        return None
    folder = root / subdir if subdir else root
    if not folder.is_dir() and (root / marker).exists():
        folder = root
    check.folder = folder
    if not folder.is_dir():
        check.problems.append(f"folder {folder} is missing")
        return None
    return folder


# -- CIFAR-10: the "python version" pickles -----------------------------------------------------------

CIFAR_SUBDIR = "cifar-10-batches-py"
CIFAR_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST_FILE = "test_batch"
CIFAR_HOW = ("download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (163 MB, the python version) and "
             "run `tar xzf cifar-10-python.tar.gz -C DIR`, which makes DIR/cifar-10-batches-py")


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles the CIFAR dicts but refuses every class other than numpy's arrays (a pickle runs code)."""

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def load_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR-10 batch file → (images N×32×32×3 uint8, labels N int64); ValueError says what is wrong."""
    try:
        with open(path, "rb") as f:
            batch = _ArrayUnpickler(f, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as exc:
        raise ValueError(f"not a CIFAR-10 pickle (truncated or another file?): {exc}") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise ValueError("not a CIFAR-10 batch: expected a dict with b'data' and b'labels'")
    data, labels = batch[b"data"], np.asarray(batch[b"labels"], dtype=np.int64)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise ValueError(f"b'data' should be uint8 of shape (N, 3072), got {got}")
    if labels.shape != (len(data),) or (len(labels) and (labels.min() < 0 or labels.max() > 9)):
        raise ValueError(f"b'labels' should be {len(data)} labels in 0..9")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def read_cifar10(data_dir: Any, subdir: str = CIFAR_SUBDIR, num_train: int | None = 50000,
                 num_test: int | None = 10000, **_: Any) -> tuple[Check, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Check and load the folder: ``{"train": (x, y), "test": (x, y)}`` with NHWC uint8 images."""
    check = Check("cifar10", None, CIFAR_HOW)
    folder = locate(data_dir, subdir, CIFAR_TRAIN_FILES[0], check)
    if folder is None:
        return check, {}
    parts: dict[str, list] = {"train": [], "test": []}
    for split, names in (("train", CIFAR_TRAIN_FILES), ("test", (CIFAR_TEST_FILE,))):
        for name in names:
            path = folder / name
            if not path.is_file():
                check.problems.append(f"{name} is missing")
                continue
            try:
                parts[split].append(load_cifar_batch(path))
            except ValueError as exc:
                check.problems.append(f"{name}: {exc}")
    out = {s: (np.concatenate([x for x, _ in p]), np.concatenate([y for _, y in p])) for s, p in parts.items() if p}
    for split, expected in (("train", num_train), ("test", num_test)):
        if split in out:
            found = len(out[split][1])
            check.facts.append(f"{found} {split} images in {len(parts[split])} file(s)")
            if expected is not None and found != expected:
                check.problems.append(f"{found} {split} images, expected {expected} (a partial or modified copy?)")
    return check, out


# -- FineWeb token shards (modded-nanogpt / llm.c format) ---------------------------------------------

SHARD_MAGIC, SHARD_VERSION, HEADER_INTS = 20240520, 1, 256
HEADER_BYTES = HEADER_INTS * 4
FINEWEB_SUBDIR = "fineweb10B"
FINEWEB_HOW = ("in a checkout of https://github.com/KellerJordan/modded-nanogpt run `python data/cached_fineweb10B.py 8` "
               "(8 train shards of 100M GPT-2 tokens and the validation shard, from the Hugging Face dataset "
               "kjj0/fineweb10B-gpt2), then copy or link its data/fineweb10B folder to DIR/fineweb10B")


def read_shard_header(path: Path) -> int:
    """The number of tokens of a shard, after checking its header and size; OptbenchError otherwise.

    A shard is 256 little-endian int32 (``[0]`` = 20240520, ``[1]`` = 1, ``[2]`` = token
    count, the rest zero), then the tokens as uint16.
    """
    path = Path(path)
    size = path.stat().st_size
    if size < HEADER_BYTES:
        raise OptbenchError(f"{path}: {size} bytes, shorter than the {HEADER_BYTES}-byte shard header")
    header = np.fromfile(path, dtype="<i4", count=HEADER_INTS)
    if header[0] != SHARD_MAGIC:
        raise OptbenchError(f"{path}: bad magic number {int(header[0])} (expected {SHARD_MAGIC}): "
                            "not a modded-nanogpt/llm.c token shard")
    if header[1] != SHARD_VERSION:
        raise OptbenchError(f"{path}: shard version {int(header[1])}, expected {SHARD_VERSION}")
    tokens = int(header[2])
    if size != HEADER_BYTES + 2 * tokens:
        raise OptbenchError(f"{path}: {size} bytes, but its header promises {tokens} tokens = "
                            f"{HEADER_BYTES + 2 * tokens} bytes (truncated download?)")
    return tokens


def open_shard(path: Path, tokens: int) -> np.ndarray:
    """The shard's tokens as a read-only memory map (nothing is read until used)."""
    return np.memmap(path, dtype="<u2", mode="r", offset=HEADER_BYTES, shape=(tokens,))


def scan_fineweb(data_dir: Any, subdir: str = FINEWEB_SUBDIR, seq_len: int = 1024, val_tokens: int = 10485760,
                 vocab_size: int = 50257, train_shards: int | None = None, train_eval_tokens: int = 1048576, **_: Any
                 ) -> tuple[Check, dict[str, list[tuple[Path, int]]]]:
    """Check the shards: ``{"train": [(path, tokens), ...], "validation": [...]}``.

    The validation shards and the first train shard are scanned for tokens outside the vocabulary.
    """
    check = Check("fineweb_tokens", None, FINEWEB_HOW)
    folder = locate(data_dir, subdir, "fineweb_val_000000.bin", check)
    if folder is None:
        return check, {}
    shards: dict[str, list[tuple[Path, int]]] = {}
    for split, pattern in (("train", "fineweb_train_*.bin"), ("validation", "fineweb_val_*.bin")):
        paths = sorted(folder.glob(pattern))
        if split == "train" and train_shards is not None:
            if len(paths) < train_shards:
                check.problems.append(f"{len(paths)} train shard(s), the workload wants {train_shards}")
            paths = paths[:train_shards]
        if not paths:
            check.problems.append(f"no {pattern} files")
        shards[split] = []
        for path in paths:
            try:
                shards[split].append((path, read_shard_header(path)))
            except OptbenchError as exc:
                check.problems.append(str(exc).replace(f"{path}: ", f"{path.name}: "))
        total = sum(n for _, n in shards[split])
        check.facts.append(f"{len(shards[split])} {split} shard(s), {total:,} tokens")
    val_total, train_total = (sum(n for _, n in shards[s]) for s in ("validation", "train"))
    if shards["validation"] and val_total < val_tokens + 1:
        check.problems.append(f"the validation shards hold {val_total:,} tokens; the workload evaluates on "
                              f"{val_tokens:,} (+1 for the shifted targets)")
    if shards["train"] and max(n for _, n in shards["train"]) < seq_len + 1:
        check.problems.append(f"no train shard holds one window of {seq_len + 1} tokens")
    if shards["train"] and train_total < train_eval_tokens + 1:
        check.problems.append(f"the train shards hold {train_total:,} tokens; the workload evaluates train/ "
                              f"metrics on {train_eval_tokens:,} (+1)")
    for path, tokens in [*shards["validation"], *shards["train"][:1]]:
        if tokens and int(open_shard(path, tokens).max()) >= vocab_size:
            check.problems.append(f"{path.name}: token ids reach {int(open_shard(path, tokens).max())}, "
                                  f"outside the vocabulary of {vocab_size}")
    return check, shards


# -- ImageFolder (ImageNet) -----------------------------------------------------------------------------

IMAGENET_SUBDIR = "imagenet"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
IMAGENET_HOW = ("ImageNet (ILSVRC 2012) needs an account at https://image-net.org; extract the train tars into "
                "DIR/imagenet/train/<wnid>/ and the validation images into DIR/imagenet/val/, sorted into the same "
                "class folders (e.g. with valprep.sh from the PyTorch ImageNet example); any train/<class>/*.jpg "
                "+ val/<class>/*.jpg folder works")


def _images(folder: Path) -> list[str]:
    return sorted(e.path for e in os.scandir(folder) if e.is_file() and e.name.lower().endswith(IMAGE_SUFFIXES))


def scan_imagefolder(data_dir: Any, subdir: str = IMAGENET_SUBDIR, num_classes: int | None = None,
                     num_train: int | None = None, num_val: int | None = None, verify: int = 0, **_: Any
                     ) -> tuple[Check, dict[str, Any]]:
    """Check the tree: ``{"classes": [...], "train": [(path, label)], "validation": [(path, label)]}``.

    ``verify``: also decode that many images of each split (spread over the classes).
    """
    check = Check("imagefolder", None, IMAGENET_HOW)
    folder = locate(data_dir, subdir, "train", check)
    if folder is None:
        return check, {}
    found: dict[str, Any] = {}
    for split, name in (("train", "train"), ("validation", "val")):
        root = folder / name
        if not root.is_dir():
            check.problems.append(f"folder {name}/ is missing")
            continue
        classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
        if split == "train":
            found["classes"] = classes
        elif "classes" in found and classes != found["classes"]:
            missing = sorted(set(found["classes"]) - set(classes))[:3]
            extra = sorted(set(classes) - set(found["classes"]))[:3]
            check.problems.append(f"val/ and train/ have different class folders (missing in val/: {missing}, "
                                  f"not in train/: {extra})")
        index = {c: i for i, c in enumerate(found.get("classes", classes))}
        per_class = {c: _images(root / c) for c in classes}
        items = [(path, index.get(c, -1)) for c in classes for path in per_class[c]]
        empty = [c for c in classes if not per_class[c]][:3]
        if not classes:
            check.problems.append(f"{name}/ has no class folders (expected {name}/<class>/*.jpg)")
        elif not items:
            check.problems.append(f"{name}/ has no .jpg/.jpeg/.png images in its class folders")
        elif empty:
            check.problems.append(f"{name}/ has class folders without images, e.g. {', '.join(empty)}")
        found[split] = items
        check.facts.append(f"{name}/: {len(classes)} classes, {len(items):,} images")
        expected = num_train if split == "train" else num_val
        if expected is not None and items and len(items) != expected:
            check.problems.append(f"{name}/ holds {len(items):,} images, expected {expected:,}")
        if verify and items:
            step = max(1, len(items) // verify)
            for path, _ in items[::step][:verify]:
                try:
                    _verify_image(path)
                except Exception as exc:  # noqa: BLE001 - any decoder error is a broken file
                    check.problems.append(f"{Path(path).relative_to(folder)}: unreadable image ({exc})")
    classes = found.get("classes", [])
    if num_classes is not None and classes and len(classes) != num_classes:
        check.problems.append(f"train/ has {len(classes)} class folders, expected {num_classes}")
    return check, found


def _verify_image(path: str) -> None:
    from PIL import Image

    with Image.open(path) as image:
        image.convert("RGB").load()


CHECKERS = {"cifar10": read_cifar10, "fineweb_tokens": scan_fineweb, "imagefolder": scan_imagefolder}
"""Dataset name → its folder check (keyword arguments: the dataset's YAML params + data_dir)."""
