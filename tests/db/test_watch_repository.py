"""Watches and their check rows on SQLite and PostgreSQL, and migration 0005 (packed points)."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, text

from shepherd.adapters.db import migrate
from shepherd.adapters.db.engine import session_factory
from shepherd.adapters.db.points import pack, unpack
from shepherd.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from shepherd.domain.watch import CheckResult, Outcome, Point, StoredCheck, Verdict, Watch
from tests.support import FakeClock
from tests.support.databases import new_deploy

PLAIN = (Point(1.0, 0.25), Point(31.0, -2.5e-300))
WEIGHTED = (Point(1.0, 0.004, 6000.0), Point(31.0, 0.0, 0.0))
MIXED = (Point(1.0, 0.004, 6000.0), Point(31.0, 0.005), Point(61.0, 1e300, 12.5))


@pytest.mark.parametrize("points", [(), PLAIN, WEIGHTED, MIXED], ids=["empty", "plain", "weighted", "mixed"])
def test_packed_points_round_trip_exactly(points: tuple[Point, ...]) -> None:
    assert unpack(pack(points)) == points


def test_packed_points_keep_nan_and_infinities() -> None:
    back = unpack(pack((Point(1.0, math.nan, math.inf), Point(2.0, -math.inf))))
    assert math.isnan(back[0].v) and back[0].w == math.inf and back[1] == Point(2.0, -math.inf)


def _stored(deploy_id: int, name: str, outcome: Outcome, clock: FakeClock, *points: Point) -> StoredCheck:
    result = CheckResult(name, outcome, f"{name} is {outcome.value}", ratio=1.5, details={"n": len(points)})
    return StoredCheck(deploy_id, result, "canary", tuple(points[:1]), tuple(points), clock())


def test_check_rows_are_replaced_by_name_and_keep_their_order(
    uow_factory: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    with uow_factory() as uow:
        deploy_id = uow.deploys.add(new_deploy(clock)).id
        assert deploy_id is not None
        uow.watches.save_checks(
            [
                _stored(deploy_id, "b", Outcome.PASS, clock, *PLAIN),
                _stored(deploy_id, "a", Outcome.PASS, clock),
            ]
        )
        uow.commit()
    clock.advance(30)
    latest = _stored(deploy_id, "b", Outcome.FAIL, clock, *MIXED)
    with uow_factory() as uow:
        uow.watches.save_checks([latest])
        uow.watches.save_check(_stored(deploy_id, "c", Outcome.NODATA, clock, *WEIGHTED))
        uow.commit()
    with uow_factory() as uow:
        checks = uow.watches.checks(deploy_id)
    assert [c.result.name for c in checks] == ["b", "a", "c"]
    assert checks[0] == latest


def test_replacing_check_rows_takes_no_new_ids(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    # An upsert would take a sequence value on every look (PostgreSQL): integer ids run out.
    with uow_factory() as uow:
        deploy_id = uow.deploys.add(new_deploy(clock)).id
        uow.commit()
    assert deploy_id is not None
    for look in range(10):
        names = ["a", "b", "c", "d"] if look == 9 else ["a", "b", "c"]
        with uow_factory() as uow:
            uow.watches.save_checks([_stored(deploy_id, n, Outcome.PASS, clock, *PLAIN) for n in names])
            uow.commit()
    with uow_factory() as uow:
        ids = uow.session.execute(text("SELECT id FROM check_results ORDER BY id")).scalars().all()
        assert [c.result.name for c in uow.watches.checks(deploy_id)] == ["a", "b", "c", "d"]
    assert ids[:3] == [1, 2, 3] and ids[3] <= 7  # d: at most the four tried in its first look


def test_watch_is_inserted_then_updated(uow_factory: SqlUnitOfWorkFactory, clock: FakeClock) -> None:
    with uow_factory() as uow:
        deploy_id = uow.deploys.add(new_deploy(clock)).id
        assert deploy_id is not None
        watch = Watch(deploy_id, clock(), clock() + timedelta(hours=1), 30.0, stable_version="v1")
        uow.watches.save(watch)
        uow.commit()
    looked = Watch(deploy_id, clock(), clock() + timedelta(hours=1), 30.0, Verdict.FAIL, 0.5, "worse", 2)
    with uow_factory() as uow:
        assert uow.watches.get(deploy_id) == watch
        uow.watches.save(looked)
        uow.commit()
    with uow_factory() as uow:
        assert uow.watches.get(deploy_id) == looked and uow.watches.get(deploy_id + 1) is None


def test_migration_0005_packs_existing_points_and_back(empty_database: Engine, clock: FakeClock) -> None:
    migrate.upgrade(empty_database, "0004")
    uow_factory = SqlUnitOfWorkFactory(session_factory(empty_database))
    # The schema of 0004, not today's tables: the deploy goes in as SQL.
    at = clock().replace(tzinfo=None)
    with empty_database.begin() as conn:
        deploy_id = conn.execute(
            text(
                "INSERT INTO deploys (service, environment, sha, status, source, started_at, created_at, "
                "updated_at, attribution_state, attribution_notes) VALUES ('api', 'production', :sha, "
                "'started', 'api', :at, :at, :at, 'pending', '[]') RETURNING id"
            ),
            {"sha": "a" * 40, "at": at},
        ).scalar_one()
    insert = text(
        "INSERT INTO check_results (deploy_id, name, outcome, reason, test, critical, details, mode, "
        "baseline_points, candidate_points, judged_at) VALUES (:d, 'error ratio', 'pass', 'fine', 'u', "
        ":critical, '{}', 'canary', :baseline, :candidate, :at)"
    )
    with empty_database.begin() as conn:
        params = {"d": deploy_id, "critical": True, "at": clock().replace(tzinfo=None)}
        conn.execute(insert, {**params, "baseline": "[[1.0, 0.25], [31.0, 0.5]]", "candidate": "[]"})
    migrate.upgrade(empty_database)
    with uow_factory() as uow:
        (check,) = uow.watches.checks(deploy_id or 0)
    assert check.baseline == (Point(1.0, 0.25), Point(31.0, 0.5)) and check.candidate == ()
    with uow_factory() as uow:
        uow.watches.save_checks([replace_points(check, MIXED)])
        uow.commit()
    command.downgrade(migrate.alembic_config(empty_database), "0004")
    with empty_database.connect() as conn:
        row = conn.execute(text("SELECT baseline_points, candidate_points FROM check_results")).one()
    assert [_json(side) for side in row] == [[[1.0, 0.004, 6000.0], [31.0, 0.005], [61.0, 1e300, 12.5]]] * 2


def replace_points(check: StoredCheck, points: tuple[Point, ...]) -> StoredCheck:
    return StoredCheck(check.deploy_id, check.result, check.mode, points, points, check.judged_at)


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def test_non_finite_numbers_in_details_are_stored_as_null(
    uow_factory: SqlUnitOfWorkFactory, clock: FakeClock
) -> None:
    # PostgreSQL's json type refuses the NaN Python writes; a check's numbers must never lose its look.
    with uow_factory() as uow:
        deploy_id = uow.deploys.add(new_deploy(clock)).id
        uow.commit()
    assert deploy_id is not None
    details: dict[str, float | str] = {"p": math.nan, "dispersion": math.inf, "low": -math.inf, "n": 3.0}
    result = CheckResult("a", Outcome.INCONCLUSIVE, "a is odd", details=details)
    with uow_factory() as uow:
        uow.watches.save_checks([StoredCheck(deploy_id, result, "canary", (), (), clock())])
        uow.commit()
    with uow_factory() as uow:
        (check,) = uow.watches.checks(deploy_id)
    assert check.result.details == {"p": None, "dispersion": None, "low": None, "n": 3.0}
