"""The keys as people read them: each one's place in the report's JSON, its words and which way
is better. Shared by `shepherd dora`'s table and the weekly digest."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shepherd.domain.text import figure, hours_words, percent


@dataclass(frozen=True)
class Key:
    label: str
    section: str  # the report's key, e.g. "lead_time"
    field: str  # the figure in it, e.g. "median_hours"
    words: Callable[[float | None], str]
    up_is_good: bool

    def value(self, report: Mapping[str, Any]) -> float | None:
        value: float | None = report[self.section][self.field]
        return value

    def band(self, report: Mapping[str, Any]) -> str | None:
        band: str | None = report[self.section].get("band")
        return band

    def trend(self, report: Mapping[str, Any]) -> tuple[int, bool] | None:
        """How it moved since the period before: (+1 up, −1 down, 0 the same; and whether that is
        better). None when either period has nothing to say."""
        now, before = self.value(report), self.value(report["previous"])
        if now is None or before is None:
            return None
        if now == before:
            return 0, False
        return (1 if now > before else -1), (now > before) == self.up_is_good


KEYS = (
    Key("deploys a day", "deployment_frequency", "per_day", figure, True),
    Key("lead time, median", "lead_time", "median_hours", hours_words, False),
    Key("change failure rate", "change_failure_rate", "rate", percent, False),
    Key("recovery time, median", "recovery_time", "median_hours", hours_words, False),
    Key("rework rate", "rework_rate", "rate", percent, False),
)
