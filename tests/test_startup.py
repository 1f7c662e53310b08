"""`optbench run`'s own process never imports torch on a CPU build (issue 13, item 3): torch took
4-6 s of CPU there, beside the workers' own import of it, plus 2.4 s of teardown at exit, for two
facts of experiment.json. The facts are the ones torch itself gives. The start-up's time is
measured by benchmarks/startup.py, not asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from optbench import provenance
from tests.conftest import REPO, write

GPU_BUILD = not provenance.torch_has_no_gpu_library()


def python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.slow  # two fresh interpreters, one importing torch
def test_the_environment_record_says_what_torch_says_without_importing_it():
    recorded = json.loads(python("import json, sys\nfrom optbench.experiment import environment\n"
                                 "facts = environment()\n"
                                 "print(json.dumps({**facts, 'imported': 'torch' in sys.modules}))"))
    truth = json.loads(python("import json, torch\nprint(json.dumps({'torch': torch.__version__, "
                              "'cuda_available': torch.cuda.is_available()}))"))
    assert recorded["torch"] == truth["torch"]
    assert recorded["cuda_available"] == truth["cuda_available"]
    assert recorded["imported"] is GPU_BUILD  # a build that could have CUDA is asked; one that cannot is not


def test_the_git_state_is_recorded_only_for_optbench_source(tmp_path):
    """Installed into a virtualenv inside someone's project, optbench must not record the project's commit."""
    import importlib.util
    import shutil

    assert provenance.source_checkout() == (REPO if (REPO / ".git").exists() else None)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    installed = tmp_path / ".venv" / "lib" / "site-packages" / "optbench" / "provenance.py"
    installed.parent.mkdir(parents=True)
    shutil.copy(provenance.__file__, installed)
    (installed.parent / "__init__.py").write_text("")
    spec = importlib.util.spec_from_file_location("installed_provenance", installed)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.source_checkout() is None


@pytest.mark.slow
@pytest.mark.skipif(GPU_BUILD, reason="a torch build with CUDA is imported to ask it (by design)")
def test_optbench_run_does_not_import_torch_in_its_own_process(tmp_path, tiny_workloads):
    report = tmp_path / "modules.json"
    script = write(tmp_path / "bin" / "optbench", f"""
        import atexit, json, sys
        from optbench.cli import main
        if __name__ == "__main__":
            atexit.register(lambda: open({str(report)!r}, "w").write(json.dumps(sorted(sys.modules))))
            sys.exit(main())
    """)
    proc = subprocess.run([sys.executable, str(script), "run", "--workloads", "tiny_digits", "--submissions", "adamw",
                           "--workloads-dir", str(tiny_workloads), "--results", str(tmp_path), "--name", "x"],
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    trial = json.loads(next((tmp_path / "x").rglob("trial.json")).read_text())
    assert trial["status"] == "reached", trial.get("error")
    assert "torch" not in json.loads(report.read_text())
