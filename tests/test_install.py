"""A non-editable install works anywhere (issue 13, item 1): the wheel carries every file of the
package, the built-in workloads, suites and baseline submissions among them, and the installed
`optbench` lists and runs them from a directory outside the repository, one that holds an
`optbench/` folder and lies in someone else's git repository.

The wheel is built from a copy of this working tree (tracked and untracked files, as git sees
them) and installed without its dependencies into a fresh virtualenv, which borrows them from
the environment running the tests (a path file), so the test needs no network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO, write


def working_tree_copy(dest: Path) -> Path:
    """The files git would commit (symbolic links as links), copied to ``dest``."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("building a wheel from the working tree needs git and a git checkout")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source, target = REPO / name, dest / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted, not yet committed
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
    return dest


def build_wheel(source: Path, out: Path) -> Path:
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(source)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        if "No module named pip" in proc.stderr or "setuptools" in proc.stderr:
            pytest.skip(f"cannot build a wheel here: {proc.stderr.strip().splitlines()[-1]}")
        raise AssertionError(proc.stderr)
    return next(out.glob("optbench-*.whl"))


def fresh_venv(folder: Path, wheel: Path) -> Path:
    """A virtualenv with the wheel installed (not editable) and this environment's packages borrowed."""
    venv.create(folder, with_pip=False)
    python = folder / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                           "-q", str(wheel)], env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    # only now: with this environment's packages visible, pip would take ours (or an editable one) for installed
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    ours = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    (Path(site) / "borrowed_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    assert (folder / "bin" / "optbench").is_file(), proc.stdout + proc.stderr
    return folder / "bin" / "optbench"


@pytest.mark.slow
def test_the_wheel_carries_the_built_ins_and_runs_them_from_anywhere(tmp_path):
    source = working_tree_copy(tmp_path / "source")
    wheel = build_wheel(source, tmp_path / "dist")

    shipped = {name for name in zipfile.ZipFile(wheel).namelist() if name.startswith("optbench/")}
    expected = {str(path.relative_to(source)) for path in (source / "optbench").rglob("*")
                if path.is_file() and "__pycache__" not in path.parts}
    assert shipped == expected  # every file of the package: code, built-ins, templates
    assert "optbench/builtin/workloads/suites.yaml" in shipped
    assert "optbench/builtin/submissions/adamw/submission.py" in shipped

    optbench = fresh_venv(tmp_path / "venv", wheel)
    home = tmp_path / "someone_elses_project"  # a git repository, with a folder named optbench
    (home / "optbench").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(home)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(optbench), *args], cwd=home, env=env, capture_output=True, text=True, timeout=600)

    suites = run("list", "suites")
    assert suites.returncode == 0, suites.stderr
    smoke = [line for line in suites.stdout.splitlines() if line.startswith("smoke")]
    assert smoke and smoke[0].endswith(": logreg, digits_mlp"), suites.stdout
    write(home / "my_optimizer" / "submission.py", """
        import torch
        DEFAULT_HPARAMS = {"learning_rate": 0.5}
        def make_optimizer(params, hparams, ctx):
            return torch.optim.SGD(params, lr=hparams["learning_rate"])
    """)
    proc = run("run", "--workloads", "logreg", "--submissions", "./my_optimizer,adamw", "--results", "results",
               "--name", "x")
    assert proc.returncode == 0, proc.stderr
    trials = [json.loads(path.read_text()) for path in (home / "results" / "x").rglob("trial.json")]
    assert sorted(t["submission"] for t in trials) == ["adamw", "my_optimizer"]
    for trial in trials:
        assert trial["status"] in ("reached", "budget_exhausted"), trial.get("error")
    record = json.loads((home / "results" / "x" / "experiment.json").read_text())
    submission = Path(record["submissions"]["adamw"]["path"])
    assert (tmp_path / "venv") in submission.parents  # the installed copy, not the repository's
    assert record["git"] == {}  # the project around the run is not optbench's source
