"""The metrics capability the watch and the gate need. Adapters: prometheus, datadog."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from shepherd.domain.watch import Series


class MetricsSource(Protocol):
    def query_range(self, query: str, *, start: datetime, end: datetime, step_seconds: float) -> list[Series]:
        """Every series the query yields over [start, end], points oldest first, NaN/Inf dropped.

        `start` and `end` are timezone-aware. `step_seconds` is the wanted resolution; a source
        may coarsen it (Prometheus' 11,000-point cap) or choose its own (Datadog's rollups).
        Raises MetricsError for a query that cannot succeed as written, and its subclass
        MetricsUnavailable (a Transient) when the source is down, slow or rate limiting.
        """
        ...
