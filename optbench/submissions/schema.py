"""The schemas of a submission folder's ``submission.yaml`` (pydantic; docs/design.md §3 and §8).

Two formats share the file name: the ``yaml`` form's recipe (an optimizer, or groups of them, its
defaults) and, beside a ``submission.py``, AlgoPerf's companion (``form: algoperf``, import aliases).
The schema checks the top level: unknown keys refused, each key's type; the parts with a grammar of
their own are checked by their modules (``groups`` by optbench.submissions.groups, ``closure`` by
optbench.submissions.closures, ``aliases`` by optbench.submissions.import_aliases, default values by
optbench.tuning.parse_hparams_values). The folder's ``config`` stays the YAML's mapping.
"""

from __future__ import annotations

from typing import Annotated, Any

from optbench.schemas import Closed, expect

ALGOPERF_FORM = "algoperf"


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


class SubmissionYaml(Closed):
    """``submission.yaml`` of the yaml form (docs/design.md §3)."""

    optimizer: Annotated[str, expect("a dotted path such as torch.optim.AdamW", _text)] | None = None
    base: Annotated[str, expect("a dotted path such as torch.optim.AdamW", _text)] | None = None
    defaults: Annotated[dict, expect("a mapping of hyperparameter to value", lambda v: isinstance(v, dict))] = {}
    closure: Any = None
    groups: Any = None
    description: Any = ""


class CompanionYaml(Closed):
    """``submission.yaml`` beside an AlgoPerf ``submission.py``."""

    form: Annotated[str, expect(f"{ALGOPERF_FORM} (beside a submission.py the only form to declare; the others are "
                                "found from the code)", lambda v: v == ALGOPERF_FORM)] = ALGOPERF_FORM
    aliases: Any = None
    description: Any = ""
