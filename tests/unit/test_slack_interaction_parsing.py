"""Slack request signing (the published test vector) and block_actions parsing."""

import json
from urllib.parse import urlencode

import pytest

from shepherd.adapters.inbound.github import PayloadError
from shepherd.adapters.slack.interactions import parse_interaction
from shepherd.adapters.slack.signature import verify_slack_signature
from tests.support import payload_path


def vector() -> dict[str, object]:
    data: dict[str, object] = json.loads(payload_path("slack", "signing_test_vector.json").read_text())
    return data


def check(now: float, **changes: object) -> str | None:
    v = vector()
    headers = v["headers"]
    assert isinstance(headers, dict)
    args: dict[str, object] = {
        "timestamp": headers["X-Slack-Request-Timestamp"],
        "body": str(v["body"]).encode(),
        "signature": headers["X-Slack-Signature"],
        "now": now,
    }
    args.update(changes)
    return verify_slack_signature(str(v["signing_secret"]).encode(), **args)  # type: ignore[arg-type]


def test_the_published_vector_verifies_within_five_minutes() -> None:
    assert check(1531420618) is None
    assert check(1531420618 + 299) is None


def test_stale_forged_and_missing_signatures_are_refused() -> None:
    assert "5 minutes" in (check(1531420618 + 301) or "")
    assert "does not match" in (check(1531420618, body=b"token=forged") or "")
    assert "missing" in (check(1531420618, signature=None) or "")
    assert "not a number" in (check(1531420618, timestamp="soon") or "")


def test_block_actions_are_parsed() -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U01ANA", "username": "ana", "name": "ana"},
        "actions": [{"action_id": "shepherd_ack", "value": "12", "type": "button"}],
    }
    (press,) = parse_interaction(urlencode({"payload": json.dumps(payload)}).encode())
    assert (press.action_id, press.value, press.user_id, press.user_name) == (
        "shepherd_ack",
        "12",
        "U01ANA",
        "ana",
    )
    assert parse_interaction(urlencode({"payload": json.dumps({"type": "view_submission"})}).encode()) == []


@pytest.mark.parametrize(
    "body", [b"", b"payload=not-json", b"other=1", urlencode({"payload": "[1]"}).encode()]
)
def test_malformed_interactions(body: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_interaction(body)
