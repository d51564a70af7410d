"""What the alert-storm benchmark records: arrivals at the fake Slack and PagerDuty, its POSTs,
and what it read back from the database (bench/alert_storm.py runs the storm)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.pagerduty import FakePagerDuty, running_fake_pagerduty
from tests.fakes.slack import FakeSlack, running_fake_slack

from bench.slack_clock import deploy_of

DRAIN_LIMIT = 30.0  # after the last POST: wait at most this long for routing and messages


@dataclass(frozen=True)
class SlackCall:
    at: float  # time.perf_counter() when the call reached the fake
    method: str  # chat.postMessage or chat.update
    key: str  # Shepherd's notification key; "?" when unknown
    deploy_id: int | None
    text: str  # the whole call's JSON, for the "N of M alerts firing" status of pages


@dataclass(frozen=True)
class Trigger:
    at: float
    action: str
    dedup_key: str
    deploy_id: int | None


class Recorder:
    """Arrivals at the fake Slack and the fake PagerDuty (wraps their `handle` on the instance)."""

    def __init__(self, slack: FakeSlack, pagerduty: FakePagerDuty) -> None:
        self.slack, self.pagerduty = slack, pagerduty
        self.calls: list[SlackCall] = []
        self.events: list[Trigger] = []
        self._keys: dict[tuple[str, str], tuple[str, int | None]] = {}  # (channel, ts) → key, deploy
        self._lock = threading.Lock()
        slack_handle, pagerduty_handle = slack.handle, pagerduty.handle

        def on_slack(method: str, args: dict[str, Any], auth: str | None) -> Any:
            at = time.perf_counter()
            status, headers, body = slack_handle(method, args, auth)
            if status == 200 and body.get("ok") and method in ("chat.postMessage", "chat.update"):
                self._slack(method, args, body, at)
            return status, headers, body

        def on_pagerduty(path: str, raw: bytes) -> tuple[int, dict[str, str], bytes]:
            at = time.perf_counter()
            status, headers, answer = pagerduty_handle(path, raw)
            if status == 202:
                event = json.loads(raw)
                details = (event.get("payload") or {}).get("custom_details") or {}
                deploy = details.get("suspect_deploy")
                trigger = Trigger(at, str(event.get("event_action")), str(event.get("dedup_key")), deploy)
                with self._lock:
                    self.events.append(trigger)
            return status, headers, answer

        slack.handle = on_slack  # type: ignore[method-assign]
        pagerduty.handle = on_pagerduty  # type: ignore[method-assign]

    def _slack(self, method: str, args: dict[str, Any], body: dict[str, Any], at: float) -> None:
        where = (str(body.get("channel")), str(body.get("ts")))
        with self._lock:
            if method == "chat.postMessage":
                metadata = args.get("metadata") or {}
                key = str((metadata.get("event_payload") or {}).get("key", "?"))
                deploy = deploy_of(args)
                self._keys[where] = (key, deploy)
            else:
                key, deploy = self._keys.get(where, ("?", None))
            self.calls.append(SlackCall(at, method, key, deploy, json.dumps(args, ensure_ascii=False)))

    def snapshot(self) -> tuple[list[SlackCall], list[Trigger]]:
        with self._lock:
            return list(self.calls), list(self.events)


@contextmanager
def recorded_fakes(slack_ids: dict[str, str]) -> Iterator[Recorder]:
    """The fake Slack (knowing these people: email → user id) and the fake PagerDuty, recorded."""
    with running_fake_slack() as slack, running_fake_pagerduty() as pagerduty:
        slack.users.update(slack_ids)
        yield Recorder(slack, pagerduty)


@dataclass(frozen=True)
class Post:
    batch: int
    late: float  # seconds after its scheduled time that it was sent
    sent: float  # perf_counter
    took: float  # seconds to the answer (or to the error)
    status: int  # 0 when no answer came
    error: str = ""


@dataclass
class Run:
    deploys: dict[str, int] = field(default_factory=dict)  # service → deploy id
    expected_messages: int = 0  # page messages: per page, the thread reply and one DM an author
    posts: list[Post] = field(default_factory=list)
    first_sent: float = 0.0  # perf_counter of the first POST
    wall_offset: float = 0.0  # time.time() - time.perf_counter()
    drained_at: float | None = None  # perf_counter when routing and messages were seen done
    calls: list[SlackCall] = field(default_factory=list)
    events: list[Trigger] = field(default_factory=list)
    db: dict[str, Any] = field(default_factory=dict)
    progress: list[tuple[float, int, int]] = field(default_factory=list)  # (perf_counter, stored, routed)
    unauthenticated_status: int = 0
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after
