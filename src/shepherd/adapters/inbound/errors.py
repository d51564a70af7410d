"""The one error every inbound parser raises for a body it cannot use."""

from __future__ import annotations

from typing import Any


class PayloadError(ValueError):
    """A webhook body that cannot be used; `details` says where (e.g. `{"path": "alerts[3].startsAt"}`)."""

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.details = details
