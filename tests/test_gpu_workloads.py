"""The GPU workloads on generated tiny data, on CPU: formats, batches, a few training steps, the
--compile/--amp path; and, where CUDA exists, the same on the GPU."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from optbench.errors import OptbenchError
from optbench.spec import Budget, EvalPolicy, TrialSpec
from optbench.submissions import BUILTIN_SUBMISSIONS_DIR
from optbench.trial import run_trial
from optbench.workloads import find_workload
from optbench.workloads.real_data import fake_data
from optbench.workloads.real_data.cifar10 import crop_flip
from optbench.workloads.real_data.formats import read_shard_header
from optbench.workloads.real_data.imagefolder import imagefolder
from optbench.workloads.runtime import build_workload
from tests.conftest import one_thread, run_cli

TINY = ["cifar10_resnet18_tiny", "nanogpt_fineweb_tiny", "imagenet_resnet50_tiny"]
NO_CUDA = "needs a CUDA GPU (none on this machine): the GPU path end to end"


@pytest.fixture(scope="module")
def fake_dir(tmp_path_factory) -> Path:
    return fake_data.write_all(tmp_path_factory.mktemp("data"))


def trial(workload: str, data_dir: Path | None, steps: int = 4, every: int = 2, **changes) -> TrialSpec:
    wl = find_workload(workload)
    wl = dataclasses.replace(wl, budget=Budget(60, wl.budget.step_hint, max_steps=steps),
                             eval=EvalPolicy(every_steps=every))
    return TrialSpec(wl, "adamw", str(BUILTIN_SUBMISSIONS_DIR / "adamw"), {}, seed=0,
                     stop_at_target=False, data_dir=str(data_dir) if data_dir else None, **changes)


# -- formats -----------------------------------------------------------------------------------------


def test_shard_header_rejects_a_bad_magic_and_a_truncated_shard(tmp_path):
    good = fake_data.write_shard(tmp_path / "good.bin", np.arange(100))
    assert read_shard_header(good) == 100
    with pytest.raises(OptbenchError, match="bad magic number 7 .expected 20240520"):
        read_shard_header(fake_data.write_shard(tmp_path / "bad.bin", np.arange(100), magic=7))
    short = tmp_path / "short.bin"
    short.write_bytes(good.read_bytes()[:-2])
    with pytest.raises(OptbenchError, match="header promises 100 tokens"):
        read_shard_header(short)


def test_missing_data_is_one_line_saying_how_to_get_it(tmp_path):
    with pytest.raises(OptbenchError) as info:
        build_workload(find_workload("cifar10_resnet18"), data_dir=str(tmp_path))
    message = str(info.value)
    assert "\n" not in message
    assert "cifar-10-batches-py is missing" in message and "cifar-10-python.tar.gz" in message
    assert "optbench data check" in message
    with pytest.raises(OptbenchError, match="no --data-dir given"):
        build_workload(find_workload("nanogpt_fineweb_tiny"))


# -- batches -----------------------------------------------------------------------------------------


def test_crop_flip_is_a_shifted_mirrored_window():
    images = torch.arange(2 * 4 * 4 * 3, dtype=torch.uint8).view(2, 4, 4, 3)
    centre = crop_flip(images, torch.tensor([[2, 2], [2, 2]]), torch.tensor([0, 1]), padding=2)
    assert torch.equal(centre[0], images[0])
    assert torch.equal(centre[1], images[1].flip(1))
    corner = crop_flip(images, torch.tensor([[0, 0], [4, 4]]), torch.tensor([0, 0]), padding=2)
    assert torch.equal(corner[0, 2:, 2:], images[0, :2, :2]) and corner[0, :2].sum() == 0
    assert torch.equal(corner[1, :2, :2], images[1, 2:, 2:]) and corner[1, 2:].sum() == 0


def test_cifar_batches_are_seeded_and_augmented(fake_dir):
    data = build_workload(find_workload("cifar10_resnet18_tiny"), data_dir=str(fake_dir)).data

    def first(seed: int) -> torch.Tensor:
        return next(data.train_batches(32, torch.Generator().manual_seed(seed)))[0]

    assert torch.equal(first(0), first(0)) and not torch.equal(first(0), first(1))
    x, y = first(0), next(data.eval_batches("validation", 1000))[0]
    assert x.shape == (32, 3, 32, 32) and x.dtype == torch.float32 and y.shape == (200, 3, 32, 32)
    assert abs(float(y.mean())) < 0.5  # standardised


def test_fineweb_windows_are_shifted_targets(fake_dir):
    data = build_workload(find_workload("nanogpt_fineweb_tiny"), data_dir=str(fake_dir)).data
    for sampling in ("random", "sequential"):
        data.sampling = sampling
        x, y = next(data.train_batches(4, torch.Generator().manual_seed(0)))
        assert x.shape == y.shape == (4, 32) and x.dtype == torch.long
        assert torch.equal(x[:, 1:], y[:, :-1])
    assert torch.equal(x[1, 0], y[0, -1])  # sequential: each window starts where the last one ended
    windows = list(data.eval_batches("validation", 1000))
    assert sum(t.numel() for _, t in windows) == 2048  # exactly val_tokens


def test_imagefolder_batches_do_not_depend_on_the_worker_count(fake_dir):
    def batches(workers: int) -> list[torch.Tensor]:
        data = imagefolder(fake_dir, image_size=32, resize_size=36, num_workers=workers, train_eval_size=6)
        stream = data.train_batches(8, torch.Generator().manual_seed(0))
        return [next(stream)[0] for _ in range(4)]

    assert all(torch.equal(a, b) for a, b in zip(batches(0), batches(2)))


# -- training ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("workload", [pytest.param(w, marks=pytest.mark.slow) if w == "imagenet_resnet50_tiny" else w
                                      for w in TINY])  # the ResNet-50: seconds on a CPU
def test_tiny_workloads_train_a_few_steps_on_cpu(workload, fake_dir):
    outcome = run_trial(trial(workload, fake_dir), one_thread())
    result = outcome.result
    assert result.status == "budget_exhausted", result.error
    assert result.steps == 4 and [row["step"] for row in outcome.evals] == [1, 2, 4]
    target = find_workload(workload).target.metric
    assert all(math.isfinite(row[target]) and math.isfinite(row["train/loss"]) for row in outcome.evals)


def test_tiny_gpt_learns(fake_dir):
    outcome = run_trial(trial("nanogpt_fineweb_tiny", fake_dir, steps=40, every=20), one_thread())
    first, last = outcome.evals[0], outcome.evals[-1]
    assert last["validation/loss"] < first["validation/loss"] - 0.5, outcome.result.error


def test_amp_bf16_on_cpu_and_a_bad_amp(fake_dir):
    outcome = run_trial(trial("nanogpt_fineweb_tiny", fake_dir, steps=3, amp="bf16"), one_thread())
    assert outcome.result.status == "budget_exhausted", outcome.result.error
    assert math.isfinite(outcome.evals[-1]["validation/loss"])
    bad = run_trial(trial("nanogpt_fineweb_tiny", fake_dir, amp="fp8"), one_thread()).result
    assert bad.status == "failed" and "only bf16" in bad.error


@pytest.mark.slow  # torch.compile builds C++ kernels
def test_compile_on_cpu_matches_eager_and_is_not_submission_time():
    if not (shutil.which("g++") or shutil.which("clang++") or shutil.which("c++")):
        pytest.skip("torch.compile on CPU needs a C++ compiler (g++ or clang++); none on PATH")
    eager = run_trial(trial("digits_mlp", None, steps=6, every=3), one_thread())
    compiled = run_trial(trial("digits_mlp", None, steps=6, every=3, compile=True), one_thread())
    assert compiled.result.status == "budget_exhausted", compiled.result.error
    assert 0 < compiled.result.compile_time <= compiled.result.init_time
    assert eager.result.compile_time == 0
    for a, b in zip(eager.evals, compiled.evals):
        assert a["train/loss"] == pytest.approx(b["train/loss"], rel=1e-4)


@pytest.mark.slow  # a two-worker run in a subprocess
def test_cli_run_with_data_dir_mixes_real_and_generated_workloads(fake_dir, tmp_path):
    """Through the local executor (a daemonic child starting DataLoader workers) with --amp; a built-in
    workload in the same run ignores --data-dir."""
    folder = tmp_path / "workloads" / "t"
    folder.mkdir(parents=True)
    text = find_workload("imagenet_resnet50_tiny").path
    yaml_text = Path(text).read_text().replace("name: imagenet_resnet50_tiny", "name: imagefolder_cli")
    (folder / "imagefolder_cli.yaml").write_text(yaml_text.replace("step_hint: 100}", "step_hint: 100, max_steps: 3}"))
    digits = Path(find_workload("digits_mlp").path).read_text().replace("name: digits_mlp", "name: digits_cli")
    digits = re.sub(r"^budget: \{(.*)\}$", r"budget: {\1, max_steps: 3}", digits, count=1, flags=re.M)
    assert "max_steps: 3" in digits  # the budget line's form changes with each calibration
    (folder / "digits_cli.yaml").write_text(digits)
    done = run_cli("run", "--workloads", "imagefolder_cli,digits_cli", "--submissions", "adamw", "--keep-going",
                   "--workers", "2",  # one torch thread each: two threads on two busy cores crawl
                   "--workloads-dir", str(tmp_path / "workloads"), "--data-dir", str(fake_dir), "--amp", "bf16",
                   "--results", str(tmp_path / "results"), "--name", "e")
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("imagefolder_cli", "digits_cli"):
        record = json.loads((tmp_path / "results" / "e" / "adamw" / "study_0" / name / "trial_0" / "trial.json")
                            .read_text())
        assert record["status"] == "budget_exhausted" and record["steps"] == 3, record.get("error")
        assert record["compile_time"] == 0


# -- on a GPU ------------------------------------------------------------------------------------------


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)
@pytest.mark.parametrize("workload", TINY)
def test_tiny_workloads_on_cuda_with_compile_amp_tf32(workload, fake_dir):
    spec = trial(workload, fake_dir, steps=6, every=3, device="cuda", compile=True, amp="bf16", tf32=True,
                 cudnn_benchmark=True)
    outcome = run_trial(spec, one_thread())
    assert outcome.result.status == "budget_exhausted", outcome.result.traceback or outcome.result.error
    assert outcome.result.compile_time > 0
    assert math.isfinite(outcome.evals[-1][find_workload(workload).target.metric])


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA)
def test_cifar_data_and_augmentation_stay_on_the_gpu(fake_dir):
    data = build_workload(find_workload("cifar10_resnet18_tiny"), "cuda", str(fake_dir)).data
    assert data.images["train"].device.type == "cuda" and data.images["train"].dtype == torch.uint8
    x, y = next(data.train_batches(32, torch.Generator().manual_seed(0)))
    assert x.device.type == "cuda" and y.device.type == "cuda"
