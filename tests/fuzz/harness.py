"""Running one fuzz :class:`~tests.fuzz.corpus.Case` through the real CLI and judging the outcome.

Three ways to run a case, same judgement:

- :func:`run_inprocess`: typer's ``CliRunner`` in this process (the fast lane: no fork, no timeout,
  only cases that train nothing);
- :func:`run_forked`: a forked copy of this process runs ``optbench.cli.main`` with the case's argv,
  killed (with its whole process group) at a time limit: catches hangs, segfaults and ``os._exit``,
  and costs no new interpreter (benchmarks/fuzz_inputs.py uses it for the table);
- :func:`run_subprocess`: ``python -m optbench.cli`` in a new process group (the slow lane).

The verdicts: ``clean`` (exit 0, or exit 2 with exactly one ``error:`` line, the last on stderr, at most
:data:`MAX_LINE` characters, no traceback; ``compare`` may exit 1 for a regression, and ``run`` exit 1 with
one closing ``error:`` line when a trial failed and was recorded), ``traceback``,
``hang``, ``silent`` (exit 0 on an input the case says is invalid), ``unclean`` (any other exit, a
signal, several error lines or an overlong one) and ``escaped`` (a file written outside the results
folders the command was given).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz.corpus import Case, materialize

MAX_LINE = 500
#: Folders of the sandbox a command may write into: --results/--out targets and the experiment's own outputs.
WRITABLE = ("out", "experiment")
VERDICTS = ("clean", "traceback", "hang", "silent", "unclean", "escaped")
OUTSIDE = (Path("/tmp/optbench-fuzz-abs"), Path("/tmp/optbench-fuzz-escape"), Path("/tmp/x"))


@dataclass(frozen=True)
class Outcome:
    verdict: str
    code: int | None
    stdout: str
    stderr: str
    detail: str = ""


def _snapshot(root: Path) -> set[Path]:
    return {p for p in root.parent.rglob("*")}


def _outside_before() -> set[Path]:
    return {p for p in OUTSIDE if p.exists()}


def _escaped(root: Path, before: set[Path], outside_before: set[Path]) -> list[str]:
    new = _snapshot(root) - before
    bad = []
    for path in new:
        rel = path.relative_to(root.parent)
        if rel.parts[0] != root.name:
            if rel.parts[0] not in ("stdout", "stderr"):
                bad.append(str(rel))
            continue
        inner = path.relative_to(root).parts
        if inner and (inner[0] in WRITABLE or "__pycache__" in inner):
            continue
        bad.append(str(rel))
    bad += [str(p) for p in OUTSIDE if p.exists() and p not in outside_before]
    return sorted(bad)


def judge(case: Case, code: int | None, stdout: str, stderr: str, escaped: list[str], hung: bool = False) -> Outcome:
    if escaped:
        return Outcome("escaped", code, stdout, stderr, f"wrote outside the results folder: {escaped[:3]}")
    if hung:
        return Outcome("hang", code, stdout, stderr, "killed at the time limit")
    if "Traceback (most recent call last)" in stdout + stderr:
        return Outcome("traceback", code, stdout, stderr, stderr.strip().splitlines()[-1][:200] if stderr.strip() else "")
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    if code == 0 or (code == 1 and case.argv[0] == "compare" and not errors):
        if case.invalid:
            return Outcome("silent", code, stdout, stderr, "accepted an invalid input")
        return Outcome("clean", code, stdout, stderr)
    # exit 2: bad input; exit 1 from `run`: the run finished but a trial failed (recorded), said in one closing line
    if (code == 2 or (code == 1 and case.argv[0] == "run")) and len(errors) == 1 and lines[-1] == errors[0]:
        if len(errors[0]) > MAX_LINE:
            return Outcome("unclean", code, stdout, stderr, f"error line of {len(errors[0])} characters")
        return Outcome("clean", code, stdout, stderr, errors[0])
    return Outcome("unclean", code, stdout, stderr, f"exit {code}, {len(errors)} error line(s): {stderr[-200:]!r}")


def run_inprocess(case: Case, root: Path) -> Outcome:
    """Through typer's CliRunner; an OptbenchError is printed the way ``optbench.cli.main`` prints it."""
    from typer.testing import CliRunner

    from optbench.cli import app, error_line
    from optbench.errors import OptbenchError

    argv = materialize(case, root)
    before, outside_before = _snapshot(root), _outside_before()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(app, argv)
    finally:
        os.chdir(cwd)
    stdout, stderr, code = result.stdout, result.stderr, result.exit_code
    exc = result.exception
    if isinstance(exc, OptbenchError):
        stderr, code = stderr + error_line(exc) + "\n", exc.exit_code
    elif exc is not None and not isinstance(exc, SystemExit):
        import traceback

        stderr += "Traceback (most recent call last):\n" + "".join(traceback.format_exception(exc))
    return judge(case, code, stdout, stderr, _escaped(root, before, outside_before))


def run_forked(case: Case, root: Path, timeout: float) -> Outcome:
    """In a forked child (its own session, so that a hang is killed with every process it started)."""
    argv = materialize(case, root)
    before, outside_before = _snapshot(root), _outside_before()
    out_path, err_path = root.parent / "stdout", root.parent / "stderr"
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.setsid()
            os.chdir(root)
            with open(out_path, "wb") as out, open(err_path, "wb") as err:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
            sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0), write_through=True)
            sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", buffering=0), write_through=True)
            sys.argv = ["optbench", *argv]
            from optbench.cli import main

            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if not isinstance(exc.code, (int, type(None))):
                    print(exc.code, file=sys.stderr)
            except BaseException:  # noqa: BLE001 - what an uncaught exception would print
                import traceback

                traceback.print_exc()
                code = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    deadline = time.monotonic() + timeout
    hung, status = False, None
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            hung = True
            _kill_group(pid)
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.05)
    _kill_group(pid)  # anything the command left running
    code = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(errors="replace") if out_path.exists() else ""
    stderr = err_path.read_text(errors="replace") if err_path.exists() else ""
    for p in (out_path, err_path):
        p.unlink(missing_ok=True)
    return judge(case, code, stdout, stderr, _escaped(root, before, outside_before), hung)


def run_subprocess(case: Case, root: Path, timeout: float) -> Outcome:
    """The real command line in a new process (and process group)."""
    argv = materialize(case, root)
    before, outside_before = _snapshot(root), _outside_before()
    proc = subprocess.Popen([sys.executable, "-m", "optbench.cli", *argv], cwd=root, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True)
    hung = False
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        hung = True
        _kill_group(proc.pid)
        stdout, stderr = proc.communicate()
    _kill_group(proc.pid)
    return judge(case, proc.returncode, stdout, stderr, _escaped(root, before, outside_before), hung)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
