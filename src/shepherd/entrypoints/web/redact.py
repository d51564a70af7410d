"""Secrets never reach a log line: query tokens and path secrets are blanked before anything is logged.

Flagger cannot set headers on every hook and some alert senders none at all, so a token may
ride in `?token=` or as the last segment of `/webhooks/<source>/<secret>`. Uvicorn's access
log prints the whole path; `RedactSecrets` rewrites it, and Shepherd's own lines use `redact`.
"""

from __future__ import annotations

import logging
import re

from shepherd.entrypoints.web.alert_routes import SOURCES

SECRET_PARAMS = re.compile(r"(?i)([?&](?:token|secret|key|api_key|access_token)=)[^&#\s]*")
# /webhooks/<alert source>/<secret> (alert_routes.SOURCES; Flagger's second segment is a hook name)
PATH_SECRET = re.compile(r"^(/webhooks/(?:" + "|".join(SOURCES) + r")/)[^/?#]+")
HIDDEN = "***"


def redact(path: str) -> str:
    """`path` (with its query) with every secret it may carry replaced by ***."""
    return SECRET_PARAMS.sub(r"\1" + HIDDEN, PATH_SECRET.sub(r"\1" + HIDDEN, path))


class RedactSecrets(logging.Filter):
    """For uvicorn's access log: its record's arguments are (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def install() -> None:
    """Once per process: uvicorn's access logger keeps the filter for every server it runs."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in access.filters):
        access.addFilter(RedactSecrets())
