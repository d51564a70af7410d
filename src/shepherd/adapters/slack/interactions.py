"""Slack interactivity: the button presses in a `block_actions` payload. Pure.

Check the request with `signature.verify_slack_signature` first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs

from shepherd.adapters.inbound.errors import PayloadError


@dataclass(frozen=True)
class ButtonPress:
    action_id: str
    value: str
    user_id: str
    user_name: str
    response_url: str | None = None  # where an ephemeral answer to the presser can be posted


def parse_interaction(body: bytes) -> list[ButtonPress]:
    """Button presses in a `block_actions` payload (form field `payload`, JSON)."""
    try:
        form = parse_qs(body.decode("utf-8"), strict_parsing=False)
        data = json.loads(form["payload"][0])
    except (UnicodeDecodeError, KeyError, IndexError, ValueError, RecursionError) as exc:
        raise PayloadError(f"expected a form field 'payload' with JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise PayloadError("payload must be a JSON object")
    if data.get("type") != "block_actions":
        return []
    user = data.get("user")
    if not isinstance(user, dict) or not _text(user.get("id")):
        raise PayloadError("payload.user.id must be a Slack user id", details={"field": "user.id"})
    user_id = str(user["id"])
    name = next((str(user[k]) for k in ("name", "username") if _text(user.get(k))), user_id)
    url = data.get("response_url")
    response_url = url if isinstance(url, str) and url.startswith(("https://", "http://")) else None
    actions = data.get("actions", [])
    if not isinstance(actions, list):
        raise PayloadError("payload.actions must be a list", details={"field": "actions"})
    return [_press(action, i, user_id, name, response_url) for i, action in enumerate(actions)]


def _text(value: object) -> bool:
    """A non-empty string of sensible length: what Slack sends for ids, names and values."""
    return isinstance(value, str) and 0 < len(value) <= 2000


def _press(action: object, i: int, user_id: str, name: str, response_url: str | None) -> ButtonPress:
    if not isinstance(action, dict) or not _text(action.get("action_id")):
        raise PayloadError(
            f"payload.actions[{i}] must be an object with an action_id", details={"field": f"actions[{i}]"}
        )
    value = action.get("value", "")
    if not isinstance(value, str):
        raise PayloadError(
            f"payload.actions[{i}].value must be a string", details={"field": f"actions[{i}].value"}
        )
    return ButtonPress(str(action["action_id"]), value, user_id, name, response_url)
