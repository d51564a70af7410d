"""Delivery metrics (the DORA keys) from deploys, changes, watches and incidents. Pure."""

from shepherd.domain.delivery.bands import (
    Band,
    failure_rate_band,
    frequency_band,
    lead_time_band,
    recovery_band,
)
from shepherd.domain.delivery.keys import KEYS, Key
from shepherd.domain.delivery.metrics import Delivery, History, Recovery, Spread, analyse, delivery
from shepherd.domain.delivery.records import (
    FINAL,
    REACHED,
    REVERT_WINDOW,
    ChangeRecord,
    DeployRecord,
    Failure,
    FailureRule,
)

__all__ = [
    "FINAL",
    "KEYS",
    "REACHED",
    "REVERT_WINDOW",
    "Band",
    "ChangeRecord",
    "Delivery",
    "DeployRecord",
    "Failure",
    "FailureRule",
    "History",
    "Key",
    "Recovery",
    "Spread",
    "analyse",
    "delivery",
    "failure_rate_band",
    "frequency_band",
    "lead_time_band",
    "recovery_band",
]
