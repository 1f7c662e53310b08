"""Ruleset presets: ``algoperf-v06`` (the default) and ``algoperf-v05`` (docs/design.md §3).

A preset fixes trials per study, studies and the self-tuning budget multiplier, each
overridable by a flag (:func:`resolve_ruleset`). Self-tuning runs one trial per study and
passes no hyperparameters: the submission uses its own defaults. Reading presets imports
neither numpy nor scipy, so ``optbench run``'s checks stay cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from optbench.errors import OptbenchError
from optbench.tuning.spaces import join_names, quote_value

Ruleset = Literal["external", "self"]


@dataclass(frozen=True)
class Preset:
    """A published ruleset's numbers: external-tuning trials per study, studies, and how
    much longer a self-tuning submission may train (it pays for its own tuning)."""

    name: str
    trials: int
    studies: int
    self_tuning_budget_multiplier: float


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("algoperf-v06", trials=5, studies=3, self_tuning_budget_multiplier=1.5),
        Preset("algoperf-v05", trials=5, studies=5, self_tuning_budget_multiplier=3.0),
    )
}
DEFAULT_PRESET = "algoperf-v06"


@dataclass(frozen=True)
class ResolvedRuleset:
    """What a run will do, after the preset and the flags are combined (goes in experiment.json)."""

    preset: str
    ruleset: Ruleset
    trials: int  #: per study; always 1 for self-tuning
    studies: int
    budget_multiplier: float  #: 1.0 for external tuning unless overridden

    @property
    def passes_hparams(self) -> bool:
        """Self-tuning passes none: the submission uses its own defaults."""
        return self.ruleset == "external"


def resolve_ruleset(
    preset_name: str | None,
    ruleset: str,
    trials: int | None = None,
    studies: int | None = None,
    budget_multiplier: float | None = None,
) -> ResolvedRuleset:
    """Combine a preset with the flags; a flag that is given (not None) wins.

    Self-tuning runs exactly one trial per study; ``--trials`` other than 1 is refused
    rather than ignored, so a command line never claims something that did not happen.
    """
    name = DEFAULT_PRESET if preset_name is None else preset_name
    if name not in PRESETS:
        raise OptbenchError(f"--preset: unknown preset {quote_value(name)}; known: {join_names(PRESETS)}")
    if ruleset not in ("external", "self"):
        raise OptbenchError(f"--ruleset: unknown ruleset {quote_value(ruleset)}; use external or self")
    preset = PRESETS[name]
    if trials is not None:
        _positive_int(trials, "--trials")
    if studies is not None:
        _positive_int(studies, "--studies")
    if budget_multiplier is not None:
        _positive_float(budget_multiplier, "--budget-multiplier")
    if ruleset == "self":
        if trials not in (None, 1):
            raise OptbenchError(f"--trials: self-tuning runs one trial per study, got {trials}; "
                                "drop --trials or use --ruleset external")
        default_multiplier, trials = preset.self_tuning_budget_multiplier, 1
    else:
        default_multiplier = 1.0
    return ResolvedRuleset(
        preset=name,
        ruleset=ruleset,  # type: ignore[arg-type]
        trials=preset.trials if trials is None else trials,
        studies=preset.studies if studies is None else studies,
        budget_multiplier=float(default_multiplier if budget_multiplier is None else budget_multiplier),
    )


def _positive_int(value: Any, flag: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptbenchError(f"{flag}: must be a whole number >= 1, got {value!r}")


def _positive_float(value: Any, flag: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and value > 0):
        raise OptbenchError(f"{flag}: must be a finite number > 0, got {value!r}")
