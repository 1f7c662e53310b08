"""Workers import the optbench that the command runs, whatever the working directory holds, and a
worker that cannot start says why in one line (issue 13, item 2).

The command runs as the `optbench` console script does (a script whose folder is sys.path[0]), and
finds optbench the way `pip install -e` makes it found: a finder on sys.meta_path after the path
search, installed in every interpreter (here by a sitecustomize module, as setuptools does with a
.pth file). From a directory holding an empty `optbench/` folder, every trial used to die
("cannot import name '__version__' from 'optbench' (unknown location)") and the run exited 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO, write

SITECUSTOMIZE = """
import importlib.util, sys
from importlib.machinery import PathFinder

class EditableFinder:  # what setuptools' editable install puts after the path search
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "optbench":
            return None
        return importlib.util.spec_from_file_location(
            name, {init!r}, submodule_search_locations=[{package!r}])

sys.meta_path.insert(sys.meta_path.index(PathFinder) + 1, EditableFinder)
"""

#: The console script pip writes, plus an optional line that runs when a worker re-runs it.
CONSOLE_SCRIPT = """
import sys
{extra}
from optbench.cli import main
if __name__ == "__main__":
    sys.exit(main())
"""


def run_like_a_user(tmp_path: Path, cwd: Path, extra: str = "") -> tuple[subprocess.CompletedProcess, dict]:
    """`optbench run` of one short logreg trial from ``cwd``; the process and the trial's trial.json."""
    site = write(tmp_path / "site" / "sitecustomize.py", SITECUSTOMIZE.format(
        init=str(REPO / "optbench" / "__init__.py"), package=str(REPO / "optbench"))).parent
    script = write(tmp_path / "bin" / "optbench", CONSOLE_SCRIPT.format(extra=extra))
    env = {**os.environ, "PYTHONPATH": str(site)}  # not the repository: optbench comes from the finder
    env.pop("PYTHONSAFEPATH", None)
    proc = subprocess.run([sys.executable, str(script), "run", "--workloads", "logreg", "--submissions", "adamw",
                           "--results", str(tmp_path / "results"),
                           "--name", "x"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    trials = list((tmp_path / "results" / "x").rglob("trial.json"))
    return proc, json.loads(trials[0].read_text()) if trials else {}


@pytest.mark.slow
@pytest.mark.parametrize("package", [False, True], ids=["empty optbench folder", "another optbench package"])
def test_a_run_from_a_directory_holding_an_optbench_folder_trains(tmp_path, package):
    """An empty folder made every trial fail; another optbench package (an older clone's) was
    imported by the workers, which then ran a mixture of code."""
    cwd, imported = tmp_path / "home", tmp_path / "the other optbench was imported"
    (cwd / "optbench").mkdir(parents=True)
    if package:
        (cwd / "optbench" / "__init__.py").write_text(f"open({str(imported)!r}, 'w').write(__file__)\n")
    proc, trial = run_like_a_user(tmp_path, cwd)
    assert proc.returncode == 0, proc.stderr
    assert trial["status"] in ("reached", "budget_exhausted"), trial.get("error")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert not imported.exists()


@pytest.mark.slow
def test_a_worker_that_cannot_start_says_why_in_one_line(tmp_path):
    """A main script that refuses to be re-run by workers: each trial's error is that refusal."""
    cwd = tmp_path / "home"
    cwd.mkdir()
    refuse = textwrap.dedent("""
        if __name__ == "__mp_main__":
            raise RuntimeError("this script is not meant to be imported by a worker")
    """)
    proc, trial = run_like_a_user(tmp_path, cwd, extra=refuse)
    assert proc.returncode == 1, proc.stderr
    assert trial["status"] == "failed"
    assert trial["error"] == ("worker process could not start (exit code 1): RuntimeError: this script is not "
                              "meant to be imported by a worker"), trial["error"]
    assert trial["error"] in proc.stdout


@pytest.mark.slow
def test_data_parallel_ranks_ignore_an_optbench_package_in_the_working_directory(tmp_path, monkeypatch):
    from optbench.executors.ddp import launch
    from tests.conftest import one_thread
    from tests.test_ddp import digits_spec

    write(tmp_path / "optbench" / "__init__.py", "raise ImportError('this is not optbench')\n")
    monkeypatch.chdir(tmp_path)
    outcome = launch(digits_spec(steps=20, nproc_per_trial=2), one_thread())
    assert outcome.result.status == "budget_exhausted", outcome.result.error
    assert outcome.result.steps == 20
