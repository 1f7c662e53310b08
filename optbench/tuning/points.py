"""Drawing hyperparameter points: a seeded, scrambled Halton sequence per study (docs/design.md §3).

``scipy.stats.qmc.Halton``, one dimension per hyperparameter that varies, mapped to values
exactly as AlgoPerf's ``halton.py`` maps them: log ranges ``min * exp(u * ln(max/min))``,
linear ranges ``min + u * (max - min)``, discrete choices element ``floor(u * n)``;
constants are passed through. Only hyperparameters that *vary* take a dimension, so writing
a fixed value as a constant, a one-point list or ``min == max`` gives the same points for
the others.

**Studies — our default and why.** Each study draws its own points from its own seed
(:func:`study_seed`). A study is meant to be an independent repetition of the whole tuning
procedure, and the median over studies is what the score reports; with fresh points per
study that median measures how sensitive a submission is to *which* hyperparameters random
search happens to find, which is the point of repeating. AlgoPerf's harness in fact gives
every study the same points (its Halton shifts are seeded by the prime bases, not the
study), only in a new order, so its studies differ only in training randomness.
``same_points_per_study=True`` (the CLI's ``--same-points-per-study``) reproduces that:
every study gets the points of the base seed, in a study-specific shuffled order. Either
way the same seed always gives the same points. List-form spaces ignore both: their points
are used in file order.

scipy is imported only when points are drawn (``scipy.stats`` costs about half a second).
"""

from __future__ import annotations

import copy
import hashlib
import math
from typing import Any

import numpy as np

from optbench.errors import OptbenchError
from optbench.spec import Hyperparameter, SearchSpace


def map_unit(param: Hyperparameter, u: float) -> Any:
    """Map one coordinate ``u`` in [0, 1) to a value of ``param``, as AlgoPerf's halton.py does.

    Ranges are clamped to [min, max] so that rounding in ``exp``/``log`` can never step
    outside the declared bounds; the discrete index is clamped to n - 1 for ``u == 1``.
    """
    if param.kind == "constant":
        return copy.deepcopy(param.value)
    if param.kind == "discrete":
        points = param.feasible_points or ()
        index = min(math.floor(u * len(points)), len(points) - 1)
        return copy.deepcopy(points[max(index, 0)])
    low, high = float(param.min), float(param.max)  # type: ignore[arg-type]
    if param.scaling == "log":
        value = low * math.exp(u * math.log(high / low))
    else:
        value = low + u * (high - low)
    return min(max(value, low), high)


def _varies(param: Hyperparameter) -> bool:
    """Whether ``param`` takes a Halton dimension (a fixed value takes none)."""
    if param.kind == "discrete":
        return len(param.feasible_points or ()) > 1
    return param.kind == "range" and param.min != param.max


def _halton(d: int, n: int, seed: int) -> np.ndarray:
    """``n`` points of a scrambled ``d``-dimensional Halton sequence, in [0, 1)^d."""
    from scipy.stats import qmc  # here, not at the top: scipy.stats costs ~0.5 s to import

    rng = np.random.default_rng(seed)  # a Generator means the same stream in every scipy version
    try:
        sampler = qmc.Halton(d, scramble=True, rng=rng)
    except TypeError:  # scipy < 1.15 calls it seed
        sampler = qmc.Halton(d, scramble=True, seed=rng)
    return sampler.random(n)


def sample_points(space: SearchSpace, n: int, seed: int, *, source: str = "search space") -> list[dict[str, Any]]:
    """``n`` hyperparameter points for one study, deterministic in ``seed``.

    Dict form: a scrambled Halton sequence over the hyperparameters that vary, mapped
    by :func:`map_unit`. List form: the first ``n`` points in file order (``seed`` is
    not used). ``source`` names the file when ``n`` is more than the list holds.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise OptbenchError(f"{source}: number of trials must be a whole number >= 0, got {n!r}")
    if space.points is not None:
        return _take_points(space.points, n, source)
    varying = [p for p in space.params if _varies(p)]
    units = _halton(len(varying), n, seed) if varying and n else np.zeros((n, 0))
    column = {p.name: j for j, p in enumerate(varying)}
    return [
        {p.name: map_unit(p, float(row[column[p.name]]) if p.name in column else 0.0) for p in space.params}
        for row in units
    ]


def _take_points(points: tuple[dict[str, Any], ...], n: int, source: str) -> list[dict[str, Any]]:
    if n > len(points):
        raise OptbenchError(f"{source}: the list of points holds {len(points)} but {n} trials were asked for; "
                            f"use --trials {len(points)} or fewer, or add points")
    return [copy.deepcopy(point) for point in points[:n]]


def study_seed(base_seed: int, study: int) -> int:
    """The seed of study ``study`` of an experiment seeded ``base_seed``: stable everywhere.

    A hash, not ``base_seed + study``, so that neighbouring base seeds do not share
    studies (seed 0's study 1 would otherwise be seed 1's study 0).
    """
    digest = hashlib.sha256(f"optbench-study:{int(base_seed)}:{int(study)}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def study_points(
    space: SearchSpace,
    n: int,
    base_seed: int,
    study: int,
    *,
    same_points_per_study: bool = False,
    source: str = "search space",
) -> list[dict[str, Any]]:
    """The ``n`` points of one study (see the module docstring for the two policies).

    Default: drawn from :func:`study_seed`. ``same_points_per_study``: the points of
    ``base_seed``, permuted by the study's seed — AlgoPerf's behaviour. List form: the
    file's points in order, in every study.
    """
    if space.points is not None:
        return sample_points(space, n, base_seed, source=source)
    seed = study_seed(base_seed, study)
    if not same_points_per_study:
        return sample_points(space, n, seed, source=source)
    points = sample_points(space, n, base_seed, source=source)
    order = np.random.default_rng(seed).permutation(n)
    return [points[i] for i in order]
