"""Per-step cost of the ``algoperf`` form (AlgoPerf's API through the workload adapter) against the native form.

Two submissions with the same optimizer (AdamW, constant rate) train the same workload with
the same seed and batch order through optbench's trial loop, alternating in one process
(the machine is shared and noisy: only a side-by-side ratio means anything):

* native: the simple form, ``make_optimizer(params, hparams, ctx)``;
* algoperf: an AlgoPerf-style ``submission.py`` doing what AlgoPerf's baselines do each step:
  ``data_selection`` -> ``next(input_queue)``, ``update_params`` -> ``zero_grad``,
  ``workload.model_fn``, ``workload.loss_fn`` (dict batch, weights), ``summed / n_valid``,
  ``backward``, ``step``.

Both are timed by the trial's own submission clock (batch fetch + update), evals pushed
past the end, and by the CPU time the process spends (the difference between a 2N- and an
N-step trial): on a shared machine the wall clock swings by ±20 % from round to round, CPU
time much less. The two submissions take the same steps, so their losses match (printed).

    python benchmarks/algoperf_adapter_overhead.py                   # mnist1d_cnn, N = 1,000 × 5 rounds
    python benchmarks/algoperf_adapter_overhead.py --workload digits_mlp --steps 2000 --rounds 7

Goal (issue 15): ratio ≤ 1.03 per step on CPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

import torch

from optbench.spec import Budget, EvalPolicy, TrialRuntime, TrialSpec
from optbench.trial import run_trial
from optbench.workloads import find_workload

NATIVE = """
import torch

def make_optimizer(params, hparams, ctx):
    return torch.optim.AdamW(params, lr=hparams["learning_rate"], weight_decay=hparams["weight_decay"])
"""

ALGOPERF = """
import torch

from algoperf import spec


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    return {"optimizer": torch.optim.AdamW(model_params.parameters(), lr=hyperparameters.learning_rate,
                                           weight_decay=hyperparameters.weight_decay)}


def update_params(workload, current_param_container, current_params_types, model_state, hyperparameters,
                  batch, loss_type, optimizer_state, eval_results, global_step, rng):
    model = current_param_container
    optimizer_state["optimizer"].zero_grad(set_to_none=True)
    logits, new_model_state = workload.model_fn(
        params=model, augmented_and_preprocessed_input_batch=batch, model_state=model_state,
        mode=spec.ForwardPassMode.TRAIN, rng=rng, update_batch_norm=True)
    losses = workload.loss_fn(label_batch=batch["targets"], logits_batch=logits, mask_batch=batch.get("weights"),
                              label_smoothing=0.0)
    (losses["summed"] / losses["n_valid_examples"]).backward()
    optimizer_state["optimizer"].step()
    return optimizer_state, current_param_container, new_model_state


def data_selection(workload, input_queue, optimizer_state, current_param_container, model_state,
                   hyperparameters, global_step, rng):
    return next(input_queue)
"""

HPARAMS = {"learning_rate": 1e-3, "weight_decay": 1e-4}


def write_submissions(root: Path) -> dict[str, Path]:
    folders = {}
    for name, code in (("native", NATIVE), ("algoperf", ALGOPERF)):
        folders[name] = root / name
        folders[name].mkdir()
        (folders[name] / "submission.py").write_text(textwrap.dedent(code).lstrip())
    return folders


def timed(workload, folder: Path, steps: int, seed: int, threads: int) -> tuple[float, float, float]:
    """(submission seconds, process CPU seconds, last train/loss) of one trial of ``steps`` steps."""
    cpu = time.process_time()
    outcome = run_trial(TrialSpec(workload, folder.name, str(folder), HPARAMS, seed=seed, stop_at_target=False),
                        TrialRuntime(num_threads=threads))
    cpu = time.process_time() - cpu
    assert outcome.result.status == "budget_exhausted" and outcome.result.steps == steps, outcome.result
    return outcome.result.submission_time, cpu, outcome.evals[-1]["train/loss"]


def per_step(workload, folder: Path, steps: int, seed: int, threads: int) -> tuple[float, float, float]:
    """Seconds per step by the submission clock (wall) and in CPU time, and the last loss.

    CPU time is what the process itself spent, so it is much less disturbed by other work on
    the machine than wall time; it is taken as the difference between a 2N-step and an N-step
    trial, so set-up and the (two) evals cancel out.
    """
    with_budget = dataclasses.replace(workload, budget=Budget(1e9, workload.budget.step_hint, max_steps=steps))
    twice = dataclasses.replace(workload, budget=Budget(1e9, workload.budget.step_hint, max_steps=2 * steps))
    _, cpu_once, _ = timed(with_budget, folder, steps, seed, threads)
    wall, cpu_twice, loss = timed(twice, folder, 2 * steps, seed, threads)
    return wall / (2 * steps), (cpu_twice - cpu_once) / steps, loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="mnist1d_cnn")
    parser.add_argument("--steps", type=int, default=1000, help="N: each round runs N and 2N steps per form")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    wl = dataclasses.replace(find_workload(args.workload), eval=EvalPolicy(every_steps=10 * args.steps))
    folders = write_submissions(Path(tempfile.mkdtemp(prefix="optbench-algoperf-bench-")))
    warm = dataclasses.replace(wl, budget=Budget(1e9, 1, max_steps=200))
    for folder in folders.values():  # warm-up: caches, allocator, thread pool, imports
        timed(warm, folder, 200, 0, args.threads)

    walls, cpus = {"native": [], "algoperf": []}, {"native": [], "algoperf": []}
    wall_ratios, cpu_ratios = [], []
    for round_ in range(args.rounds):
        order = ("native", "algoperf") if round_ % 2 == 0 else ("algoperf", "native")
        wall, cpu, loss = {}, {}, {}
        for name in order:
            wall[name], cpu[name], loss[name] = per_step(wl, folders[name], args.steps, round_, args.threads)
            walls[name].append(wall[name])
            cpus[name].append(cpu[name])
        wall_ratios.append(wall["algoperf"] / wall["native"])
        cpu_ratios.append(cpu["algoperf"] / cpu["native"])
        print(f"round {round_}: µs/step wall {1e6 * wall['native']:.0f} vs {1e6 * wall['algoperf']:.0f} "
              f"(ratio {wall_ratios[-1]:.4f}), CPU {1e6 * cpu['native']:.0f} vs {1e6 * cpu['algoperf']:.0f} "
              f"(ratio {cpu_ratios[-1]:.4f}); last train/loss {loss['native']:.6f} vs {loss['algoperf']:.6f}",
              flush=True)
    med = statistics.median
    print(f"\n{args.workload}, {2 * args.steps} steps, {args.threads} thread(s), median µs/step: "
          f"native {1e6 * med(walls['native']):.1f} wall / {1e6 * med(cpus['native']):.1f} CPU, "
          f"algoperf {1e6 * med(walls['algoperf']):.1f} wall / {1e6 * med(cpus['algoperf']):.1f} CPU")
    for what, ratios in (("wall (submission clock)", wall_ratios), ("CPU time", cpu_ratios)):
        print(f"adapter overhead per step, {what}: median ratio {med(ratios):.4f} ({100 * (med(ratios) - 1):+.2f} %), "
              f"min {min(ratios):.4f}, max {max(ratios):.4f}  (goal ≤ 1.03)")


if __name__ == "__main__":
    main()
