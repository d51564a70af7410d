"""Alerts for integration tests: a config that routes and pages, and the pages Slack got."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shepherd.adapters.config_file import parse_config
from shepherd.domain.config import ShepherdConfig
from tests.fakes.pagerduty import ROUTING_KEY
from tests.fakes.slack import FakeSlack

SECRET = "alert-secret-42"


def alert_config(repo: Path, *, extra: str = "") -> ShepherdConfig:
    return parse_config(
        f"""
policies: {{correlation_minutes: 60, grouping_minutes: 30}}
people:
  - {{name: Ana Lima, emails: [ana@example.com], slack_user_id: U01ANA}}
  - {{name: Bruno Costa, emails: [bruno@example.com], slack_user_id: U02BRUNO}}
  - {{name: Chen Wei, emails: [chen@example.com, chen.wei@oldmail.example], slack_user_id: U03CHEN}}
  - {{name: Dora Ops, emails: [dora@example.com], slack_user_id: U04DORA}}
services:
  - name: checkout
    repository: {repo}
    paths: ["services/checkout/**", "libs/"]
    slack_channel: "#checkout"
    owners: [Dora Ops]
    pagerduty_routing_key: {ROUTING_KEY}
    rollback: {{command: "echo rolling back to {{rollback_sha}}"}}
  - name: search
    repository: {repo}
    paths: ["services/search/**"]
    depends_on: [checkout]
{extra}
"""
    )


def pages_to(slack: FakeSlack, channel: str) -> list[Any]:
    return [m for m in slack.posts(channel) if "suspected deploy" in m.text]
