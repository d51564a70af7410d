"""A request is one transaction: when its second half fails, its first half is not kept."""

from __future__ import annotations

import pytest

from shepherd.services import deploys
from tests.support.world import AUTH, World


def test_a_start_reported_past_started_keeps_nothing_when_its_event_fails(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("recording the event broke")

    monkeypatch.setattr(deploys, "apply_event", broken)
    body = {
        "service": "checkout",
        "environment": "production",
        "sha": world.shas.second,
        "status": "succeeded",
        "idempotency_key": "argo-sync-1",
    }
    failed = world.client.post("/api/v1/deploys", json=body, headers=AUTH)
    assert failed.status_code == 500
    with world.shepherd.uow_factory() as uow:
        assert uow.deploys.query() == []
        assert uow.jobs.query() == []  # neither the attribute nor the watch job
    monkeypatch.undo()
    retried = world.client.post("/api/v1/deploys", json=body, headers=AUTH)
    assert retried.status_code == 201, retried.text
    assert retried.json()["status"] == "succeeded" and retried.json()["created"] is True
