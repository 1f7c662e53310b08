"""The report's "lab" section: the lecture's experiments, when a results folder holds them.

Why: the per-frequency-group losses (``group_loss``), the scale ladder's speed-ups and the loss
landscapes are answers to the lecture's questions; the report shows each one the results
folder can give, and nothing (no empty section) otherwise:

* group losses: a workload that logged ``group_loss`` (the ``optbench plot --groups`` figure);
* scaling: trials on rungs of a scale ladder (the ``optbench scaling`` figure, against adamw
  when it ran, else the first submission);
* landscapes: every ``landscape/landscape.png`` that ``optbench landscape`` wrote inside the
  folder (embedded as it is: it was drawn by the command).
"""

from __future__ import annotations

import base64
from typing import Any

from optbench.errors import OptbenchError
from optbench.report.collect import ReportData


def lab_items(data: ReportData) -> list[dict[str, Any]]:
    """``[{"title", "caption", "uri"}]``, in the order: group losses, scaling, landscapes."""
    from optbench.report.figures import svg_data_uri
    from optbench.report.groups import draw_group_losses, group_curves

    items = []
    for curves in group_curves(data):
        items.append({"title": f"Loss per class-frequency group: {curves.workload}",
                      "caption": "Training loss of each group of classes by training frequency (~10 % of the "
                                 "examples each; group 0 the most frequent). Does a submission stall on the rare "
                                 "groups? (Kunstner et al. 2024)",
                      "uri": svg_data_uri(draw_group_losses(curves))})
    items += _scaling_items(data)
    for path in sorted(data.root.glob("*/study_*/*/trial_*/landscape/landscape.png")):
        uri = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
        items.append({"title": f"Loss landscape: {path.parent.parent.relative_to(data.root)}",
                      "caption": "optbench landscape: init→final line, a random filter-normalised direction and "
                                 "plane through the final weights (Li et al. 2018), sharpness in the titles.",
                      "uri": uri})
    return items


def _scaling_items(data: ReportData) -> list[dict[str, Any]]:
    from optbench.report.figures import svg_data_uri
    from optbench.report.scaling import draw_scaling
    from optbench.scoring.scaling import rung_table, speedups

    if data.experiment is None or data.trials.empty:
        return []
    try:
        rungs = rung_table(data.root)
    except OptbenchError:
        return []
    subs = list(dict.fromkeys(rungs["submission"]))
    reference = "adamw" if "adamw" in subs else subs[0]
    table = speedups(rungs, reference)
    return [{"title": f"Speed-up against model size: {ladder}",
             "caption": f"Speed-up over {reference} (its time to target / each submission's, paired by study) "
                        "against parameter count; median and min-max over studies.",
             "uri": svg_data_uri(draw_scaling(table, ladder, reference, rungs.attrs.get("seconds_clock", "")))}
            for ladder in dict.fromkeys(table["ladder"])]
