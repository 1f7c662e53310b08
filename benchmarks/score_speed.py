"""How fast is `optbench score --format algoperf` on a tree the size of AlgoPerf v0.5's logs?

Writes a synthetic AlgoPerf-format tree into a temporary folder -- 11 submissions x 5
studies x 14 workloads (v0.5's 8 base + 6 held-out) x 5 trials = 3,850
eval_measurements.csv files of ~15 columns, ~50 MB -- plus a matching targets file,
then times the real command line (a fresh process each run, so imports count) and
prints the best of ``--repeat`` runs and its ratio to the 2 s goal of issue 4.

    python benchmarks/score_speed.py [--repeat 3] [--keep DIR]

Not a test: the number depends on the machine (the goal is for 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GOAL_SECONDS = 2.0
SUBMISSIONS, STUDIES, TRIALS, EVALS = 11, 5, 5, 64
#: v0.5's scored workloads and their target metrics: name -> (metric, minimised?)
WORKLOADS = {
    "criteo1tb": ("loss", True), "fastmri": ("ssim", False), "imagenet_resnet": ("accuracy", False),
    "imagenet_vit": ("accuracy", False), "librispeech_conformer": ("wer", True),
    "librispeech_deepspeech": ("wer", True), "ogbg": ("mean_average_precision", False), "wmt": ("bleu", False),
    "criteo1tb_embed_init": ("loss", True), "fastmri_tanh": ("ssim", False),
    "imagenet_resnet_large_bn_init": ("accuracy", False), "librispeech_conformer_layernorm": ("wer", True),
    "ogbg_model_size": ("mean_average_precision", False), "wmt_glu_tanh": ("bleu", False),
}
HELD_OUT = list(WORKLOADS)[8:]
#: Each metric moves from START to END as training progresses; the target is at 85 %.
START_END = {"loss": (0.5, 0.12), "ssim": (0.5, 0.74), "accuracy": (0.1, 0.80), "wer": (0.9, 0.07),
             "mean_average_precision": (0.05, 0.30), "bleu": (0.0, 32.0)}
PROGRESS_AT_TARGET = 0.85


def _target(metric: str) -> float:
    start, end = START_END[metric]
    return start + PROGRESS_AT_TARGET * (end - start)


def write_targets(path: Path) -> Path:
    """A v0.5-shaped workload_targets file for the synthetic metrics."""
    data = {
        "benchmark_version": "0.5-synthetic",
        "base_workloads": list(WORKLOADS)[:8],
        "held_out_workloads": HELD_OUT,
        "workloads": {w: {"target_metric_name": m, "validation_target_value": round(_target(m), 6), "step_hint": 1000}
                      for w, (m, _) in WORKLOADS.items()},
    }
    path.write_text(json.dumps(data, indent=1))
    return path


def _columns(metric: str) -> list[str]:
    """15 columns, as AlgoPerf logs them (clock, counters, train/validation/test metrics)."""
    cols = ["global_step", "score", "accumulated_submission_time", "accumulated_eval_time",
            "accumulated_logging_time", "total_duration", "preemption_count", "train/loss", "validation/loss",
            "test/loss", "validation/num_examples", "test/num_examples"]
    for split in ("train", "validation", "test"):
        if f"{split}/{metric}" not in cols:
            cols.append(f"{split}/{metric}")
    return cols + [f"train/extra_{i}" for i in range(15 - len(cols))]


def write_tree(root: Path, seed: int = 0) -> tuple[int, int]:
    """Write the synthetic tree; returns (files, bytes). Speeds differ per submission, so
    the scores spread out; about a fifth of the trials never reach the target."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    files = size = 0
    for s in range(SUBMISSIONS):
        speed = 0.6 + 0.1 * s
        for j in range(STUDIES):
            for w, (metric, _) in WORKLOADS.items():
                start, end = START_END[metric]
                for i in range(1, TRIALS + 1):
                    step = np.arange(1, EVALS + 1) * 200
                    time_ = np.round(np.cumsum(rng.uniform(50, 70, EVALS)), 3)
                    rate = speed * rng.lognormal(0.0, 0.5) / (EVALS * 60 / 3)
                    progress = (1 - np.exp(-rate * time_)) * rng.uniform(0.8, 1.05)
                    value = np.round(start + np.minimum(progress, 1) * (end - start), 5)
                    data = {}
                    for col in _columns(metric):
                        if col == "global_step":
                            data[col] = step
                        elif col in ("score", "accumulated_submission_time"):
                            data[col] = time_
                        elif col.endswith(f"/{metric}"):
                            data[col] = value
                        elif col == "preemption_count":
                            data[col] = np.zeros(EVALS, dtype=int)
                        else:
                            data[col] = rng.random(EVALS) * 10  # full precision, as AlgoPerf logs floats
                    folder = root / f"submission_{s:02d}" / f"study_{j}" / f"{w}_jax" / f"trial_{i}"
                    folder.mkdir(parents=True)
                    path = folder / "eval_measurements.csv"
                    with open(path, "wb") as fh:  # header unquoted, as pandas writes it in AlgoPerf
                        fh.write((",".join(data) + "\n").encode())
                        pacsv.write_csv(pa.table(data), fh, options)
                    files += 1
                    size += path.stat().st_size
    return files, size


def command(tree: Path, targets: Path, out: Path) -> list[str]:
    """The real command line: the `optbench` console script if installed, else the module."""
    args = ["score", str(tree), "--format", "algoperf", "--targets", str(targets), "--out", str(out)]
    script = Path(sys.executable).with_name("optbench")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from optbench.cli import main; main()", *args]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of ``cmd`` in a fresh process; exits on failure."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stdout}\n{done.stderr}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="write the tree here and keep it (default: a temp folder)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="optbench-score-speed-"))
    tree = args.keep or tmp / "logs"
    try:
        if not (tree.exists() and any(tree.iterdir())):
            t0 = time.perf_counter()
            files, size = write_tree(tree)
            print(f"wrote {files} eval_measurements.csv files, {size / 1e6:.1f} MB, "
                  f"in {time.perf_counter() - t0:.1f} s -> {tree}")
        targets = write_targets(tmp / "workload_targets_synthetic.json")
        cmd = command(tree, targets, tmp / "scores")
        print("timing:", " ".join(cmd))
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        times, cpu = map(list, zip(*(timed(cmd, env) for _ in range(args.repeat))))
        best = min(times)
        print(f"optbench score --format algoperf: best {best:.2f} s, median {statistics.median(times):.2f} s "
              f"wall of {args.repeat} runs on {os.cpu_count()} CPU(s) (load average {os.getloadavg()[0]:.1f}); "
              f"{best / GOAL_SECONDS:.2f} x the {GOAL_SECONDS:g} s goal ({'met' if best <= GOAL_SECONDS else 'missed'}); "
              f"CPU time per run {statistics.median(cpu):.2f} s (wall time grows when other jobs share the cores)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
