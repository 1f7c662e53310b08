"""Progress of a run as it goes: counts, the best time-to-target per workload, an ETA.

Implements :class:`optbench.experiment.Progress`.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from rich.markup import escape

from optbench import store
from optbench.report.format import clock_time
from optbench.spec import ERROR_STATUSES, FinishedTrial, TrialSpec


def outcome_text(done: FinishedTrial) -> str:
    """``reached at step 350 (2.31 s)``, or the status and its reason, in a few words."""
    r = done.result
    if r.reached:
        return f"reached at step {r.steps_to_target} ({r.time_to_target:.2f} s)"
    if r.status == "budget_exhausted":
        best = f", best {r.best_metric:.4g}" if r.best_metric is not None else ""
        return f"budget exhausted after {r.steps} steps{best}"
    return f"{r.status}: {r.error}" if r.error else r.status


class Progress:
    """Counts, the best time-to-target per workload, and an ETA, shown as the run goes.

    On a terminal: a live rich panel (redrawn a few times a second) above which each
    finished trial prints one line. Elsewhere (CI, logs, pipes): one plain line per
    finished trial, with the counts and the ETA, flushed at once. The executor calls
    :meth:`started`, :meth:`eval` and :meth:`retry` from its threads; :meth:`finished`
    runs in the main thread.
    """

    def __init__(self, console: Any, live: bool | None = None, workers: int = 1):
        self.console = console
        self.live_mode = console.is_terminal if live is None else live
        self.workers = workers
        self.lock = threading.Lock()
        self.total = self.done = self.failed = self.skipped = 0
        self.running: dict[str, dict[str, Any]] = {}
        self.best: dict[str, tuple[float, str]] = {}  # workload -> (time to target, submission)
        self.left_budget: dict[str, float] = {}  # folder -> budget seconds, for trials not finished
        self.start = time.monotonic()
        self._live = None

    # -- called by run_experiment and the executor ------------------------------------------------
    def begin(self, specs: list[TrialSpec], todo: list[TrialSpec], root: Path) -> None:
        self.total, self.skipped = len(specs), len(specs) - len(todo)
        self.left_budget = {s.folder: s.budget_seconds for s in todo}
        self._load_best(root, {s.folder for s in todo})
        self.start = time.monotonic()
        if self.skipped:
            rest = f"running the other {len(todo)}" if todo else "nothing left to run"
            self.console.print(f"{self.skipped} of {self.total} trials already complete; {rest}", highlight=False)
        if self.live_mode and todo:
            from rich.live import Live

            self._live = Live(self, console=self.console, refresh_per_second=4, transient=True)
            self._live.start()

    def started(self, spec: TrialSpec) -> None:
        with self.lock:
            self.running[spec.folder] = {"step": 0, "time": 0.0, "since": time.monotonic()}

    def eval(self, spec: TrialSpec, row: dict[str, Any]) -> None:
        with self.lock:
            if spec.folder in self.running:
                self.running[spec.folder].update(step=row.get("step", 0), time=row.get("submission_time", 0.0))

    def retry(self, done: FinishedTrial) -> None:
        self.console.print(f"  {done.spec.folder}: {done.result.error}; running it once more", highlight=False,
                           markup=False)

    def finished(self, done: FinishedTrial) -> None:
        r, folder = done.result, done.spec.folder
        with self.lock:
            self.running.pop(folder, None)
            self.left_budget.pop(folder, None)
            self.done += 1
            self.failed += r.status in ERROR_STATUSES
            if r.reached and r.time_to_target is not None:
                workload = done.spec.workload.name
                if workload not in self.best or r.time_to_target < self.best[workload][0]:
                    self.best[workload] = (r.time_to_target, done.spec.submission)
        number = f"[{self.skipped + self.done}/{self.total}]"
        if self.live_mode:
            style = "green" if r.reached else "yellow" if r.status == "budget_exhausted" else "red"
            self.console.print(f"{escape(number)} {escape(folder)}: [{style}]{escape(outcome_text(done))}[/]", highlight=False)
        else:
            line = f"{number} {folder}: {outcome_text(done)} | {self.counts()}, ETA {clock_time(self.eta())}"
            print(line, file=self.console.file, flush=True)

    def end(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    # -- what is shown ----------------------------------------------------------------------------
    def left(self) -> int:
        return self.total - self.skipped - self.done - len(self.running)

    def counts(self) -> str:
        return f"done {self.skipped + self.done}, running {len(self.running)}, failed {self.failed}, left {self.left()}"

    def eta(self) -> float | None:
        """Seconds until the plan is done: this run's pace once a trial finished, else the budgets."""
        elapsed = time.monotonic() - self.start
        remaining = self.left() + len(self.running)
        if remaining == 0:
            return 0.0
        if self.done:  # running trials are, on average, half done
            return elapsed / self.done * (self.left() + 0.5 * len(self.running))
        return sum(self.left_budget.values()) / max(self.workers, 1)

    def _load_best(self, root: Path, todo: set[str]) -> None:
        """The best times among trials finished before this run (a resume)."""
        for path in store.trial_files(root):
            if str(path.parent.relative_to(root)) in todo:
                continue
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            ttt, workload = data.get("time_to_target"), data.get("workload")
            if data.get("status") == "reached" and ttt is not None and workload:
                if workload not in self.best or ttt < self.best[workload][0]:
                    self.best[workload] = (ttt, data.get("submission", "?"))
            self.failed += data.get("status") in ERROR_STATUSES

    def __rich__(self) -> Any:
        from rich.table import Table

        grid = Table.grid(padding=(0, 1))
        grid.add_row(f"[bold]trials[/] {self.counts()}   elapsed {clock_time(time.monotonic() - self.start)}"
                     f"   ETA {clock_time(self.eta())}")
        with self.lock:
            running = sorted(self.running.items())
            best = sorted(self.best.items())
        for folder, info in running[:8]:
            grid.add_row(f"  [cyan]running[/] {folder}: step {info['step']}, {info['time']:.1f} s "
                         f"({clock_time(time.monotonic() - info['since'])} wall)")
        if len(running) > 8:
            grid.add_row(f"  ... and {len(running) - 8} more running")
        if best:
            grid.add_row("  [bold]best[/] " + " · ".join(f"{w}: {s} {t:.2f} s" for w, (t, s) in best))
        return grid
