"""How worker interpreters start: with this process's imports, whatever the working directory.

Two kinds of Python processes run trials: the ``forkserver`` of
:mod:`optbench.executors.local` (its children run the trials) and the ranks of a
data-parallel trial (:mod:`optbench.distributed`). Both are fresh interpreters, and a fresh
interpreter started with ``-c`` or ``-m`` puts the *working directory* first on
``sys.path``. From a directory that holds a folder named ``optbench`` (the parent of a
clone, a home with an ``optbench/`` results folder) the worker then imports that folder
instead of the optbench this process runs: with an editable install (setuptools' finder
comes after the path search) even an empty folder wins, and every trial died with
``ImportError: cannot import name '__version__' from 'optbench' (unknown location)``.

So a worker interpreter gets exactly this process's import path and nothing else:
:func:`forkserver_environment` starts the forkserver with ``PYTHONSAFEPATH=1`` (no working
directory on ``sys.path``; Python >= 3.11) and ``PYTHONPATH`` = this process's
``sys.path``, and :func:`worker_environment` undoes both in each trial's process, so that
what a trial starts itself (``python script.py``) sees the user's own environment. The
ranks set ``sys.path`` themselves (:func:`optbench.distributed.launch`).

When a worker still cannot start (a broken installation, a main script that does work at
import time), :func:`why_workers_cannot_start` finds the reason once, by starting one
interpreter the way the forkserver starts and preparing it the way a worker is prepared,
so that the trial's error is one line that says why instead of "worker process died".
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import subprocess
import sys
import threading
from typing import Iterator

#: Variables set while the forkserver starts; each trial's process gets the user's values back.
_IMPORT_VARIABLES = ("PYTHONSAFEPATH", "PYTHONPATH")


def import_path() -> list[str]:
    """This process's ``sys.path`` without the working directory's ``''`` and without missing entries."""
    return [p for p in sys.path if p and os.path.exists(p)]


@contextlib.contextmanager
def forkserver_environment() -> Iterator[None]:
    """``os.environ`` as the forkserver must inherit it, for the duration of its start.

    Besides the import path, ``OMP_WAIT_POLICY=PASSIVE`` unless the user set it: read once,
    when the forkserver's torch loads OpenMP (see :mod:`optbench.executors.local`); this
    process keeps its own."""
    values = {"PYTHONSAFEPATH": "1", "PYTHONPATH": os.pathsep.join(import_path())}
    if "OMP_WAIT_POLICY" not in os.environ:
        values["OMP_WAIT_POLICY"] = "PASSIVE"
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def worker_environment() -> dict[str, str | None]:
    """The user's values of the variables :func:`forkserver_environment` set (None: unset), for
    a trial's process to put back."""
    return {key: os.environ.get(key) for key in _IMPORT_VARIABLES}


def apply_environment(values: dict[str, str | None]) -> None:
    """Set (or, for None, remove) each variable in this process's environment."""
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


#: Run in a fresh interpreter started as the forkserver is: import the preload list as the
#: forkserver does, prepare as a worker is prepared (sys.path, working directory, main module),
#: import what unpickling a trial imports; print one JSON line saying what went wrong.
_PROBE = """
import json, pickle, sys, traceback
preload, data = pickle.load(sys.stdin.buffer)
for name in preload:
    try:
        __import__(name)
    except ImportError:
        pass
try:
    from multiprocessing import spawn
    spawn.prepare(data)
    import optbench.executors.local, optbench.trial
except BaseException as exc:
    package = sys.modules.get("optbench")
    where = list(getattr(package, "__path__", []) or [])
    print(json.dumps({"error": traceback.format_exception_only(type(exc), exc)[-1].strip(), "optbench": where}))
else:
    print(json.dumps({"error": None}))
"""


def why_workers_cannot_start(preload: list[str], timeout: float = 300) -> str | None:
    """Why a worker process died before it could run a trial, in one line; None when a worker
    started the same way starts fine (then the death was something else: a kill, memory)."""
    from multiprocessing import spawn, util

    import optbench

    data = spawn.get_preparation_data("probe")
    data.pop("authkey", None)  # never leaves this process
    with forkserver_environment():
        env = dict(os.environ)
    try:
        proc = subprocess.run([spawn.get_executable(), *util._args_from_interpreter_flags(), "-c", _PROBE],
                              input=pickle.dumps(([m for m in preload if m != "__main__"], data)),
                              env=env, capture_output=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"a test interpreter could not be started either: {type(exc).__name__}: {exc}"
    lines = proc.stdout.decode(errors="replace").strip().splitlines()
    try:
        report = json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = [line for line in proc.stderr.decode(errors="replace").splitlines() if line.strip()]
        return tail[-1].strip() if tail else f"a test interpreter exited with code {proc.returncode}"
    if report["error"] is None:
        return None
    ours = list(optbench.__path__)
    if report["optbench"] and report["optbench"] != ours:
        return (f"{report['error']} (workers import optbench from {', '.join(report['optbench'])}, "
                f"this process from {', '.join(ours)})")
    return report["error"]


class StartProblem:
    """:func:`why_workers_cannot_start`, looked for once per executor (by the first trial whose
    worker died before it started) and then the same answer for every other trial."""

    def __init__(self, preload: list[str]):
        self.preload = preload
        self._lock = threading.Lock()
        self._found: tuple[str | None] | None = None

    def find(self) -> str | None:
        from multiprocessing import forkserver

        with self._lock:
            if self._found is None:  # the forkserver's own list (a Ray worker adds "ray" to it)
                preload = getattr(forkserver._forkserver, "_preload_modules", None) or self.preload
                self._found = (why_workers_cannot_start(preload),)
            return self._found[0]
