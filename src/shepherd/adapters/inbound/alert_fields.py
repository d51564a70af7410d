"""Readers shared by the alert parsers: every failure is a PayloadError naming the JSON path."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shepherd.adapters.inbound.errors import PayloadError
from shepherd.domain.alerts import AlertLink, AlertStatus

ROOT = "(body)"
# Epoch numbers above this are milliseconds (as seconds it would be the year 5138).
EPOCH_MS_THRESHOLD = 100_000_000_000
EPOCH_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
STATUS_WORDS = {"firing": AlertStatus.FIRING, "resolved": AlertStatus.RESOLVED}


def fail(message: str, path: str, **extra: Any) -> PayloadError:
    return PayloadError(f"{path}: {message}" if path != ROOT else message, details={"path": path, **extra})


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return key if path == ROOT else f"{path}.{key}"


def load_json(body: bytes) -> Any:
    """The decoded body; says whether it looks cut short, and where the JSON broke."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(f"body is not UTF-8 (byte {exc.start})", ROOT) from None
    if not text.strip():
        raise fail("body is empty, expected a JSON object", ROOT)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # Running out of input mid-value, or mid-string, is what a cut-off body looks like.
        truncated = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        hint = " (the body ends early: truncated?)" if truncated else ""
        raise fail(
            f"body is not valid JSON{hint}: {exc.msg} at line {exc.lineno} column {exc.colno}",
            ROOT,
            line=exc.lineno,
            column=exc.colno,
            truncated=truncated,
        ) from None
    except RecursionError:
        raise fail("body is nested too deeply to be an alert payload", ROOT) from None


def load_object(body: bytes) -> dict[str, Any]:
    data = load_json(body)
    if not isinstance(data, dict):
        raise fail(f"body must be a JSON object, got {type_name(data)}", ROOT)
    return data


def type_name(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def obj(data: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> dict[str, Any]:
    value = data.get(key)
    where = join(path, key)
    if value is None:
        if required:
            raise fail("missing, expected an object", where)
        return {}
    if not isinstance(value, dict):
        raise fail(f"expected an object, got {type_name(value)}", where)
    return value


def array(data: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = data.get(key)
    where = join(path, key)
    if value is None:
        raise fail("missing, expected an array", where)
    if not isinstance(value, list):
        raise fail(f"expected an array, got {type_name(value)}", where)
    return value


def opt_str(data: Mapping[str, Any], key: str, path: str) -> str | None:
    """A string field, None when absent, null or empty; any other type is an error."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise fail(f"expected a string, got {type_name(value)}", join(path, key))
    return value.strip() or None


def req_str(data: Mapping[str, Any], key: str, path: str) -> str:
    value = opt_str(data, key, path)
    if value is None:
        raise fail("missing or empty, expected a non-empty string", join(path, key))
    return value


def string_map(data: Mapping[str, Any], key: str, path: str, *, coerce: bool = False) -> dict[str, str]:
    """A `{name: string}` object (labels, annotations); `coerce` also takes numbers and booleans."""
    where = join(path, key)
    result: dict[str, str] = {}
    for name, value in obj(data, key, path).items():
        if isinstance(value, str):
            result[name] = value
        elif coerce and isinstance(value, bool):
            result[name] = "true" if value else "false"
        elif coerce and isinstance(value, int | float):
            result[name] = str(value)
        else:
            raise fail(f"expected a string, got {type_name(value)}", join(where, name))
    return result


def status(value: Any, path: str) -> AlertStatus:
    found = STATUS_WORDS.get(value.strip().lower()) if isinstance(value, str) else None
    if found is None:
        shown = repr(value) if isinstance(value, str) else type_name(value)
        raise fail(f"expected 'firing' or 'resolved', got {shown}", path)
    return found


def timestamp(value: Any, path: str) -> datetime | None:
    """ISO-8601 with a zone, or epoch seconds / milliseconds, as UTC; None for Go's zero time."""
    if isinstance(value, bool):
        raise fail("expected a time, got a boolean", path)
    if isinstance(value, int | float):
        return _epoch(value, path)
    if not isinstance(value, str) or not value.strip():
        raise fail(f"expected a time, got {type_name(value)}", path)
    text = value.strip()
    if EPOCH_TEXT.fullmatch(text):
        return _epoch(float(text), path)
    if text.startswith("0001-01-01"):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"not an ISO-8601 time: {text!r}", path) from None
    if parsed.tzinfo is None:
        raise fail(f"time has no time zone: {text!r}", path)
    return parsed.astimezone(UTC)


def _epoch(number: float, path: str) -> datetime:
    seconds = number / 1000 if abs(number) >= EPOCH_MS_THRESHOLD else number
    if seconds <= 0:
        raise fail(f"epoch time must be positive, got {number!r}", path)
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise fail(f"epoch time out of range: {number!r}", path) from None


def required_time(data: Mapping[str, Any], key: str, path: str) -> datetime:
    where = join(path, key)
    if data.get(key) is None:
        raise fail("missing, expected a time", where)
    parsed = timestamp(data[key], where)
    if parsed is None:
        raise fail(f"zero time is not a valid time here: {data[key]!r}", where)
    return parsed


def optional_time(data: Mapping[str, Any], key: str, path: str) -> datetime | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    return timestamp(value, join(path, key))


def fingerprint_of(name: str, labels: Mapping[str, str]) -> str:
    """A stable 16-hex id from the alert's identity, for sources that send none."""
    canonical = json.dumps([name, sorted(labels.items())], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def http_url(value: Any) -> str | None:
    """The value when it is an absolute http(s) URL, else None (links are best effort)."""
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def link(kind: str, value: Any, title: str = "") -> list[AlertLink]:
    url = http_url(value)
    return [AlertLink(kind=kind, url=url, title=title)] if url else []


def first_link(
    kind: str, source: Mapping[str, Any], keys: tuple[str, ...], title: str = ""
) -> list[AlertLink]:
    for key in keys:
        found = link(kind, source.get(key), title)
        if found:
            return found
    return []


def dedupe_links(links: list[AlertLink]) -> tuple[AlertLink, ...]:
    seen: set[str] = set()
    unique: list[AlertLink] = []
    for item in links:
        if item.url not in seen:
            seen.add(item.url)
            unique.append(item)
    return tuple(unique)
