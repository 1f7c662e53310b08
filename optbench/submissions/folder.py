"""A submission folder as files: found by name or path, read and hashed without running its code.

Checking a folder needs no torch; loading the code (:func:`optbench.submissions.loading.load_folder`)
happens in the worker process that runs the trial.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from optbench import builtin, safeio
from optbench.errors import OptbenchError
from optbench.safeio import path_part

#: The baseline submissions, shipped inside the package (the repository's top-level submissions/ links to them).
BUILTIN_SUBMISSIONS_DIR = builtin.SUBMISSIONS_DIR
SEARCH_SPACE_FILES = ("search_space.yaml", "search_space.yml", "tuning_search_space.json")


def submission_dirs(extra: list[Path] | None = None) -> list[Path]:
    """Where submissions are looked up: ``--submissions-dir`` folders first, then the built-ins."""
    return safeio.search_folders(extra, "--submissions-dir", BUILTIN_SUBMISSIONS_DIR)


def discover(extra: list[Path] | None = None) -> dict[str, Path]:
    """Submission name (folder name) → folder; earlier folders shadow later ones."""
    found: dict[str, Path] = {}
    for base in reversed(submission_dirs(extra)):
        if base.is_dir():
            for folder in sorted(p for p in base.iterdir() if p.is_dir()):
                if (folder / "submission.py").is_file() or (folder / "submission.yaml").is_file():
                    found[folder.name] = folder
    return found


def code_hash(folder: Path) -> str:
    """A hash of every source/config file in the folder, so a changed submission is noticed."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and path.suffix in (".py", ".yaml", ".yml", ".json") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class SubmissionFolder:
    """What can be known of a submission without running its code."""

    name: str
    path: Path
    form: Literal["python", "yaml", "algoperf"]  #: "python": simple or full, known once loaded; "algoperf":
    #: AlgoPerf's own API, told from the code (optbench.submissions.algoperf_files)
    code_hash: str
    search_space_path: Path | None
    config: dict[str, Any] = field(default_factory=dict)  #: submission.yaml's content (yaml and algoperf forms)
    hparam_names: frozenset[str] | None = None  #: the names it declares (optbench.submissions.declared);
    #: None when they cannot be known without running it
    hparam_names_from: str = ""  #: where it declares them, for a refusal ("DEFAULT_HPARAMS in submission.py")

    def check_hparams(self, names: Any, source: str) -> None:
        """Refuse (one line, exit 2, "did you mean") a hyperparameter name this submission does not declare."""
        from optbench.submissions.declared import check_hparam_names

        check_hparam_names(names, self.hparam_names, source, self.hparam_names_from)

    @property
    def source(self) -> Path:
        return self.path / ("submission.yaml" if self.form == "yaml" else "submission.py")


def read_submission(folder: Path) -> SubmissionFolder:
    """Check a submission folder's files (no code is run), its search space's names included:
    every command that runs a submission (run, validate, calibrate, a resume) reads it here."""
    return _with_checked_names(_read_files(Path(folder)))


def _with_checked_names(sub: SubmissionFolder) -> SubmissionFolder:
    """``sub`` with the names it declares; a search-space name it does not declare is refused."""
    from optbench.submissions.declared import declared_names
    from optbench.tuning import spaces

    space = spaces.load_search_space(sub.search_space_path) if sub.search_space_path else None
    names, where = declared_names(sub.form, sub.source, sub.config, space.names if space else None)
    sub = dataclasses.replace(sub, hparam_names=names, hparam_names_from=where)
    if space is not None:
        sub.check_hparams(space.names, str(sub.search_space_path))
    return sub


def _read_files(folder: Path) -> SubmissionFolder:
    search_space = next((folder / f for f in SEARCH_SPACE_FILES if (folder / f).is_file()), None)
    if (folder / "submission.py").is_file():
        from optbench.submissions.algoperf_files import detect

        algoperf = detect(folder)  # AlgoPerf's own API, told from the code without running it
        if algoperf is not None:
            return SubmissionFolder(folder.name, folder, "algoperf", code_hash(folder), search_space, config=algoperf)
        return SubmissionFolder(folder.name, folder, "python", code_hash(folder), search_space)
    if (folder / "submission.yaml").is_file():
        from optbench.schemas import check
        from optbench.submissions.schema import SubmissionYaml

        source = folder / "submission.yaml"
        config = safeio.read_yaml(source) or {}
        check(SubmissionYaml, config, str(source))
        _check_defaults(config.get("defaults") or {}, source)
        return SubmissionFolder(folder.name, folder, "yaml", code_hash(folder), search_space, config=config)
    raise OptbenchError(f"{folder}: not a submission folder (no submission.py or submission.yaml in it)")


def _check_defaults(defaults: dict[str, Any], source: Path) -> None:
    """submission.yaml's defaults: named by strings, valued by finite numbers, booleans, strings or lists."""
    from optbench.tuning.spaces import parse_hparams_values

    parse_hparams_values(defaults, f"{source}: defaults")


def check_distinct(found: list[SubmissionFolder]) -> None:
    """Refuse the same submission twice (by name, or a name and a path to the same folder): both would
    write the same trial folders."""
    names, paths = set(), set()
    for sub in found:
        path = Path(sub.path).resolve()
        if sub.name in names or path in paths:
            raise OptbenchError(f"--submissions: {sub.name} ({sub.path}) is given twice; name each submission once")
        names.add(sub.name)
        paths.add(path)


def find_submission(name_or_path: str, extra: list[Path] | None = None) -> SubmissionFolder:
    """A submission by name (a folder under submissions/ or --submissions-dir) or by path."""
    if "/" in name_or_path or Path(name_or_path).is_dir() and not discover(extra).get(name_or_path):
        found = read_submission(Path(name_or_path))
        path_part(found.name, f"submission {name_or_path}")  # its folder's name names its results folder
        return found
    known = discover(extra)
    if name_or_path not in known:
        raise OptbenchError(
            f"unknown submission {name_or_path!r}; known: {', '.join(sorted(known))} "
            "(see `optbench list submissions`, or pass --submissions-dir or a folder path)"
        )
    return read_submission(known[name_or_path])
