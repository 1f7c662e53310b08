"""A submission that fails to import is named by file and line, however its path was given
(relative paths used to lose the line: traceback frames carry absolute file names)."""

from __future__ import annotations

import pytest

from tests.conftest import cli, write


def one_line(proc) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.mark.parametrize("given", ["my_opt", "./my_opt", "sub/../my_opt"])
def test_an_import_error_names_file_and_line_for_a_relative_path(tmp_path, given):
    write(tmp_path / "my_opt" / "submission.py", """
        DEFAULT_HPARAMS = {}

        raise ValueError("planted at line 3")
    """)
    (tmp_path / "sub").mkdir()
    line = one_line(cli("validate", given, cwd=tmp_path))
    assert "my_opt/submission.py:3: failed to import: ValueError: planted at line 3" in line, line


def test_an_error_in_a_helper_beside_it_names_the_helper(tmp_path):
    write(tmp_path / "my_opt" / "submission.py", "import helper\nDEFAULT_HPARAMS = {}\n")
    write(tmp_path / "my_opt" / "helper.py", "x = 1\nraise KeyError('planted')\n")
    line = one_line(cli("validate", "my_opt", cwd=tmp_path))
    assert "my_opt/helper.py:2: failed to import: KeyError: 'planted'" in line, line
    write(tmp_path / "my_opt" / "helper.py", "def f(:\n")
    line = one_line(cli("validate", "my_opt", cwd=tmp_path))
    assert "my_opt/helper.py:1: syntax error" in line, line
