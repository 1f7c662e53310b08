"""`--executor ray` without Ray installed, and the executor options' own bad input: one line, exit 2.
These need no Ray (the first one hides it even where it is installed)."""

from __future__ import annotations

import sys

from tests.conftest import cli


def test_executor_ray_without_ray_says_how_to_install_it(tmp_path, tiny_workloads, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    proc = cli("run", "--workloads", "tiny_digits", "--submissions", "adamw", "--workloads-dir", tiny_workloads,
               "--results", tmp_path, "--name", "exp", "--executor", "ray")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'optbench[ray]'" in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "exp").exists()  # refused before anything was written


def test_bad_executor_options_are_refused_in_one_line(tmp_path, tiny_workloads):
    base = ["run", "--workloads", "tiny_digits", "--submissions", "adamw", "--workloads-dir", str(tiny_workloads),
            "--results", str(tmp_path)]
    for extra, expected in ((["--executor", "slurm"], "expected local or ray"),
                            (["--ray-address", "auto"], "go with --executor ray"),
                            (["--nproc-per-trial", "2", "--checkpoint"], "--checkpoint does not go with"),
                            (["--executor", "ray", "--gpus-per-trial", "1"], "--gpus-per-trial needs --device cuda")):
        proc = cli(*base, *extra)
        assert proc.returncode == 2, (extra, proc.stderr)
        assert expected in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, (extra, proc.stderr)
