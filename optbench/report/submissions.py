"""``optbench list submissions``: every submission optbench finds, its form and search space.

One rich table; reading a folder hashes its code and detects its form without running it
(:func:`optbench.submissions.read_submission`), so listing is safe on any folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def print_submission_list(submissions_dir: list[Path], console: Any) -> None:
    """The table: name, form (python, yaml or algoperf), search space file, code hash, folder."""
    from rich.markup import escape
    from rich.table import Table

    from optbench import submissions as subs

    table = Table(title="Submissions")
    for column in ("name", "form", "search space", "code hash", "folder"):
        table.add_column(column)
    for name, folder in sorted(subs.discover(submissions_dir).items()):
        sub = subs.read_submission(folder)
        space = sub.search_space_path.name if sub.search_space_path else "–"
        form = sub.form if sub.form in ("yaml", "algoperf") else "python"
        table.add_row(*map(escape, (name, form, space, sub.code_hash, str(folder))))
    console.print(table)
