"""Errors a caller can act on; the web layer turns them into 4xx JSON, the CLI into messages."""

from __future__ import annotations

from typing import Any


class ShepherdError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(ShepherdError):
    status = 404
    code = "not_found"


class Invalid(ShepherdError):
    status = 422
    code = "invalid"


class UnknownService(Invalid):
    code = "unknown_service"


class UnknownEnvironment(Invalid):
    code = "unknown_environment"


class Conflict(ShepherdError):
    status = 409
    code = "conflict"


class Unauthorized(ShepherdError):
    status = 401
    code = "unauthorized"


class Forbidden(ShepherdError):
    status = 403
    code = "forbidden"
