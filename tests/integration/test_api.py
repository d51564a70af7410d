"""The deploy API on SQLite and PostgreSQL: happy path, idempotency, order, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.world import AUTH, World


def count_rows(world: World) -> tuple[int, int, int]:
    with world.shepherd.uow_factory() as uow:
        deploys = uow.deploys.query(limit=500)
        events = sum(len(uow.deploys.events(d.id)) for d in deploys if d.id)
        return len(deploys), events, len(uow.jobs.query(limit=500))


def test_deploy_start_events_and_detail(world: World) -> None:
    started = world.start(world.shas.second, previous_sha=world.shas.first, deployer="ci", url="https://ci/1")
    assert started["created"] is True and started["status"] == "started"
    assert started["attribution"]["state"] == "pending"
    deploy_id = started["id"]
    world.event(deploy_id, "progressing", percent=10, stage="canary")
    moved = world.event(deploy_id, "progressing", percent=50)
    assert (moved["status"], moved["percent"], moved["stage"]) == ("progressing", 50, "canary")
    done = world.event(deploy_id, "succeeded")
    assert done["status"] == "succeeded" and done["finished_at"] is not None
    assert world.run_jobs() == 3  # attribution, the watch (no checks here), one sync (coalesced)
    detail = world.detail(deploy_id)
    assert detail["attribution"]["state"] == "done"
    assert detail["attribution"]["total_changes"] == 5
    assert [e["status"] for e in detail["events"]] == ["started", "progressing", "progressing", "succeeded"]
    kinds = {j["kind"]: j["state"] for j in detail["jobs"]}
    assert kinds == {"attribute": "done", "sync_messages": "done", "watch": "done"}
    people = {p["name"]: p for p in detail["people"]}
    assert set(people) == {"Ana Lima", "Bruno Costa", "Chen Wei"}


def test_idempotency_key_gives_the_same_deploy_and_no_new_work(world: World) -> None:
    first = world.start(world.shas.second, idempotency_key="run-7")
    again = world.client.post(
        "/api/v1/deploys",
        json={
            "service": "checkout",
            "environment": "production",
            "sha": world.shas.second,
            "idempotency_key": "run-7",
        },
        headers=AUTH,
    )
    assert again.status_code == 200 and again.json()["id"] == first["id"] and again.json()["created"] is False
    world.event(first["id"], "succeeded", idempotency_key="done")
    repeat = world.client.post(
        f"/api/v1/deploys/{first['id']}/events",
        json={"status": "succeeded", "idempotency_key": "done"},
        headers=AUTH,
    )
    assert repeat.status_code == 200 and repeat.json()["created"] is False
    assert count_rows(world) == (1, 2, 3)  # attribution, watch, one message sync


def test_out_of_order_events_are_recorded_without_going_back(world: World) -> None:
    deploy_id = world.start(world.shas.second)["id"]
    world.event(deploy_id, "succeeded")
    late = world.event(deploy_id, "progressing", percent=50)
    assert late["status"] == "succeeded" and late["event"]["applied"] is False
    assert [e["applied"] for e in world.detail(deploy_id)["events"]] == [True, True, False]


def test_list_filters_and_cursor(world: World) -> None:
    ids = [world.start(world.shas.second)["id"] for _ in range(3)]
    staging = world.start(world.shas.first, environment="staging")["id"]
    world.event(ids[0], "failed")
    listing = world.client.get("/api/v1/deploys?limit=2").json()
    assert [d["id"] for d in listing["deploys"]] == [staging, ids[2]] and listing["next_before"] == ids[2]
    rest = world.client.get(f"/api/v1/deploys?limit=2&before={listing['next_before']}").json()
    assert [d["id"] for d in rest["deploys"]] == [ids[1], ids[0]]
    assert [d["id"] for d in world.client.get("/api/v1/deploys?environment=staging").json()["deploys"]] == [
        staging
    ]
    assert [d["id"] for d in world.client.get("/api/v1/deploys?status=failed").json()["deploys"]] == [ids[0]]
    assert world.client.get("/api/v1/deploys?service=nope").json()["deploys"] == []
    bad = world.client.get("/api/v1/deploys?status=exploded")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"


GOOD = {"service": "checkout", "environment": "production", "sha": "a" * 40}


@pytest.mark.parametrize(
    ("body", "status", "code", "fragment"),
    [
        (b"{not json", 400, "invalid_json", "not valid JSON"),
        ({**GOOD, "service": "nope"}, 422, "unknown_service", "no service named 'nope'"),
        ({**GOOD, "environment": "moon"}, 422, "unknown_environment", "no environment 'moon'"),
        ({**GOOD, "sha": "xyz"}, 422, "invalid_request", "sha"),
        ({**GOOD, "sha": "abc12"}, 422, "invalid_request", "sha"),
        ({**GOOD, "sha": "a" * 41}, 422, "invalid_request", "sha"),
        ({"service": "checkout", "sha": "a" * 40}, 422, "invalid_request", "environment"),
        ({**GOOD, "surprise": 1}, 422, "invalid_request", "surprise"),
        ([1, 2], 422, "invalid_request", ""),
    ],
)
def test_bad_deploy_input_gets_a_clear_4xx_and_writes_nothing(
    world: World, body: Any, status: int, code: str, fragment: str
) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = world.client.post(
        "/api/v1/deploys", content=raw, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and fragment in error["message"] and "details" in error
    assert count_rows(world) == (0, 0, 0)


def test_bad_event_input(world: World) -> None:
    deploy_id = world.start(world.shas.second)["id"]
    cases = [
        (f"/api/v1/deploys/{deploy_id}/events", {"status": "exploded"}, 422),
        (f"/api/v1/deploys/{deploy_id}/events", {"status": "progressing", "percent": 101}, 422),
        (f"/api/v1/deploys/{deploy_id}/events", {"status": "started"}, 422),
        ("/api/v1/deploys/9999/events", {"status": "succeeded"}, 404),
        ("/api/v1/deploys/abc/events", {"status": "succeeded"}, 422),
    ]
    for path, body, status in cases:
        response = world.client.post(path, json=body, headers=AUTH)
        assert response.status_code == status, (path, body, response.text)
        assert set(response.json()["error"]) == {"code", "message", "details"}
    assert world.client.get("/api/v1/deploys/9999").status_code == 404
    assert count_rows(world) == (1, 1, 2)


def test_body_over_one_megabyte_is_refused(world: World) -> None:
    huge = json.dumps({**GOOD, "deployer": "x" * (1024 * 1024)})
    response = world.client.post(
        "/api/v1/deploys", content=huge, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"

    def chunks() -> Any:  # no Content-Length: the limit applies while streaming
        for _ in range(20):
            yield b"x" * 100_000

    streamed = world.client.post(
        "/api/v1/deploys", content=chunks(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert count_rows(world) == (0, 0, 0)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Basic dGVzdA=="},
        {"Authorization": "Bearer"},
    ],
)
def test_missing_or_wrong_token_is_401_and_writes_nothing(world: World, headers: dict[str, str]) -> None:
    response = world.client.post("/api/v1/deploys", json=GOOD, headers=headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert (
        world.client.post(
            "/api/v1/deploys/1/events", json={"status": "succeeded"}, headers=headers
        ).status_code
        == 401
    )
    assert count_rows(world) == (0, 0, 0)


def test_writes_are_refused_when_no_token_is_configured(make_world: Any) -> None:
    world = make_world(api_token=None)
    response = world.client.post("/api/v1/deploys", json=GOOD, headers=AUTH)
    assert response.status_code == 401 and "SHEPHERD_API_TOKEN" in response.json()["error"]["message"]


def test_health_metrics_and_jobs(world: World) -> None:
    assert world.client.get("/healthz").json()["status"] == "ok"
    world.start(world.shas.second)
    assert 'shepherd_jobs{state="pending"} 2' in world.client.get("/metrics").text
    jobs = world.client.get("/api/v1/jobs").json()
    assert jobs["counts"] == {"pending": 2} and {j["kind"] for j in jobs["jobs"]} == {"attribute", "watch"}
    assert world.client.get("/nowhere").json()["error"]["code"] == "not_found"


def test_a_reused_key_for_another_deploy_is_a_conflict(world: World) -> None:
    first = world.start(world.shas.second, idempotency_key="run-9")
    assert first["idempotency_key"] == "run-9"
    short = world.start(world.shas.second[:10], idempotency_key="run-9")  # same deploy, short sha
    assert short["id"] == first["id"]
    other = world.client.post(
        "/api/v1/deploys",
        json={**GOOD, "environment": "staging", "sha": world.shas.second, "idempotency_key": "run-9"},
        headers=AUTH,
    )
    assert other.status_code == 409 and other.json()["error"]["details"] == {"deploy_id": first["id"]}
    assert count_rows(world) == (1, 1, 2)


def test_status_on_create_lets_stateless_tools_report_outcomes(world: World) -> None:
    """Argo CD notifications send each event alone: the key finds the deploy, the status moves it."""
    body = {**GOOD, "sha": world.shas.second, "idempotency_key": "argocd-shop-abc"}
    started = world.client.post("/api/v1/deploys", json=body, headers=AUTH).json()
    done = world.client.post("/api/v1/deploys", json={**body, "status": "succeeded"}, headers=AUTH)
    again = world.client.post("/api/v1/deploys", json={**body, "status": "succeeded"}, headers=AUTH)
    assert (
        done.status_code == 200
        and done.json()["id"] == started["id"]
        and done.json()["status"] == "succeeded"
    )
    assert again.json()["status"] == "succeeded"
    assert [e["status"] for e in world.detail(started["id"])["events"]] == ["started", "succeeded"]


def test_full_sha_replaces_a_short_one_after_attribution(world: World) -> None:
    deploy_id = world.start(world.shas.second[:9])["id"]
    world.run_jobs()
    assert world.detail(deploy_id)["sha"] == world.shas.second


def test_dashboard_lists_the_newest_deploys_with_links(world: World) -> None:
    empty = world.client.get("/")
    assert empty.status_code == 200 and "No deploys yet" in empty.text
    assert "shepherd deploy start" in empty.text  # what to do about it
    first = world.start(world.shas.first)["id"]
    second = world.start(world.shas.second, previous_sha=world.shas.first, version="v2.0.1")["id"]
    world.run_jobs()
    page = world.client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert f"href='/deploys/{second}'>v2.0.1</a>" in page.text  # the version when given
    assert f"href='/deploys/{first}'>{world.shas.first[:12]}</a>" in page.text  # else the sha
    assert page.text.index(f"/deploys/{second}'") < page.text.index(f"/deploys/{first}'")  # newest first
    assert "checkout → production" in page.text and "started" in page.text


def test_deploy_page_and_compare_link(world: World) -> None:
    deploy_id = world.start(world.shas.second, previous_sha=world.shas.first)["id"]
    world.run_jobs()
    page = world.client.get(f"/deploys/{deploy_id}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Retry card charges once on gateway timeouts" in page.text and "Bruno Costa" in page.text
    compare = world.client.get(f"/deploys/{deploy_id}/compare")
    assert compare.status_code == 200 and "/static/vendor/uplot/uPlot.iife.min.js" in compare.text
    assert world.client.get("/static/vendor/uplot/uPlot.iife.min.js").status_code == 200
    series = world.client.get(f"/api/v1/deploys/{deploy_id}/series").json()
    assert series["checks"] == [] and series["verdict"] in ("running", "inconclusive")
    assert world.client.get("/deploys/999").status_code == 404
    assert world.client.get("/deploys/999/compare").status_code == 404
    assert world.client.get("/api/v1/deploys/999/series").status_code == 404
