"""Slack's request signing (v0): is this request Slack's? Pure."""

from __future__ import annotations

import hashlib
import hmac

REPLAY_WINDOW_SECONDS = 300


def verify_slack_signature(
    secret: bytes, *, timestamp: str | None, body: bytes, signature: str | None, now: float
) -> str | None:
    """None when the request is Slack's; otherwise what is wrong with it."""
    if not timestamp or not signature:
        return "missing X-Slack-Request-Timestamp or X-Slack-Signature"
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "X-Slack-Request-Timestamp is not a number"
    if abs(now - sent_at) > REPLAY_WINDOW_SECONDS:
        return "request timestamp is more than 5 minutes away (replay?)"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "X-Slack-Signature does not match the signing secret"
    return None
