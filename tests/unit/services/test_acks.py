"""Button presses: recorded once per person and button, and then every message shows them."""

from __future__ import annotations

import pytest

from shepherd.domain.jobs import JobKind
from shepherd.domain.notify import AckKind
from shepherd.services.acks import record_button
from shepherd.services.errors import NotFound
from tests.support.builders import ANA_SLACK, Store


def press(store: Store, deploy_id: int, kind: AckKind = AckKind.WATCHING, user: str = ANA_SLACK) -> bool:
    return record_button(
        deploy_id=deploy_id,
        kind=kind,
        slack_user=user,
        name="Ana Lima",
        uow_factory=store.uow_factory,
        clock=store.clock,
    )


def test_a_press_is_recorded_once_per_person_and_button_and_syncs_the_messages() -> None:
    store = Store()
    deploy = store.deploy()
    assert deploy.id is not None
    pressed_at = store.clock()
    assert press(store, deploy.id) is True
    store.clock.advance(5)
    assert press(store, deploy.id) is False  # a double click
    assert press(store, deploy.id, AckKind.WRONG) is True  # another button
    assert press(store, deploy.id, user="U02BRUNO") is True  # another person
    acks = sorted(store.uow_factory.tables.acks.values(), key=lambda a: a.id or 0)
    assert [(a.kind, a.slack_user) for a in acks] == [
        (AckKind.WATCHING, ANA_SLACK),
        (AckKind.WRONG, ANA_SLACK),
        (AckKind.WATCHING, "U02BRUNO"),
    ]
    assert acks[0].acked_at == pressed_at  # the double click changed nothing
    syncs = store.jobs(JobKind.SYNC_MESSAGES)
    assert [j.payload for j in syncs] == [{"deploy_id": deploy.id}]  # pending syncs coalesce


def test_a_press_on_an_unknown_deploy_is_not_found_and_writes_nothing() -> None:
    store = Store()
    with pytest.raises(NotFound):
        press(store, 404)
    assert store.uow_factory.tables.acks == {} and store.jobs() == []
    assert store.uow_factory.made[-1].rolled_back
