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
    except (UnicodeDecodeError, KeyError, IndexError, json.JSONDecodeError) as exc:
        raise PayloadError(f"expected a form field 'payload' with JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise PayloadError("payload must be a JSON object")
    if data.get("type") != "block_actions":
        return []
    user = data.get("user")
    if not isinstance(user, dict):
        user = {}
    user_id = str(user.get("id") or "")
    if not user_id:
        raise PayloadError("payload.user.id is missing", details={"field": "user.id"})
    name = str(user.get("name") or user.get("username") or user_id)
    url = data.get("response_url")
    response_url = url if isinstance(url, str) and url.startswith(("https://", "http://")) else None
    presses = []
    for action in data.get("actions") or []:
        if isinstance(action, dict) and isinstance(action.get("action_id"), str):
            value = str(action.get("value") or "")
            presses.append(ButtonPress(action["action_id"], value, user_id, name, response_url))
    return presses
