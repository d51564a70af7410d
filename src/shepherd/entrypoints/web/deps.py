"""Request dependencies: the app container and the write token check."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from shepherd.bootstrap import Shepherd
from shepherd.services.errors import Unauthorized


def get_shepherd(request: Request) -> Shepherd:
    shepherd: Shepherd = request.app.state.shepherd
    return shepherd


ShepherdDep = Annotated[Shepherd, Depends(get_shepherd)]


def require_token(request: Request, shepherd: ShepherdDep) -> None:
    token = shepherd.settings.api_token
    if token is None:
        if request.app.state.insecure_dev:
            return
        raise Unauthorized(
            "API writes are disabled: set SHEPHERD_API_TOKEN on the server "
            "(or start it with --insecure-dev on a laptop)"
        )
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token.get_secret_value()):
        raise Unauthorized("missing or wrong bearer token (Authorization: Bearer $SHEPHERD_API_TOKEN)")


WriteAccess = Depends(require_token)
