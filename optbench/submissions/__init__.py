"""Submissions (docs/design.md §3): finding a folder, reading it, and the forms it may be written in.

A submission folder holds ``submission.py`` or ``submission.yaml`` plus a search space
(``search_space.yaml`` or AlgoPerf's ``tuning_search_space.json``):

- :mod:`.folder`: finding and reading a folder without running its code (name, files, code hash);
- :mod:`.loading`: importing ``submission.py`` in the worker and telling which form it is
  (:mod:`.base`: what every loaded form shares);
- one module per form, each implementing :class:`optbench.spec.SubmissionForm`, the one
  calling convention of the trial loop: :mod:`.simple` (``make_optimizer``), :mod:`.full`
  (optbench's ``init_optimizer_state``/``update_params``), :mod:`.yaml_form` (an optimizer
  class named by dotted path), :mod:`.algoperf` (an AlgoPerf PyTorch ``submission.py``,
  unchanged: :mod:`.algoperf_files` tells it from the code, :mod:`.algoperf_workload` shows it
  the workload as AlgoPerf's ``Workload``, :mod:`.import_aliases` makes ``algoperf`` importable);
- :mod:`.schedules`: the warm-up + cosine schedule the baselines (and users) build on.
"""

from optbench.submissions.base import LoadedSubmission
from optbench.submissions.folder import (
    BUILTIN_SUBMISSIONS_DIR,
    SEARCH_SPACE_FILES,
    SubmissionFolder,
    check_distinct,
    code_hash,
    discover,
    find_submission,
    read_submission,
    submission_dirs,
)
from optbench.submissions.loading import load_folder, load_submission
from optbench.submissions.schedules import SCHEDULE_KEYS, warmup_schedule

__all__ = [
    "BUILTIN_SUBMISSIONS_DIR", "SEARCH_SPACE_FILES", "SCHEDULE_KEYS", "LoadedSubmission", "SubmissionFolder",
    "check_distinct", "code_hash", "discover", "find_submission", "load_folder", "load_submission", "read_submission", "submission_dirs",
    "warmup_schedule",
]
