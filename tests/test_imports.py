"""`import optbench` and `optbench --help` must not import torch (docs/design.md §7)."""

import subprocess
import sys


def test_import_optbench_does_not_import_torch():
    code = "import sys, optbench, optbench.cli, optbench.spec, optbench.store; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_help_does_not_import_torch():
    code = ("import sys; sys.argv=['optbench','--help']\nfrom optbench.cli import app\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\nprint('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "NO-TORCH" in out and "run" in out


def test_version():
    out = subprocess.run([sys.executable, "-m", "optbench.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("optbench ")
