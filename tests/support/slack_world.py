"""Slack for integration tests: a config whose people have Slack ids, and signed button presses."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from shepherd.adapters.config_file import parse_config
from shepherd.domain.config import ShepherdConfig
from tests.support.world import World

ANA, BRUNO = "U01ANA", "U02BRUNO"


def deploy(world: World, sha: str | None = None, **body: Any) -> int:
    """A production deploy of checkout from the first sha to `sha` (the second), attributed."""
    body.setdefault("previous_sha", world.shas.first)
    deploy_id = int(world.start(sha or world.shas.second, **body)["id"])
    world.run_jobs()
    return deploy_id


def slack_config(repo: Path, *, channel: str = "#checkout") -> ShepherdConfig:
    return parse_config(
        f"""
policies: {{ack_minutes: 10, escalate_minutes: 20}}
people:
  - {{name: Ana Lima, emails: [ana@example.com], slack_user_id: {ANA}}}
  - {{name: Bruno Costa, emails: [bruno@example.com]}}
  - {{name: Chen Wei, emails: [chen@example.com, chen.wei@oldmail.example]}}
services:
  - name: checkout
    repository: {repo}
    github_repository: acme/shop
    environments: [staging, production]
    paths: ["services/checkout/**", "libs/"]
    slack_channel: "{channel}"
    owners: [Ana Lima, ops@example.com]
    guides:
      - {{title: Checkout dashboard, url: "https://grafana.example.com/d/checkout?from={{started_at_ms}}"}}
    path_rules:
      - name: payments
        paths: ["services/checkout/payments/**"]
        guides: [{{title: Payments board, url: "https://grafana.example.com/d/payments"}}]
        slack_channel: "#payments"
    rollback: {{command: "deploy rollback {{service}} --to {{rollback_sha}}"}}
"""
    )


SECRET = "slack-signing-secret"


def press(
    world: World,
    action: str,
    deploy_id: int | str,
    user: str,
    *,
    secret: str = SECRET,
    age: float = 0,
    response_url: str | None = None,
) -> Any:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "name": "slackname"},
        "actions": [{"action_id": action, "value": str(deploy_id)}],
    }
    if response_url is not None:
        payload["response_url"] = response_url
    body = urlencode({"payload": json.dumps(payload)}).encode()
    stamp = str(int(time.time() - age))
    signature = (
        "v0=" + hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    )
    headers = {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return world.client.post("/slack/interactions", content=body, headers=headers)
