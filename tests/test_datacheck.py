"""`optbench data check`: generated tiny folders pass; missing, truncated and foreign files are named, with how to get the data."""

from __future__ import annotations

import io
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from optbench.tools.datacheck import check_workload_data
from optbench.workloads.real_data import fake_data
from tests.conftest import cli

TINY = ["cifar10_resnet18_tiny", "nanogpt_fineweb_tiny", "imagenet_resnet50_tiny"]


@pytest.fixture(scope="module")
def fake_dir(tmp_path_factory) -> Path:
    return fake_data.write_all(tmp_path_factory.mktemp("data"))


@pytest.fixture
def broken_dir(fake_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the fake data, for a test to break."""
    return Path(shutil.copytree(fake_dir, tmp_path / "data"))


def check(workload: str, data_dir: Path) -> tuple[bool, str]:
    out = io.StringIO()
    ok = check_workload_data(workload, data_dir, console=Console(file=out, width=200, color_system=None))
    return ok, out.getvalue()


@pytest.mark.parametrize("workload", TINY)
def test_generated_tiny_data_passes(workload, fake_dir):
    ok, text = check(workload, fake_dir)
    assert ok, text
    assert "OK" in text and "found:" in text


def test_full_size_workloads_refuse_the_tiny_copies(fake_dir):
    for workload, expected in [("cifar10_resnet18", "expected 50000"), ("imagenet_resnet50", "expected 1000"),
                               ("nanogpt_fineweb", "evaluates on 10,485,760")]:
        ok, text = check(workload, fake_dir)
        assert not ok and expected in text and "how to get it" in text, text


def test_cli_exit_codes(fake_dir, broken_dir):
    ok = cli("data", "check", "nanogpt_fineweb_tiny", "--data-dir", fake_dir)
    assert ok.returncode == 0, ok.stderr
    (broken_dir / "cifar-10-batches-py" / "test_batch").unlink()
    bad = cli("data", "check", "cifar10_resnet18_tiny", "--data-dir", broken_dir)
    assert bad.returncode == 2
    assert "test_batch is missing" in bad.stdout and "cifar-10-python.tar.gz" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr


def test_missing_data_dir(tmp_path):
    ok, text = check("cifar10_resnet18_tiny", tmp_path / "nowhere")
    assert not ok and "is not a folder" in text
    ok, text = check("nanogpt_fineweb_tiny", tmp_path)
    assert not ok and "fineweb10B is missing" in text and "cached_fineweb10B.py" in text


def test_cifar_missing_truncated_and_foreign_files(broken_dir):
    folder = broken_dir / "cifar-10-batches-py"
    (folder / "data_batch_3").unlink()
    data = (folder / "data_batch_1").read_bytes()
    (folder / "data_batch_2").write_bytes(data[: len(data) // 2])
    (folder / "data_batch_4").write_bytes(pickle.dumps({b"data": np.zeros((4, 100), np.uint8), b"labels": [0] * 4}))

    class Evil:
        def __reduce__(self):
            return (print, ("a pickle that runs code",))

    (folder / "data_batch_5").write_bytes(pickle.dumps(Evil()))
    ok, text = check("cifar10_resnet18_tiny", broken_dir)
    assert not ok
    assert "data_batch_3 is missing" in text
    assert "data_batch_2: not a CIFAR-10 pickle" in text
    assert "data_batch_4: b'data' should be uint8 of shape (N, 3072)" in text
    assert "data_batch_5: not a CIFAR-10 pickle" in text and "refusing to load builtins.print" in text


def test_fineweb_bad_magic_truncated_and_missing_shards(broken_dir):
    folder = broken_dir / "fineweb10B"
    fake_data.write_shard(folder / "fineweb_val_000000.bin", np.arange(4096) % 512, magic=12345)
    train = folder / "fineweb_train_000001.bin"
    train.write_bytes(train.read_bytes()[:-10])
    ok, text = check("nanogpt_fineweb_tiny", broken_dir)
    assert not ok
    assert "bad magic number 12345 (expected 20240520)" in text
    assert "truncated" in text
    for shard in folder.glob("fineweb_val_*"):
        shard.unlink()
    ok, text = check("nanogpt_fineweb_tiny", broken_dir)
    assert not ok and "no fineweb_val_*.bin files" in text


def test_fineweb_tokens_outside_the_vocabulary(broken_dir):
    fake_data.write_shard(broken_dir / "fineweb10B" / "fineweb_val_000000.bin", np.full(4096, 600))
    ok, text = check("nanogpt_fineweb_tiny", broken_dir)
    assert not ok and "token ids reach 600, outside the vocabulary of 512" in text


def test_imagefolder_missing_split_and_unreadable_image(broken_dir):
    folder = broken_dir / "imagenet"
    next((folder / "train" / "n00000001").iterdir()).write_bytes(b"not a jpeg")
    ok, text = check("imagenet_resnet50_tiny", broken_dir)
    assert not ok and "unreadable image" in text
    shutil.rmtree(folder / "val")
    ok, text = check("imagenet_resnet50_tiny", broken_dir)
    assert not ok and "folder val/ is missing" in text and "image-net.org" in text


def test_imagefolder_class_mismatch(broken_dir):
    shutil.rmtree(broken_dir / "imagenet" / "val" / "n00000002")
    ok, text = check("imagenet_resnet50_tiny", broken_dir)
    assert not ok and "different class folders" in text and "n00000002" in text


def test_workloads_without_files_have_nothing_to_check(tmp_path):
    ok, text = check("digits_mlp", tmp_path)
    assert ok and "nothing to check" in text
