"""Loading a submission in the worker: import ``submission.py`` and tell which form it is written in.

Each form is a class implementing :class:`optbench.spec.SubmissionForm`; :data:`PYTHON_FORMS`
lists the forms of ``submission.py`` in the order they are tried (the first whose
:meth:`~LoadedSubmission.matches` accepts the module wins). ``submission.yaml`` is always
:class:`~optbench.submissions.yaml_form.YamlForm`.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

from optbench.errors import OptbenchError
from optbench.spec import Context
from optbench.submissions.folder import SubmissionFolder, read_submission


class LoadedSubmission:
    """A submission ready to train: its folder, its self-tuning defaults, and the form's four calls.

    Subclasses (one per form) implement ``init``/``update``/``prepare_for_eval`` and may
    override ``batch_size``; see :class:`optbench.spec.SubmissionForm`.
    """

    form_name: ClassVar[str]  #: "simple", "full", "yaml" ...
    describes: ClassVar[str]  #: what a file must define to be of this form (for error messages)

    def __init__(self, folder: SubmissionFolder, module: ModuleType | None = None):
        self.folder, self.module = folder, module

    @classmethod
    def matches(cls, module: ModuleType) -> bool:
        """True when ``module`` is written in this form."""
        return False

    # -- what the folder says ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def path(self) -> Path:
        return self.folder.path

    @property
    def code_hash(self) -> str:
        return self.folder.code_hash

    @property
    def search_space_path(self) -> Path | None:
        return self.folder.search_space_path

    @property
    def defaults(self) -> dict[str, Any]:
        """The self-tuning hyperparameters: ``DEFAULT_HPARAMS`` in submission.py."""
        return dict(getattr(self.module, "DEFAULT_HPARAMS", None) or {})

    def resolve_hparams(self, hparams: dict[str, Any] | None) -> dict[str, Any]:
        """The submission's defaults, overridden by the given (tuned or ``--hparams``) values."""
        return {**self.defaults, **(hparams or {})}

    # -- the form's calls -------------------------------------------------------------------------
    def batch_size(self, workload_name: str) -> int | None:
        fn = getattr(self.module, "get_batch_size", None)
        return int(fn(workload_name)) if fn else None

    def init(self, model: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        raise NotImplementedError

    def update(self, model: Any, batch: Any, loss_fn: Any, state: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        raise NotImplementedError

    def prepare_for_eval(self, model: Any, state: Any, hparams: dict[str, Any], ctx: Context) -> Any:
        return state


def python_forms() -> list[type[LoadedSubmission]]:
    """The forms of submission.py, in the order they are tried."""
    from optbench.submissions.full import FullForm
    from optbench.submissions.simple import SimpleForm

    return [FullForm, SimpleForm]


def import_file(path: Path, module_name: str) -> ModuleType:
    """Import a submission file; its own folder is importable too (helpers beside it)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise OptbenchError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
        where = f"{path}:{frames[-1].lineno}" if frames else str(path)
        raise OptbenchError(f"{where}: failed to import: {type(exc).__name__}: {exc}") from None
    finally:
        sys.path.remove(str(path.parent))
    sys.modules[module_name] = module
    return module


def load_folder(folder: SubmissionFolder) -> LoadedSubmission:
    """Import ``folder``'s code and return it as the form it is written in."""
    if folder.form == "yaml":
        from optbench.submissions.yaml_form import YamlForm

        return YamlForm.load(folder)
    module = import_file(folder.source, f"optbench_submission_{folder.name}_{folder.code_hash}")
    defaults = getattr(module, "DEFAULT_HPARAMS", None)
    if defaults is not None and not isinstance(defaults, dict):
        raise OptbenchError(f"{folder.source}: DEFAULT_HPARAMS must be a dict, got {type(defaults).__name__}")
    forms = python_forms()
    for form in forms:
        if form.matches(module):
            return form(folder, module)
    raise OptbenchError(f"{folder.source}: defines neither " + " nor ".join(f.describes for f in forms))


def load_submission(folder: str | Path) -> LoadedSubmission:
    """Read and import a submission (in the worker process)."""
    return read_submission(Path(folder)).load()
