"""Proves the alerting harness: real Prometheus → real Alertmanager → a webhook, fire and resolve.

A `WebhookRecorder` stands in for Shepherd's `POST /webhooks/alertmanager`. Skips without the
binaries (Debian `prometheus`, `prometheus-alertmanager`); fails under SHEPHERD_REQUIRE_ALL=1.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.alertmanager_harness import (
    ALERT_NAME,
    WEBHOOK_PATH,
    AlertingStack,
    ReceivedWebhook,
    WebhookRecorder,
    alerting_stack,
    find_alertmanager,
    running_alertmanager,
)
from tests.integration.prometheus_harness import DemoMetricsApp, find_prometheus
from tests.support import need

TOKEN = "am-webhook-token-123"


def _status(status: str) -> Callable[[ReceivedWebhook], bool]:
    def matches(hook: ReceivedWebhook) -> bool:
        return isinstance(hook.body, dict) and hook.body.get("status") == status

    return matches


def _wait(receiver: WebhookRecorder, stack: AlertingStack, status: str, timeout: float) -> ReceivedWebhook:
    try:
        return receiver.wait_for(_status(status), timeout)
    except TimeoutError as e:
        raise AssertionError(f"{e}\n{stack.diagnostics()}") from None


@pytest.mark.slow
def test_alert_fires_and_resolves_through_real_alertmanager(tmp_path: Path) -> None:
    need(find_prometheus(), "the prometheus binary (apt-get install prometheus)")
    need(find_alertmanager(), "the alertmanager binary (apt-get install prometheus-alertmanager)")
    with (
        DemoMetricsApp() as app,
        WebhookRecorder() as receiver,
        alerting_stack(app, receiver.url, TOKEN, tmp_path) as stack,
    ):
        healthy_before = list(receiver.received)
        app.set_error_ratio("v1", 1.0)
        turned_bad = time.monotonic()
        firing = _wait(receiver, stack, "firing", 20)
        fired_after = time.monotonic() - turned_bad

        app.set_error_ratio("v1", 0.0)
        turned_good = time.monotonic()
        resolved = _wait(receiver, stack, "resolved", 20)
        resolved_after = time.monotonic() - turned_good

    assert healthy_before == []
    assert fired_after < 15 and resolved_after < 15, (fired_after, resolved_after)
    for hook in (firing, resolved):
        assert hook.path == WEBHOOK_PATH
        assert hook.headers["authorization"] == f"Bearer {TOKEN}"
        assert hook.headers["content-type"].startswith("application/json")
        assert hook.body["version"] == "4"
        assert hook.body["receiver"] == "shepherd"
        assert hook.body["truncatedAlerts"] == 0
        assert hook.body["externalURL"] == stack.alertmanager.url
        assert hook.body["groupLabels"] == {"alertname": ALERT_NAME, "service": "shop"}
        assert hook.body["commonLabels"] == {"alertname": ALERT_NAME, "service": "shop", "severity": "page"}
        assert len(hook.body["alerts"]) == 1

    alert = firing.body["alerts"][0]
    assert alert["status"] == "firing"
    assert alert["labels"] == {"alertname": ALERT_NAME, "service": "shop", "severity": "page"}
    assert alert["annotations"]["summary"].startswith("shop: ") and "%" in alert["annotations"]["summary"]
    assert alert["annotations"]["runbook_url"] == "https://runbooks.example.com/shop/high-error-ratio"
    assert alert["generatorURL"].startswith(stack.prometheus.url)
    assert alert["endsAt"].startswith("0001-01-01")  # still firing: no end yet

    done = resolved.body["alerts"][0]
    assert done["status"] == "resolved"
    assert done["fingerprint"] == alert["fingerprint"] and done["startsAt"] == alert["startsAt"]
    assert not done["endsAt"].startswith("0001-01-01")
    assert resolved.body["groupKey"] == firing.body["groupKey"]


def test_alertmanager_refuses_a_bad_config(tmp_path: Path) -> None:
    """A config Alertmanager rejects surfaces as its own log, not as a readiness timeout."""
    need(find_alertmanager(), "the alertmanager binary (apt-get install prometheus-alertmanager)")
    with (
        pytest.raises(RuntimeError, match="exited at startup") as failed,
        running_alertmanager("not a url", TOKEN, tmp_path, ready_timeout=10),
    ):
        pass
    assert "config" in str(failed.value).lower()
