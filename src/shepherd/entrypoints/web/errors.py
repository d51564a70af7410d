"""One error shape for every failure: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shepherd.entrypoints.web.redact import redact
from shepherd.services.errors import ShepherdError

log = logging.getLogger("shepherd.web")
MAX_BODY_BYTES = 1024 * 1024


def error_response(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": {"code": code, "message": message, "details": details}}
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ShepherdError)
    async def _shepherd(_: Request, exc: ShepherdError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        broken = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if broken is not None:
            loc = broken.get("loc", ())
            problem = (broken.get("ctx") or {}).get("error", "invalid JSON")
            details = {"problem": str(problem), "position": loc[-1] if loc else None}
            return error_response(400, "invalid_json", f"request body is not valid JSON: {problem}", details)
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first.get('msg', 'invalid')}" if where else str(first.get("msg", "invalid"))
        return error_response(422, "invalid_request", message, _fields(errors))

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        unparsable = _unparsable_body(exc)
        if unparsable is not None:
            return unparsable
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        response = error_response(exc.status_code, code, str(exc.detail))
        if exc.headers:  # e.g. Allow on a 405
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RecursionError)
    async def _too_deep(_: Request, exc: RecursionError) -> JSONResponse:
        # A body parsed by hand (webhooks, Slack's payload) nested deeper than the parser goes.
        return _nested_too_deep()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, redact(request.url.path))
        return error_response(500, "internal", "Shepherd hit an unexpected error; it is in the server log")


def _nested_too_deep() -> JSONResponse:
    return error_response(400, "invalid_json", "request body is not valid JSON: nested too deeply")


def _unparsable_body(exc: HTTPException) -> JSONResponse | None:
    """FastAPI answers a body it could not decode (not UTF-8, nested too deep) with a bare 400."""
    cause = exc.__cause__
    if exc.status_code != 400 or cause is None:
        return None
    if isinstance(cause, RecursionError):
        return _nested_too_deep()
    if isinstance(cause, UnicodeDecodeError):
        details = {"problem": "not UTF-8", "position": cause.start}
        return error_response(400, "invalid_json", "request body is not valid JSON: it is not UTF-8", details)
    return None


def _fields(errors: list[Any]) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "problem": e.get("msg")}
        for e in errors
    ]


class BodyLimit:
    """Refuse bodies over the limit before reading them whole (Content-Length or streamed)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._too_large(scope, receive, send)
            return
        # Read the body first (it is at most the limit), so the app never sees half of it.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message, receive), send)
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.limit:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(chunks, None, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "body_too_large",
            f"request body is larger than {self.limit // 1024} KiB",
            {"limit": self.limit},
        )
        await response(scope, receive, send)


def _replay(chunks: list[bytes], last: Message | None, receive_more: Receive) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if last is not None:
                return last
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        return await receive_more()  # after the body: whatever the server says next

    return receive
