"""Loading a submission in the worker: import ``submission.py`` and tell which form it is written in.

Each form is a class implementing :class:`optbench.spec.SubmissionForm` (on the base
:class:`~optbench.submissions.base.LoadedSubmission`); :data:`PYTHON_FORMS` lists the forms of
``submission.py`` in the order they are tried (the first whose ``matches`` accepts the module
wins). ``submission.yaml`` is always :class:`~optbench.submissions.yaml_form.YamlForm`; a file
written against AlgoPerf's own API (told before import, because importing it needs AlgoPerf's
names in place) is :class:`~optbench.submissions.algoperf.AlgoPerfForm`.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType

from optbench.errors import OptbenchError
from optbench.submissions.algoperf import AlgoPerfForm
from optbench.submissions.base import LoadedSubmission
from optbench.submissions.folder import SubmissionFolder, read_submission
from optbench.submissions.full import FullForm
from optbench.submissions.simple import SimpleForm
from optbench.submissions.yaml_form import YamlForm

#: The forms of submission.py, in the order they are tried (the first that matches wins).
PYTHON_FORMS: list[type[LoadedSubmission]] = [FullForm, SimpleForm]


def import_file(path: Path, module_name: str) -> ModuleType:
    """Import a submission file; its own folder is importable too (helpers beside it)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        where = _shown(path, exc.filename or "") or exc.filename or path
        raise OptbenchError(f"{where}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:
        frames = [(shown, f.lineno) for f in traceback.extract_tb(exc.__traceback__)
                  if (shown := _shown(path, f.filename)) is not None]
        where = f"{frames[-1][0]}:{frames[-1][1]}" if frames else str(path)
        raise OptbenchError(f"{where}: failed to import: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.remove(str(path.parent))
    sys.modules[module_name] = module
    return module


def _shown(path: Path, filename: str) -> Path | None:
    """``filename`` (of a traceback frame) as the user would name it, relative to how they gave
    ``path``, when it is a file of the submission's folder; else None. Frames carry absolute
    names even for a relative ``path``, so comparing them as strings lost the line number."""
    if not filename or filename.startswith("<"):
        return None
    folder = path.resolve().parent
    try:
        inside = Path(filename).resolve().relative_to(folder)
    except (ValueError, OSError):
        return None
    return path.parent / inside


def load_folder(folder: SubmissionFolder) -> LoadedSubmission:
    """Import ``folder``'s code and return it as the form it is written in."""
    if folder.form == "yaml":
        return YamlForm.load(folder)
    if folder.form == "algoperf":
        return AlgoPerfForm.load(folder)
    module = import_file(folder.source, f"optbench_submission_{folder.name}_{folder.code_hash}")
    defaults = getattr(module, "DEFAULT_HPARAMS", None)
    if defaults is not None and not isinstance(defaults, dict):
        raise OptbenchError(f"{folder.source}: DEFAULT_HPARAMS must be a dict, got {type(defaults).__name__}")
    for form in PYTHON_FORMS:
        if form.matches(module):
            return form(folder, module)
    raise OptbenchError(f"{folder.source}: defines neither " + " nor ".join(f.describes for f in PYTHON_FORMS))


def load_submission(folder: str | Path) -> LoadedSubmission:
    """Read and import a submission (in the worker process)."""
    return load_folder(read_submission(Path(folder)))
