"""A small fake of PagerDuty's Events API v2 (`POST /v2/enqueue`), with failures on demand.

Answers as the documentation describes: 202 {"status": "success", "message": "Event processed",
"dedup_key"} for an accepted event, 400 {"status": "invalid event", "message": "Event object is
invalid", "errors": [...]} for a malformed one, 429 (no body) when throttled, 5xx on trouble.
It keeps alerts per dedup key the way PagerDuty does: a trigger on a key whose alert is open
joins it; acknowledge and resolve apply to the open alert of that key and routing key, and are
dropped (still 202) when there is none; after a resolve, a trigger opens a new alert.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ROUTING_KEY = "0123456789abcdef0123456789abcdef"  # 32 characters, as PagerDuty's are
SEVERITIES = ("critical", "error", "warning", "info")
ACTIONS = ("trigger", "acknowledge", "resolve")
MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255


@dataclass
class Received:
    """One request as it arrived, with how it was answered."""

    path: str
    body: Any  # the decoded JSON, or the raw text when it was not JSON
    status: int


@dataclass
class Incident:
    """One alert in PagerDuty's sense: what a dedup key points at while it is open."""

    number: int
    dedup_key: str
    routing_key: str
    summary: str
    severity: str
    status: str = "triggered"  # triggered → acknowledged → resolved
    log: list[dict[str, Any]] = field(default_factory=list)  # every event applied to it

    @property
    def open(self) -> bool:
        return self.status != "resolved"


@dataclass
class _Failure:
    status: int
    body: bytes
    headers: dict[str, str]
    but_accept: bool


@dataclass
class FakePagerDuty:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)  # ack/resolve with nothing open
    known_keys: set[str] = field(default_factory=set)  # empty: any well-formed key is known
    delay: float = 0.0  # seconds to sit on each request before answering
    lock: threading.Lock = field(default_factory=threading.Lock)
    _failures: list[_Failure] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)

    # -- failure injection -----------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        retry_after: float | None = None,
        message: str | None = None,
        but_accept: bool = False,
    ) -> None:
        """The next `count` requests fail with `status`; `but_accept` processes the event anyway."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        if status == 429:
            body = b""  # PagerDuty documents no body for a throttled event
        else:
            text = message or "Internal Server Error"
            body = json.dumps({"status": "error", "message": text}).encode()
        with self.lock:
            self._failures += [_Failure(status, body, headers, but_accept)] * count

    # -- views for tests -------------------------------------------------------------------

    @property
    def events(self) -> list[dict[str, Any]]:
        """The bodies of the events PagerDuty accepted, in order."""
        with self.lock:
            return [r.body for r in self.received if r.status == 202]

    def open_incident(self, dedup_key: str) -> Incident | None:
        with self.lock:
            return self._open(dedup_key)

    def incidents_for(self, dedup_key: str) -> list[Incident]:
        with self.lock:
            return [i for i in self.incidents if i.dedup_key == dedup_key]

    # -- the API ---------------------------------------------------------------------------

    def handle(self, path: str, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.delay:
            self._stopping.wait(self.delay)  # a stopping server does not keep tests waiting
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        with self.lock:
            status, headers, answer = self._answer(path, body)
            self.received.append(Received(path, body, status))
        return status, headers, answer

    def _answer(self, path: str, body: Any) -> tuple[int, dict[str, str], bytes]:
        if self._failures:
            failure = self._failures.pop(0)
            if failure.but_accept and path == "/v2/enqueue" and not _problems(body, self.known_keys):
                self._apply(body)
            return failure.status, failure.headers, failure.body
        if path != "/v2/enqueue":
            return 404, {}, json.dumps({"status": "error", "message": "Not Found"}).encode()
        problems = _problems(body, self.known_keys)
        if problems:
            invalid = {"status": "invalid event", "message": "Event object is invalid", "errors": problems}
            return 400, {}, json.dumps(invalid).encode()
        dedup_key = self._apply(body)
        accepted = {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
        return 202, {}, json.dumps(accepted).encode()

    def _open(self, dedup_key: str) -> Incident | None:
        return next((i for i in reversed(self.incidents) if i.dedup_key == dedup_key and i.open), None)

    def _apply(self, event: dict[str, Any]) -> str:
        action = event["event_action"]
        # A trigger without a key gets a fresh one, so it always opens a new alert.
        dedup_key = str(event.get("dedup_key") or uuid.uuid4().hex)
        incident = self._open(dedup_key)
        if incident is not None and incident.routing_key != event["routing_key"]:
            incident = None  # follow-ups count only through the routing key that opened it
        if action == "trigger":
            if incident is None:
                payload = event["payload"]
                incident = Incident(
                    len(self.incidents) + 1,
                    dedup_key,
                    event["routing_key"],
                    payload["summary"],
                    payload["severity"],
                )
                self.incidents.append(incident)
            incident.log.append(event)
        elif incident is None:
            self.dropped.append(event)
        else:
            incident.status = "acknowledged" if action == "acknowledge" else "resolved"
            incident.log.append(event)
        return dedup_key


def _problems(body: Any, known_keys: set[str]) -> list[str]:
    """What PagerDuty would list under "errors" for this body; empty when it is valid."""
    if not isinstance(body, dict):
        return ["Event object is not valid JSON"]
    problems = []
    key = body.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        problems.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    elif known_keys and key not in known_keys:
        problems.append("Invalid routing key")
    action = body.get("event_action")
    if action not in ACTIONS:
        problems.append("'event_action' is missing or invalid (must be one of trigger, acknowledge, resolve)")
    dedup_key = body.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > MAX_DEDUP_KEY):
        problems.append(f"'dedup_key' must be a string of at most {MAX_DEDUP_KEY} characters")
    if action in ("acknowledge", "resolve") and not dedup_key:
        problems.append("'dedup_key' is missing or blank")
    if action == "trigger":
        problems += _payload_problems(body.get("payload"))
        problems += _context_problems(body)
    return problems


def _payload_problems(payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["'payload' is missing or not an object"]
    problems = []
    for name in ("summary", "source"):
        value = payload.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"'payload.{name}' is missing or blank")
    summary = payload.get("summary")
    if isinstance(summary, str) and len(summary) > MAX_SUMMARY:
        problems.append(f"'payload.summary' is too long (maximum is {MAX_SUMMARY} characters)")
    if payload.get("severity") not in SEVERITIES:
        problems.append("'payload.severity' is missing or invalid (must be critical, error, warning or info)")
    if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
        problems.append("'payload.custom_details' must be an object")
    for name in ("component", "group", "class", "timestamp"):
        if name in payload and not isinstance(payload[name], str):
            problems.append(f"'payload.{name}' must be a string")
    return problems


def _context_problems(body: dict[str, Any]) -> list[str]:
    problems = []
    for name, required in (("links", "href"), ("images", "src")):
        items = body.get(name, [])
        if not isinstance(items, list) or not all(
            isinstance(item, dict) and isinstance(item.get(required), str) for item in items
        ):
            problems.append(f"'{name}' must be a list of objects, each with '{required}'")
    return problems


class _Handler(BaseHTTPRequestHandler):
    pagerduty: FakePagerDuty

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, headers, body = self.pagerduty.handle(self.path.split("?", 1)[0], raw)
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test): nobody to answer

    def do_HEAD(self) -> None:
        # Shepherd's probe: the host answers (404 Not Found, as events.pagerduty.com does for
        # paths it does not serve) unless a failure is queued.
        status, headers, _ = self.pagerduty.handle(self.path.split("?", 1)[0], b"")
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def running_fake_pagerduty() -> Iterator[FakePagerDuty]:
    pagerduty = FakePagerDuty()
    handler = type("Handler", (_Handler,), {"pagerduty": pagerduty})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A short poll interval: shutdown waits one interval, and tests start many servers.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    pagerduty.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield pagerduty
    finally:
        pagerduty._stopping.set()
        server.shutdown()
        server.server_close()
