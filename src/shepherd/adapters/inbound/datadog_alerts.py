"""Datadog Webhooks integration bodies → one Alert. Pure.

A Datadog webhook body is whatever JSON template the webhook was given, with `$VARIABLES`
substituted. The integration's default template has only `body` ($EVENT_MSG), `last_updated`,
`event_type`, `title` ($EVENT_TITLE), `date` ($DATE, epoch ms), `org` and `id` (the event id,
new for every notification). From it we read the transition, priority and scope out of the
title's leading brackets: `[P1] [Triggered on {service:checkout,env:prod}] Error rate high`.

Richer templates are read too. Keys match case- and separator-insensitively (`alert_id`,
`ALERT_ID`, `alertId` are one key). Recommended template:

    {"id": "$ID", "title": "$EVENT_TITLE", "body": "$EVENT_MSG", "date": "$DATE",
     "event_type": "$EVENT_TYPE", "alert_id": "$ALERT_ID", "alert_title": "$ALERT_TITLE",
     "alert_transition": "$ALERT_TRANSITION", "alert_type": "$ALERT_TYPE",
     "alert_priority": "$ALERT_PRIORITY", "alert_scope": "$ALERT_SCOPE",
     "alert_status": "$ALERT_STATUS", "alert_query": "$ALERT_QUERY",
     "alert_metric": "$ALERT_METRIC", "aggreg_key": "$AGGREG_KEY", "priority": "$PRIORITY",
     "tags": "$TAGS", "hostname": "$HOSTNAME", "link": "$LINK", "snapshot": "$SNAPSHOT"}

- status: `alert_transition` (Triggered/Re-Triggered, Warn/Re-Warn, No Data/Re-No Data,
  Renotify → firing; Recovered → resolved), else the title's bracket, else `alert_type`
  `success` → resolved; otherwise firing.
- fingerprint: `aggreg_key`, else `alert_id` + scope, else a hash of name + scope; the same
  for a monitor group's Triggered and Recovered notifications.
- labels: `tags` ("k:v,k2:v2" or a list) then the scope's tags (they win), `host` from
  `hostname`; a tag without `:` is a label with an empty value. `service:x`, `env:prod` become
  the labels `service`, `env` that AlertMapping reads.
- severity: the first known word of `alert_priority` (P1…P5), the title's `[Pn]`, the
  `severity` tag, `alert_type` (error/warning/info), `priority` (normal/low).
- time: `date` (epoch ms or s, or ISO-8601), else `last_updated`; `ends_at` = that time when
  resolved. A value still holding `$SOMETHING` was never substituted and counts as absent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shepherd.adapters.inbound.alert_fields import (
    dedupe_links,
    fail,
    fingerprint_of,
    link,
    load_object,
    timestamp,
    type_name,
)
from shepherd.domain.alerts import SEVERITY_WORDS, Alert, AlertMapping, AlertStatus, Severity, severity_of

UNSUBSTITUTED = re.compile(r"\$[A-Z][A-Z0-9_]*")
BRACKET = re.compile(r"\s*\[([^\]]*)\]")
PRIORITY_TOKEN = re.compile(r"P[1-5]", re.IGNORECASE)
TRANSITION_TOKEN = re.compile(r"(?P<word>[A-Za-z][A-Za-z -]*?)(?:\s+on\s+\{(?P<scope>[^}]*)\})?")
FIRING_WORDS = frozenset(
    {"triggered", "re-triggered", "warn", "re-warn", "no data", "re-no data", "renotify", "alert", "warning"}
)
RESOLVED_WORDS = frozenset({"recovered", "resolved", "ok", "success"})
SUMMARY_MAX = 300
MENTION = re.compile(r"(?<!\S)@\S+")  # @webhook-x, @slack-chan, @someone@example.com


@dataclass(frozen=True)
class _Title:
    name: str
    transition: str | None = None
    priority: str | None = None
    scope: str | None = None


class _Fields:
    """The body's top-level values by normalised key; unsubstituted `$VARS` count as absent."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._by_key = {_norm(key): (key, value) for key, value in data.items()}

    def raw(self, *names: str) -> tuple[str, Any] | None:
        for name in names:
            found = self._by_key.get(name)
            if found is not None and not _absent(found[1]):
                return found
        return None

    def text(self, *names: str) -> str | None:
        found = self.raw(*names)
        if found is None:
            return None
        key, value = found
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise fail(f"expected a string, got {type_name(value)}", key)
        return str(value).strip()

    def unrendered_hint(self, *names: str) -> str:
        """For error messages: which `$VAR` a field still holds, if any."""
        for name in names:
            value = self._by_key.get(name, ("", None))[1]
            if isinstance(value, str) and UNSUBSTITUTED.fullmatch(value.strip()):
                return f" (it still holds the template variable {value.strip()}: was the payload rendered?)"
        return ""


def parse_datadog(body: bytes, mapping: AlertMapping) -> list[Alert]:
    """The one alert a Datadog webhook notification is about."""
    fields = _Fields(load_object(body))
    title = _title(fields)
    scope = _scope(fields, title)
    labels = {**_tag_labels(fields), **scope}
    host = fields.text("hostname", "host")
    if host and not labels.get("host"):
        labels["host"] = host
    state = _status(fields, title)
    at = _time(fields)
    return [
        Alert(
            source="datadog",
            fingerprint=_fingerprint(fields, title.name, scope),
            name=title.name,
            status=state,
            service=mapping.service_in(labels),
            environment=mapping.environment_in(labels),
            severity=_severity(fields, title, labels),
            starts_at=at,
            ends_at=at if state is AlertStatus.RESOLVED else None,
            summary=_summary(fields, title.name),
            labels=labels,
            annotations=_annotations(fields),
            links=dedupe_links(
                [
                    *link("generator", fields.text("link", "url")),
                    *link("other", fields.text("snapshot"), "snapshot"),
                ]
            ),
        )
    ]


def _title(fields: _Fields) -> _Title:
    """Name, transition, priority and scope from `[P2] [Triggered on {k:v}] Name`."""
    text = fields.text("alerttitle", "title", "eventtitle")
    if not text:
        hint = fields.unrendered_hint("alerttitle", "title", "eventtitle")
        raise fail(f"missing or empty, expected the monitor's title{hint}", "title")
    transition = priority = scope = None
    rest = text
    while match := BRACKET.match(rest):
        token = match.group(1).strip()
        word = TRANSITION_TOKEN.fullmatch(token)
        if PRIORITY_TOKEN.fullmatch(token) and priority is None:
            priority = token.upper()
        elif word and transition is None and _transition_status(word.group("word")) is not None:
            transition, scope = word.group("word"), word.group("scope")
        else:
            break
        rest = rest[match.end() :]
    return _Title(name=rest.strip() or text, transition=transition, priority=priority, scope=scope)


def _transition_status(word: str | None) -> AlertStatus | None:
    normal = (word or "").strip().lower()
    if normal in RESOLVED_WORDS or "recover" in normal:
        return AlertStatus.RESOLVED
    if normal in FIRING_WORDS:
        return AlertStatus.FIRING
    return None


def _status(fields: _Fields, title: _Title) -> AlertStatus:
    for word in (fields.text("alerttransition", "transition"), title.transition):
        decided = _transition_status(word)
        if decided is not None:
            return decided
    alert_type = (fields.text("alerttype") or "").lower()
    return AlertStatus.RESOLVED if alert_type == "success" else AlertStatus.FIRING


def _tags(value: Any, path: str) -> dict[str, str]:
    """`"k:v, k2:v2"` or `["k:v", …]` → labels; a tag's first value wins."""
    if isinstance(value, str):
        items: list[Any] = list(value.split(","))
    elif isinstance(value, list):
        items = value
    else:
        raise fail(f"expected a comma-separated string or an array of tags, got {type_name(value)}", path)
    labels: dict[str, str] = {}
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise fail(f"expected a tag string, got {type_name(item)}", f"{path}[{index}]")
        key, _, tag_value = item.strip().partition(":")
        if key.strip() and key.strip() not in labels:
            labels[key.strip()] = tag_value.strip()
    return labels


def _scope(fields: _Fields, title: _Title) -> dict[str, str]:
    found = fields.raw("alertscope", "scope")
    if found is not None:
        return _tags(found[1], found[0])
    return _tags(title.scope or "", "title")


def _tag_labels(fields: _Fields) -> dict[str, str]:
    found = fields.raw("tags")
    return _tags(found[1], found[0]) if found else {}


def _fingerprint(fields: _Fields, name: str, scope: Mapping[str, str]) -> str:
    canonical_scope = ",".join(f"{key}:{value}" if value else key for key, value in sorted(scope.items()))
    aggregation = fields.text("aggregkey", "aggregationkey")
    if aggregation:
        return aggregation
    monitor = fields.text("alertid", "monitorid")
    if monitor:
        return f"{monitor}/{canonical_scope}" if canonical_scope else monitor
    return fingerprint_of(name, scope)


def _severity(fields: _Fields, title: _Title, labels: Mapping[str, str]) -> Severity:
    candidates = (
        fields.text("alertpriority"),
        title.priority,
        labels.get("severity"),
        fields.text("alerttype"),
        fields.text("priority"),
    )
    known = next((word for word in candidates if word and word.strip().lower() in SEVERITY_WORDS), None)
    return severity_of(known)


def _time(fields: _Fields) -> datetime:
    for name in ("date", "lastupdated"):
        found = fields.raw(name)
        if found is not None:
            parsed = timestamp(found[1], found[0])
            if parsed is not None:
                return parsed
    hint = fields.unrendered_hint("date", "lastupdated")
    raise fail(f"missing, expected the event time in epoch milliseconds{hint}", "date")


def _summary(fields: _Fields, name: str) -> str:
    text = fields.text("alertstatus") or _message(fields) or ""
    lines = (MENTION.sub("", line).strip() for line in text.splitlines())
    first = next((line for line in lines if line), "")
    return first[:SUMMARY_MAX] if first else name


def _message(fields: _Fields) -> str | None:
    """$EVENT_MSG without the `%%%` markdown fences Datadog wraps it in."""
    text = fields.text("body", "eventmsg", "textonlymsg")
    if not text:
        return None
    return text.replace("%%%", "").strip() or None


def _annotations(fields: _Fields) -> dict[str, str]:
    wanted = {
        "status": ("alertstatus",),
        "query": ("alertquery",),
        "metric": ("alertmetric",),
        "event_type": ("eventtype",),
        "monitor_id": ("alertid", "monitorid"),
        "event_id": ("id",),
    }
    found = {"message": _message(fields), **{key: fields.text(*names) for key, names in wanted.items()}}
    return {key: value for key, value in found.items() if value}


def _norm(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "")


def _absent(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, str) and (not value.strip() or bool(UNSUBSTITUTED.fullmatch(value.strip())))
