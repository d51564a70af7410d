"""The OpenAPI document tells the truth about errors: every operation lists the 4xx it can answer.

FastAPI documents only 422, with its own validation body; Shepherd answers every error with
`{"error": {"code", "message", "details"}}` (errors.py), including 422, and refuses bodies over
the limit (413) and malformed ones (400) on every route.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {}},
        }
    },
}
EVERYWHERE = {
    "400": "malformed body (invalid_json)",
    "404": "no such thing",
    "413": "body over the size limit",
    "422": "a field or parameter is invalid (the error names it)",
}
GUARDED = ("/api/v1/", "/webhooks/", "/slack/")  # routes that can answer 401


def install(app: FastAPI) -> None:
    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
            for path, operations in schema.get("paths", {}).items():
                for operation in operations.values():
                    _document_errors(path, operation)
            schema["components"]["schemas"].pop("HTTPValidationError", None)
            schema["components"]["schemas"].pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]


def _document_errors(path: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    errors = dict(EVERYWHERE)
    if path.startswith(GUARDED):
        errors["401"] = "missing or wrong credentials (the message names the setting)"
    for status, description in errors.items():
        body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        responses[status] = {"description": description, "content": body}
