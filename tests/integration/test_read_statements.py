"""Reads cost a constant number of SQL statements: 30 deploys take as many as one.

Counted on the engine (`before_cursor_execute`), so every statement the page or API sends is
seen, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from shepherd.domain.watch import Verdict
from tests.support.verdicts import set_verdict
from tests.support.world import World

READS = {
    "dashboard": "/",
    "deploy page": "/deploys/{first}",
    "compare page": "/deploys/{first}/compare",
    "API deploy list": "/api/v1/deploys",
}


@contextmanager
def counting(world: World) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = world.shepherd.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def add_deploys(world: World, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        deploy_id = int(world.start(world.shas.second, previous_sha=world.shas.first)["id"])
        set_verdict(world, deploy_id, Verdict.RUNNING)  # a watch and a check for every deploy
        ids.append(deploy_id)
    return ids


def statements_per_read(world: World, first: int) -> dict[str, int]:
    counts = {}
    for name, path in READS.items():
        with counting(world) as statements:
            response = world.client.get(path.format(first=first))
        assert response.status_code == 200, (name, response.text)
        counts[name] = len(statements)
    return counts


def test_reads_cost_the_same_for_one_deploy_and_thirty(world: World) -> None:
    (first,) = add_deploys(world, 1)
    one = statements_per_read(world, first)
    add_deploys(world, 29)
    thirty = statements_per_read(world, first)
    assert thirty == one
    assert world.client.get("/").text.count("old vs new</a>") == 30  # every watch was read
    assert len(world.client.get("/api/v1/deploys").json()["deploys"]) == 30
