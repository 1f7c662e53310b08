"""Per-step overhead of optbench's trial loop against a bare hand-written PyTorch loop.

Same model, data, optimizer, batch order and number of steps, in one process,
alternating the two several times (the machine is shared and noisy, so only a
side-by-side ratio means anything). Evals are pushed past the end of the run so
both loops do only training steps. Also times `optbench --help`.

    python benchmarks/overhead.py                      # mnist1d_cnn, 2,000 steps × 5 rounds
    python benchmarks/overhead.py --workload digits_mlp --steps 3000 --rounds 7
    python benchmarks/overhead.py --workload cifar10_resnet18_tiny --steps 200 --device cuda   # GPU workloads:
        # the gpu_tiny suite on generated data (or --data-dir DIR, e.g. with cifar10_resnet18)

Goal (issue 2): overhead ≤ 3 % per step on mnist1d_cnn on CPU; `--help` ≤ 0.3 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from optbench.spec import Budget, EvalPolicy, TrialSpec
from optbench.submissions import BUILTIN_SUBMISSIONS_DIR, load_submission
from optbench.trial import run_trial, seed_everything
from optbench.workloads import find_workload
from optbench.workloads.runtime import build_workload


def bare_loop(workload_spec, steps: int, seed: int, hparams: dict, device: str = "cpu",
              data_dir: str | None = None) -> float:
    """What a researcher would write by hand: the same parts, no harness. Returns seconds."""
    seed_everything(seed)
    workload = build_workload(workload_spec, device, data_dir)
    model = workload.init_model(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=hparams["learning_rate"],
                                  betas=(hparams["beta1"], hparams["beta2"]), weight_decay=hparams["weight_decay"])
    generator = torch.Generator().manual_seed(seed)
    if not hasattr(workload.data, "data"):  # a streaming dataset (the GPU workloads): its own batches
        return _stream_loop(workload, model, optimizer, steps, generator, device)
    x, y = workload.data.data["train"]
    batch_size, n, step = workload_spec.batch_size, len(y), 0
    start = time.perf_counter()
    while step < steps:
        perm = torch.randperm(n, generator=generator)
        for i in range(0, n - batch_size + 1, batch_size):
            idx = perm[i:i + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            step += 1
            if step == steps:
                break
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def _stream_loop(workload, model, optimizer, steps: int, generator, device: str) -> float:
    batches = workload.data.train_batches(workload.spec.batch_size, generator)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        batch = next(batches)
        optimizer.zero_grad(set_to_none=True)
        workload.loss_fn(model, batch).backward()
        optimizer.step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def optbench_loop(workload_spec, steps: int, seed: int, hparams: dict, device: str = "cpu",
                  data_dir: str | None = None) -> float:
    """The same steps through optbench's trial loop; returns its submission time (steps only)."""
    spec = TrialSpec(workload_spec, "adamw", str(BUILTIN_SUBMISSIONS_DIR / "adamw"), hparams, seed=seed,
                     stop_at_target=False, device=device, data_dir=data_dir)
    outcome = run_trial(spec)
    assert outcome.result.steps == steps, outcome.result
    return outcome.result.submission_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="mnist1d_cnn")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--data-dir", default=None, help="data of a GPU workload (default for *_tiny: generated)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    wl = find_workload(args.workload)
    data_dir = args.data_dir
    if data_dir is None and wl.suite == "gpu_tiny":
        import tempfile

        from optbench.workloads.real_data.fake_data import write_all

        data_dir = str(write_all(Path(tempfile.mkdtemp(prefix="optbench-tiny-"))))
    where = {"device": args.device, "data_dir": data_dir}
    # a constant rate and no evals inside the run: only training steps are compared
    hparams = {**load_submission(BUILTIN_SUBMISSIONS_DIR / "adamw").defaults, "schedule": "none",
               "warmup_fraction": 0.0}
    wl = dataclasses.replace(wl, budget=Budget(1e9, wl.budget.step_hint, max_steps=args.steps),
                             eval=EvalPolicy(every_steps=10 * args.steps))
    bare_loop(wl, 200, 0, hparams, **where)  # warm-up: caches, allocator, thread pool
    optbench_loop(dataclasses.replace(wl, budget=Budget(1e9, 1, max_steps=200)), 200, 0, hparams, **where)

    ratios, bare_times, ours_times = [], [], []
    for round_ in range(args.rounds):
        bare = bare_loop(wl, args.steps, round_, hparams, **where)
        ours = optbench_loop(wl, args.steps, round_, hparams, **where)
        bare_times.append(bare)
        ours_times.append(ours)
        ratios.append(ours / bare)
        print(f"round {round_}: bare {bare:.3f} s, optbench {ours:.3f} s, ratio {ours / bare:.4f}", flush=True)
    median = statistics.median(ratios)
    print(f"\n{args.workload} on {args.device}, {args.steps} steps, {args.threads} threads: "
          f"bare {1e6 * statistics.median(bare_times) / args.steps:.1f} µs/step, "
          f"optbench {1e6 * statistics.median(ours_times) / args.steps:.1f} µs/step")
    print(f"per-step overhead: median ratio {median:.4f} ({100 * (median - 1):+.2f} %), "
          f"min {min(ratios):.4f}, max {max(ratios):.4f}  (goal ≤ 1.03)")

    helps = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "optbench.cli", "--help"], capture_output=True, check=True,
                       cwd=Path(__file__).resolve().parents[1])
        helps.append(time.perf_counter() - start)
    print(f"`optbench --help` wall time: median {statistics.median(helps):.3f} s over 5 runs (goal ≤ 0.3 s)")


if __name__ == "__main__":
    main()
