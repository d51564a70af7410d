"""What the judge still accepts: the tolerance, the share of it held in the null, the week-ago excuse."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from shepherd.domain.watch.judge.stats import Floats, Sample
from shepherd.domain.watch.judge.verdict import Context

# Canary mode holds this share of the tolerance in the null hypothesis and asks the estimate to clear
# all of it: both versions share the minutes, but run on different hosts, whose levels differ by a
# few per cent with nothing wrong.
CANARY_MARGIN = 0.5


def week_change(ctx: Context, up: bool, stat: Callable[[Sample], float]) -> float:
    """How much `stat` changed between the same windows a week ago, clipped so it can only excuse.

    A rise a week ago excuses a rise today (the morning ramp, the nightly batch job); a fall a week
    ago is not held against today, since traffic is never exactly the same two weeks running.
    """
    if ctx.week is None:
        return 1.0
    before, after = stat(ctx.week[0]), stat(ctx.week[1])
    if before <= 0 or after <= 0:
        return 1.0
    factor = after / before
    return max(1.0, factor) if up else min(1.0, factor)


def null_factor(ctx: Context, up: bool, season: float, share: float = 1.0) -> float:
    """The factor on the old side that is still acceptable: tolerance on top of the week-ago change."""
    tolerance = ctx.spec.tolerance * share
    return season * (1 + tolerance if up else max(0.0, 1 - tolerance))


def worst_acceptable(
    ctx: Context, old: Floats, up: bool, season: float, nonnegative: bool, share: float = 1.0
) -> Floats:
    """The old side made as bad as `share` of the tolerance (and the week-ago change) allows."""
    tolerance = ctx.spec.tolerance * share
    if nonnegative:
        return old * null_factor(ctx, up, season, share)
    # Values that cross zero (a gauge like a temperature delta) shift instead of scale.
    scale = float(np.median(np.abs(old)))
    shift = scale * (season - 1) + (scale * tolerance if up else -scale * tolerance)
    return old + shift
