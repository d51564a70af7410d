"""Jinja2 for Shepherd's pages: templates beside this module, every value HTML-escaped."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined


@cache
def _environment() -> Environment:
    # StrictUndefined: a misspelt name fails the page in tests instead of rendering as nothing.
    return Environment(
        loader=PackageLoader("shepherd.entrypoints.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_environment().get_template(template).render(**context), status_code=status_code)
