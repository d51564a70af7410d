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
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return "X-Slack-Request-Timestamp is not a number of seconds"
    sent_at = int(timestamp)
    if abs(now - sent_at) > REPLAY_WINDOW_SECONDS:
        return "request timestamp is more than 5 minutes away (replay?)"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    # Bytes, not str: compare_digest refuses a non-ASCII str, and a header may hold anything.
    if not hmac.compare_digest(expected.encode(), signature.encode(errors="surrogateescape")):
        return "X-Slack-Signature does not match the signing secret"
    return None
