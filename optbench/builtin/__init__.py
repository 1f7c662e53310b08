"""The built-in workloads, suites and baseline submissions: package data, so they ship in the wheel.

``optbench/builtin/workloads`` (the YAML files and ``suites.yaml``) and
``optbench/builtin/submissions`` (one folder per baseline) are the only copies. The
repository's top-level ``workloads`` and ``submissions`` are symbolic links to them, so a
reader of the repository finds them where they look, and `pip install .`, a wheel or an
sdist carries them inside the package (``[tool.setuptools.package-data]`` in pyproject.toml)
instead of leaving them behind in the source tree.

They are located with :mod:`importlib.resources`, which finds them wherever optbench is
imported from: a source checkout, an editable install or site-packages. The rest of
optbench reads them as ordinary folders (globbing, copying a submission to a Ray worker),
so an installation that is not on the file system (a zip) is refused in one line.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from optbench.errors import OptbenchError


def _folder(name: str) -> Path:
    resource = files(__name__) / name
    path = Path(str(resource))
    if not path.is_dir():
        raise OptbenchError(f"the built-in {name} are missing from this installation of optbench (looked in "
                            f"{resource}); reinstall it with `pip install optbench` or from a source checkout")
    return path


#: The built-in workloads: ``<suite>/<name>.yaml`` and ``suites.yaml``.
WORKLOADS_DIR = _folder("workloads")
#: The baseline submissions: ``<name>/submission.py`` or ``submission.yaml``, and a search space.
SUBMISSIONS_DIR = _folder("submissions")
