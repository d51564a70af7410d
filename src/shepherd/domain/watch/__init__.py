"""The post-deploy watch: metric values, windows, stored checks, and the regression judge below it."""

from shepherd.domain.watch.errors import MetricsError, MetricsUnavailable
from shepherd.domain.watch.metrics import (
    CheckKind,
    CheckResult,
    CheckSpec,
    Direction,
    Outcome,
    Point,
    Series,
    Verdict,
)
from shepherd.domain.watch.model import (
    MIN_STEPS,
    StoredCheck,
    TimelineEntry,
    Watch,
    WatchMode,
    Window,
    windows,
)

__all__ = [
    "MIN_STEPS",
    "CheckKind",
    "CheckResult",
    "CheckSpec",
    "Direction",
    "MetricsError",
    "MetricsUnavailable",
    "Outcome",
    "Point",
    "Series",
    "StoredCheck",
    "TimelineEntry",
    "Verdict",
    "Watch",
    "WatchMode",
    "Window",
    "windows",
]
