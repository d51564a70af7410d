"""Pages: what Shepherd asks an on-call system to open, acknowledge or resolve. Pure values.

The wire format is PagerDuty's Events API v2 (`pagerduty_body`); other paging systems can map
the same values. A page is keyed by `dedup_key`: a trigger on a key whose incident is still
open joins that incident, so resending a trigger after an unknown outcome pages nobody twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shepherd.domain.alerts.model import Severity

# PagerDuty's documented limits: longer summaries are refused, longer dedup keys too.
MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255


class PageAction(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class PageEvent:
    """One event about one page.

    `routing_key` routes the event to a service's integration; anyone holding it can page that
    service, so it is left out of `repr` and must never be logged or put in an error message.
    `summary`, `source` and `severity` matter for triggers only; acknowledge and resolve carry
    just the key. `links` are (url, text) pairs; `images` are (src, href, alt) triples, where
    href and alt may be empty and src must be an https URL.
    """

    routing_key: str = field(repr=False)
    action: PageAction
    dedup_key: str
    summary: str = ""
    source: str = ""
    severity: Severity = Severity.ERROR
    timestamp: datetime | None = None
    component: str | None = None
    group: str | None = None
    event_class: str | None = None  # "class" on the wire
    custom_details: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[tuple[str, str], ...] = ()
    images: tuple[tuple[str, str, str], ...] = ()
    client: str | None = None  # who sends: shown by PagerDuty as the event's origin
    client_url: str | None = None

    def __post_init__(self) -> None:
        # Messages here name fields, never values: the routing key is a credential.
        if not self.routing_key.strip():
            raise ValueError("a page needs a routing key")
        if not self.dedup_key.strip():
            raise ValueError("a page needs a dedup key (it is what resolves it later)")
        if len(self.dedup_key) > MAX_DEDUP_KEY:
            raise ValueError(f"dedup key longer than {MAX_DEDUP_KEY} characters: {self.dedup_key[:40]!r}…")
        if self.action is PageAction.TRIGGER:
            if not self.summary.strip():
                raise ValueError(f"trigger {self.dedup_key!r} needs a summary")
            if not self.source.strip():
                raise ValueError(f"trigger {self.dedup_key!r} needs a source")
        if self.timestamp is not None and self.timestamp.utcoffset() is None:
            raise ValueError(f"timestamp must be timezone-aware, got {self.timestamp!r}")


def clip_summary(summary: str, limit: int = MAX_SUMMARY) -> str:
    """At most `limit` characters; a cut is marked with an ellipsis (PagerDuty refuses longer)."""
    return summary if len(summary) <= limit else summary[: limit - 1] + "…"


def pagerduty_body(event: PageEvent) -> dict[str, Any]:
    """The Events API v2 JSON for `POST /v2/enqueue`."""
    body: dict[str, Any] = {
        "routing_key": event.routing_key,
        "event_action": event.action.value,
        "dedup_key": event.dedup_key,
    }
    if event.action is not PageAction.TRIGGER:
        return body  # acknowledge and resolve name the alert and nothing else
    payload: dict[str, Any] = {
        "summary": clip_summary(event.summary),
        "source": event.source,
        "severity": event.severity.value,
    }
    if event.timestamp is not None:
        payload["timestamp"] = event.timestamp.isoformat()
    optional = {"component": event.component, "group": event.group, "class": event.event_class}
    payload.update({name: value for name, value in optional.items() if value})
    if event.custom_details:
        payload["custom_details"] = dict(event.custom_details)
    body["payload"] = payload
    if event.links:
        body["links"] = [_link(url, text) for url, text in event.links]
    if event.images:
        body["images"] = [_image(src, href, alt) for src, href, alt in event.images]
    if event.client:
        body["client"] = event.client
    if event.client_url:
        body["client_url"] = event.client_url
    return body


def _link(url: str, text: str) -> dict[str, str]:
    return {"href": url, "text": text} if text else {"href": url}


def _image(src: str, href: str, alt: str) -> dict[str, str]:
    image = {"src": src}
    if href:
        image["href"] = href
    if alt:
        image["alt"] = alt
    return image
