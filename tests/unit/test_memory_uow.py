"""The in-memory unit of work commits as the SQL one will: on a clean exit, never after an exception."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shepherd.domain.deploys import Deploy, DeployStatus
from shepherd.domain.errors import DuplicateKey
from tests.support.memory import FakeUnitOfWorkFactory

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def deploy(key: str | None = None) -> Deploy:
    return Deploy(
        "checkout", "production", "b" * 40, DeployStatus.STARTED, "api", NOW, NOW, NOW, idempotency_key=key
    )


def test_leaving_normally_commits_and_an_exception_discards() -> None:
    factory = FakeUnitOfWorkFactory()
    with factory() as uow:
        uow.deploys.add(deploy())
    assert factory.made[0].committed and len(factory.tables.deploys) == 1
    with pytest.raises(RuntimeError), factory() as uow:
        uow.deploys.add(deploy())
        uow.notifications.cache_slack_user("ana@example.com", "U1", now=NOW)
        raise RuntimeError("half-way")
    assert factory.made[1].rolled_back and not factory.made[1].committed
    assert len(factory.tables.deploys) == 1 and factory.tables.slack_users == {}


def test_an_explicit_commit_keeps_what_it_wrote_when_the_block_fails_later() -> None:
    factory = FakeUnitOfWorkFactory()
    with pytest.raises(RuntimeError), factory() as uow:
        uow.deploys.add(deploy())
        uow.commit()
        uow.deploys.add(deploy())
        raise RuntimeError("after the commit")
    assert [d.id for d in factory.tables.deploys.values()] == [1]


def test_rows_are_handed_out_as_copies_and_reads_see_the_transactions_own_writes() -> None:
    factory = FakeUnitOfWorkFactory()
    with factory() as uow:
        added = uow.deploys.add(deploy())
        assert added.id is not None
        got = uow.deploys.get(added.id)
        assert got == added and got is not added
        got.status = DeployStatus.FAILED  # not saved: changes nothing
    assert factory.tables.deploys[1].status is DeployStatus.STARTED


def test_a_commit_writes_only_its_own_rows_so_an_inner_commit_survives() -> None:
    factory = FakeUnitOfWorkFactory()
    with factory() as outer:
        outer.deploys.add(deploy())
        with factory() as inner:  # e.g. a cache write through another unit of work
            inner.notifications.cache_slack_user("ana@example.com", "U1", now=NOW)
    assert len(factory.tables.deploys) == 1 and "ana@example.com" in factory.tables.slack_users


def test_unique_keys_hold_within_and_across_transactions() -> None:
    factory = FakeUnitOfWorkFactory()
    with factory() as uow:
        uow.deploys.add(deploy("run-1"))
    with pytest.raises(DuplicateKey), factory() as uow:
        uow.deploys.add(deploy("run-1"))
    assert len(factory.tables.deploys) == 1
