"""The performance bands of the DORA 2024 report (Accelerate State of DevOps, software delivery
performance levels), as thresholds on Shepherd's figures.

The report describes four clusters of respondents:

| level  | deploy frequency       | change lead time   | change fail rate | failed deploy recovery |
|--------|------------------------|--------------------|------------------|------------------------|
| elite  | on demand (many a day) | under one day      | 5 %              | under one hour         |
| high   | daily to weekly        | one day to a week  | 20 %             | under one day          |
| medium | weekly to monthly      | a week to a month  | 10 %             | under one day          |
| low    | monthly to half-yearly | a month to 6 months| 40 %             | a week to a month      |

The frequency and lead-time columns are ranges and become thresholds as written. The change fail
rates are the clusters' typical values, not ranges, and are not ordered (medium's is below
high's); Shepherd keeps the bands monotone: at most 5 % elite, 10 % high, 20 % medium, above that
low. High and medium both recover in less than a day; Shepherd calls less than a day high and
less than a week medium. The report's own caveat holds: the bands compare a team with itself over
time better than with other teams.
"""

from __future__ import annotations

from enum import StrEnum


class Band(StrEnum):
    ELITE = "elite"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


def frequency_band(per_day: float | None) -> Band | None:
    if per_day is None:
        return None
    return _above(per_day, (1.0, 1 / 7, 1 / 30))


def lead_time_band(hours: float | None) -> Band | None:
    return None if hours is None else _below(hours, (24.0, 7 * 24.0, 30 * 24.0))


def failure_rate_band(rate: float | None) -> Band | None:
    return None if rate is None else _at_most(rate, (0.05, 0.10, 0.20))


def recovery_band(hours: float | None) -> Band | None:
    return None if hours is None else _below(hours, (1.0, 24.0, 7 * 24.0))


_ORDER = (Band.ELITE, Band.HIGH, Band.MEDIUM)


def _above(x: float, limits: tuple[float, float, float]) -> Band:
    return next((band for band, limit in zip(_ORDER, limits, strict=True) if x >= limit), Band.LOW)


def _below(x: float, limits: tuple[float, float, float]) -> Band:
    return next((band for band, limit in zip(_ORDER, limits, strict=True) if x < limit), Band.LOW)


def _at_most(x: float, limits: tuple[float, float, float]) -> Band:
    return next((band for band, limit in zip(_ORDER, limits, strict=True) if x <= limit), Band.LOW)
