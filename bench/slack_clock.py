"""The tests' fake Slack Web API, with the arrival time of every chat.postMessage per deploy.

Wraps `FakeSlack.handle` on the instance (tests/ stays untouched): each successful post is
stamped with `time.perf_counter()` as it reaches the fake, before the fake's own lock, and
filed under the deploy it belongs to, read from the message's buttons (every Shepherd
message about a deploy with changes carries its id as the button value).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.fakes.slack import TOKEN, FakeSlack, running_fake_slack

__all__ = ["TOKEN", "Arrival", "SlackClock", "timed_fake_slack"]


@dataclass(frozen=True)
class Arrival:
    at: float  # time.perf_counter() when the call reached the fake
    key: str  # Shepherd's notification key from the metadata: "channel", "dm:…"
    channel: str


class SlackClock:
    """Arrivals of chat.postMessage by deploy id; waiting for them with a timeout."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self.by_deploy: dict[int, list[Arrival]] = defaultdict(list)
        self.unmatched = 0  # posts naming no deploy
        self._changed = threading.Condition()
        original = slack.handle

        def handle(method: str, args: dict[str, Any], auth: str | None) -> Any:
            at = time.perf_counter()
            status, headers, body = original(method, args, auth)
            if method == "chat.postMessage" and status == 200 and body.get("ok"):
                self._record(args, at)
            return status, headers, body

        slack.handle = handle  # type: ignore[method-assign]

    @property
    def url(self) -> str:
        return self.slack.url

    def _record(self, args: dict[str, Any], at: float) -> None:
        deploy_id = deploy_of(args)
        metadata = args.get("metadata") or {}
        key = str((metadata.get("event_payload") or {}).get("key", "?"))
        with self._changed:
            if deploy_id is None:
                self.unmatched += 1
            else:
                self.by_deploy[deploy_id].append(Arrival(at, key, str(args.get("channel"))))
            self._changed.notify_all()

    def wait(self, deploy_id: int, count: int, timeout: float) -> list[Arrival]:
        """The posts for `deploy_id` once there are `count` of them, or what came within `timeout`."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.by_deploy[deploy_id]) >= count, timeout)
            return list(self.by_deploy[deploy_id])


def deploy_of(args: dict[str, Any]) -> int | None:
    """The deploy id in a posted message's buttons (attachments[0].blocks, type actions)."""
    for attachment in args.get("attachments") or []:
        for block in attachment.get("blocks") or []:
            if block.get("type") != "actions":
                continue
            for element in block.get("elements") or []:
                value = str(element.get("value", ""))
                if value.isdigit():
                    return int(value)
    return None


@contextmanager
def timed_fake_slack(users: dict[str, str]) -> Iterator[SlackClock]:
    """The fake on a loopback port, knowing `users` (email → Slack user id)."""
    with running_fake_slack() as slack:
        slack.users.update(users)
        yield SlackClock(slack)
