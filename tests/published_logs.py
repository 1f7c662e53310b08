"""AlgoPerf's published raw logs, when a copy of their repository is on this machine.

mlcommons/submissions_algorithms keeps every trial's ``eval_measurements.csv`` of the v0.5 and
v0.6 leaderboards under ``previous_leaderboards/algoperf_v0X/logs/``. Nothing of it is in
optbench: a test or benchmark that wants the real logs copies the CSVs (and hparams.json) out
of a git copy of that repository into its own temporary folder, and skips when there is none.
Where the copy is: ``$OPTBENCH_ALGOPERF_REPO`` (a clone or bare mirror), else the mirror the
development machine's ``fetch`` tool leaves in /work/.mirror.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

MIRROR = Path("/work/.mirror/mlcommons+submissions_algorithms/repo")
#: The published v0.5 leaderboards (AlgoPerf's results page; docs/scoring.md quotes them).
V05_EXTERNAL = {"shampoo_submission": 0.7784, "schedule_free_adamw": 0.7077, "baseline": 0.5707}
V05_SELF = {"schedule_free_adamw": 0.8542, "baseline": 0.8194}
#: v0.6's external-tuning leaderboard (the repository's README).
V06_EXTERNAL = {"shampoo": 0.6244, "baseline": 0.4590}
WANTED = ("/eval_measurements.csv", "/hparams.json")


def repository() -> Path | None:
    """The git directory of a copy of mlcommons/submissions_algorithms, or None."""
    given = os.environ.get("OPTBENCH_ALGOPERF_REPO")
    for candidate in ([Path(given)] if given else []) + [MIRROR]:
        if candidate.is_dir() and subprocess.run(["git", "-C", str(candidate), "rev-parse", "--git-dir"],
                                                 capture_output=True).returncode == 0:
            return candidate
    return None


def extract(repo: Path, prefix: str, out: Path) -> int:
    """Copy every eval_measurements.csv and hparams.json under ``prefix`` (a path in the repository,
    e.g. previous_leaderboards/algoperf_v05/logs/external_tuning) at HEAD to ``out/<path under
    prefix>``; returns how many files. Blobs the copy lacks are skipped (a shallow mirror may leave
    large files out)."""
    tree = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", "HEAD", prefix], capture_output=True, text=True,
                          check=True).stdout
    items = [(meta.split()[2], path) for meta, path in (line.split("\t", 1) for line in tree.splitlines())
             if path.endswith(WANTED)]
    proc = subprocess.Popen(["git", "-C", str(repo), "cat-file", "--batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)

    def feed() -> None:  # in a thread: cat-file's output would fill the pipe while we still write
        assert proc.stdin is not None
        proc.stdin.write("".join(f"{sha}\n" for sha, _ in items).encode())
        proc.stdin.close()

    threading.Thread(target=feed, daemon=True).start()
    assert proc.stdout is not None
    written = 0
    for _, path in items:
        header = proc.stdout.readline().decode().split()
        if header[-1] == "missing":
            continue
        data = proc.stdout.read(int(header[2]))
        proc.stdout.read(1)
        dest = out / Path(path).relative_to(prefix)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        written += 1
    proc.wait()
    return written
