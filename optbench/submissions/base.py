"""What every submission form shares once loaded: its folder, its self-tuning defaults, and the
four calls of :class:`optbench.spec.SubmissionForm` that each form implements."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

from optbench.spec import Context
from optbench.submissions.folder import SubmissionFolder


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
        """The submission's defaults, overridden by the given (tuned or ``--hparams``) values. A name
        its defaults lack is refused: the command checked the names it could read without running
        the code (optbench.submissions.declared), this is the check of a computed DEFAULT_HPARAMS."""
        from optbench.submissions.declared import check_hparam_names

        defaults = self.defaults
        if defaults and hparams:
            check_hparam_names(hparams, frozenset(defaults), f"{self.name}'s hyperparameters",
                               self.folder.hparam_names_from or "its DEFAULT_HPARAMS")
        return {**defaults, **(hparams or {})}

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
