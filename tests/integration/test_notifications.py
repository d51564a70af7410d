"""Slack notifications end to end against the fake Slack Web API, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.slack import TOKEN, FakeSlack
from tests.support.git_repo import GitRepo
from tests.support.slack_world import ANA, BRUNO, deploy, slack_config
from tests.support.world import World


def test_each_author_gets_only_their_own_changes(sworld: World, slack: FakeSlack) -> None:
    deploy(sworld)
    (ana,) = slack.dm(ANA)
    assert "Show delivery estimate at checkout" in ana.body
    assert "Retry card charges" not in ana.body and "Shorter timeouts" not in ana.body
    (bruno,) = slack.dm(BRUNO)
    for subject in ("Retry card charges", "Log the gateway", "Shorter timeouts"):
        assert subject in bruno.body
    assert "Show delivery estimate" not in bruno.body and "Cache shipping" not in bruno.body
    assert "Payments board" in bruno.body and "Payments board" not in ana.body  # path-rule guide
    assert "Checkout dashboard" in ana.body and "/deploys/1/compare" in ana.body
    assert "deploy rollback checkout --to " + sworld.shas.first in ana.body
    actions = next(b for b in ana.blocks if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == ["shepherd_ack", "shepherd_wrong"] and actions[0][
        "value"
    ] == "1"


def test_channel_summary_groups_people_and_names_who_is_not_on_slack(sworld: World, slack: FakeSlack) -> None:
    deploy(sworld)
    (summary,) = slack.posts(slack.channels["#checkout"])
    assert f"<@{ANA}>" in summary.body and f"<@{BRUNO}>" in summary.body
    assert "Chen Wei (chen.wei@oldmail.example) — not on Slack" in summary.body
    assert "5 changes by 3 people" in summary.text
    (payments,) = slack.posts(slack.channels["#payments"])  # a path rule's channel
    assert "Retry card charges" in payments.body
    assert slack.dm("UCHEN") == [] and len(slack.method_calls("chat.postMessage")) == 4


def test_merger_who_is_not_an_author_gets_a_short_dm(sworld: World, slack: FakeSlack) -> None:
    squash = GitRepo(sworld.repo).git("rev-parse", "main~3")  # up to the squash PR #14
    deploy(sworld, squash)
    (ana,) = slack.dm(ANA)
    assert "You merged #12 by Bruno Costa; it is going out now" in ana.body
    assert "Retry card charges" not in ana.body


def test_rollout_updates_every_message_in_place(sworld: World, slack: FakeSlack) -> None:
    deploy_id = deploy(sworld)
    posts_before = len(slack.method_calls("chat.postMessage"))
    for percent in (10, 50):
        sworld.event(deploy_id, "progressing", percent=percent, stage="canary")
        sworld.run_jobs()
    sworld.event(deploy_id, "succeeded")
    sworld.run_jobs()
    top_level = [m for m in slack.messages if m.thread_ts is None]
    assert len(top_level) == 4
    for message in top_level:
        assert "Live everywhere" in message.body and len(message.updates) == 3
        assert message.updates[-1]["attachments"][0]["color"] == "#2eb67d"
    replies = [m.text for m in slack.messages if m.thread_ts is not None]
    assert replies == [
        "🚦 10% of traffic (stage: canary)",
        "🚦 50% of traffic (stage: canary)",
        "✅ Deploy succeeded: live everywhere",
    ]
    assert len(slack.method_calls("chat.postMessage")) == posts_before + 3
    detail = sworld.detail(deploy_id)
    assert {n["state"] for n in detail["notifications"]} == {"sent"}


def test_redeploy_tells_the_channel_only(sworld: World, slack: FakeSlack) -> None:
    deploy(sworld, sworld.shas.second, previous_sha=sworld.shas.second)
    (only,) = slack.messages
    assert only.channel == slack.channels["#checkout"] and "Redeploy of" in only.body


def test_slack_ids_are_looked_up_once_and_cached(sworld: World, slack: FakeSlack) -> None:
    deploy(sworld)
    deploy(sworld)
    lookups = sorted(c.args["email"] for c in slack.method_calls("users.lookupByEmail"))
    # Ana has an id in config; Bruno found once; Chen's two addresses and the owner's missed once each.
    assert lookups == ["bruno@example.com", "chen.wei@oldmail.example", "chen@example.com", "ops@example.com"]


def test_ack_shows_everywhere_and_cancels_reminders(sworld: World, slack: FakeSlack) -> None:
    deploy_id = deploy(sworld)
    sworld.clock.advance(5 * 60)
    from shepherd.domain.notify import AckKind
    from shepherd.services.acks import record_button

    record_button(
        deploy_id=deploy_id,
        kind=AckKind.WATCHING,
        slack_user=BRUNO,
        name="Bruno Costa",
        uow_factory=sworld.shepherd.uow_factory,
        clock=sworld.clock,
    )
    sworld.run_jobs()
    for message in (m for m in slack.messages if m.thread_ts is None):
        assert "Watching: Bruno Costa" in message.body
    sworld.clock.advance(30 * 60)
    sworld.run_jobs()
    assert not [m for m in slack.messages if "Is anyone watching" in m.text or "Nobody is watching" in m.text]
    assert sworld.detail(deploy_id)["acks"][0]["name"] == "Bruno Costa"


def test_reminder_then_escalation_when_nobody_acks(sworld: World, slack: FakeSlack) -> None:
    deploy(sworld)
    sworld.clock.advance(9 * 60)
    sworld.run_jobs()
    assert not [m for m in slack.messages if "Is anyone watching" in m.text]
    sworld.clock.advance(61)
    sworld.run_jobs()
    reminders = [m for m in slack.messages if "Is anyone watching" in m.body]
    assert sorted(m.channel for m in reminders) == [f"D{ANA}", f"D{BRUNO}"]
    sworld.clock.advance(10 * 60)
    sworld.run_jobs()
    (escalation,) = [m for m in slack.messages if "Nobody is watching" in m.body]
    assert escalation.channel == slack.channels["#checkout"]
    assert f"<@{ANA}>" in escalation.body and "ops@example.com" in escalation.body
    sworld.clock.advance(60 * 60)
    sworld.run_jobs()
    assert len([m for m in slack.messages if "Is anyone watching" in m.body]) == 2  # one each, once


def test_staging_deploys_get_no_reminders(sworld: World, slack: FakeSlack) -> None:
    deploy(sworld, environment="staging")
    sworld.clock.advance(60 * 60)
    sworld.run_jobs()
    assert not [m for m in slack.messages if "watching" in m.text.lower() and "anyone" in m.text.lower()]


def test_outage_loses_nothing_and_sends_nothing_twice(sworld: World, slack: FakeSlack) -> None:
    slack.fail_next(6, status=503)
    deploy_id = deploy(sworld)
    for _ in range(40):
        sworld.clock.advance(120)
        sworld.run_jobs()
    sworld.event(deploy_id, "succeeded")
    sworld.run_jobs()
    keys = [m.args["metadata"]["event_payload"]["key"] for m in slack.messages]
    assert len(keys) == len(set(keys)), keys  # nothing twice
    person = "dm:person:"
    assert keys[:2] == ["channel", "channel:#payments"]  # in order: the summaries, then the DMs
    assert sorted(keys[2:4]) == [f"{person}Ana Lima", f"{person}Bruno Costa"]  # in order
    assert {"reminder:person:Ana Lima", "reminder:person:Bruno Costa", "escalation"} <= set(keys)
    assert "Live everywhere" in slack.messages[0].body  # and the summary followed the rollout


def test_a_post_that_landed_despite_an_error_is_not_posted_again(sworld: World, slack: FakeSlack) -> None:
    slack.fail_next(1, status=500, method="chat.postMessage", but_post=True)
    deploy(sworld)
    sworld.clock.advance(60)
    sworld.run_jobs()
    keys = [m.args["metadata"]["event_payload"]["key"] for m in slack.messages]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 4
    assert slack.method_calls("conversations.history")


def test_rate_limit_waits_retry_after(sworld: World, slack: FakeSlack) -> None:
    slack.fail_next(1, status=429, method="chat.postMessage", retry_after=30)
    deploy_id = deploy(sworld)
    assert slack.messages == []
    sync = next(j for j in sworld.detail(deploy_id)["jobs"] if j["kind"] == "sync_messages")
    # Slack asked everyone to wait: the job waits for the circuit, without spending an attempt.
    assert sync["state"] == "parked" and "rate limit" in sync["last_error"] and sync["attempts"] == 0
    sworld.clock.advance(29)
    sworld.run_jobs()
    assert slack.messages == []
    sworld.clock.advance(2)
    sworld.run_jobs()
    assert len(slack.messages) == 4


def test_permission_errors_are_recorded_not_retried(
    make_world: Callable[..., World], slack: FakeSlack, shop_repo: Any
) -> None:
    world = make_world(
        slack_config(shop_repo[0], channel="#gone"), slack_token=TOKEN, slack_api_url=slack.url
    )
    slack.errors[("chat.postMessage", "#gone")] = "channel_not_found"
    deploy_id = deploy(world)
    world.clock.advance(3600)
    world.run_jobs()
    detail = world.detail(deploy_id)
    failed = [n for n in detail["notifications"] if n["state"] == "failed"]
    assert [(n["key"], n["error"]) for n in failed] == [
        ("channel", "channel_not_found"),
        ("escalation", "channel_not_found"),
    ]
    dms = [m.args["metadata"]["event_payload"]["key"] for m in slack.dm(ANA) + slack.dm(BRUNO)]
    assert sorted(k for k in dms if k.startswith("dm:")) == ["dm:person:Ana Lima", "dm:person:Bruno Costa"]
    to_gone = [c for c in slack.method_calls("chat.postMessage") if c.args["channel"] == "#gone"]
    assert len(to_gone) == 2  # the summary and the escalation, each tried once


def test_wrong_token_is_not_retried(
    make_world: Callable[..., World], slack: FakeSlack, shop_repo: Any
) -> None:
    world = make_world(slack_config(shop_repo[0]), slack_token="xoxb-wrong-token", slack_api_url=slack.url)
    deploy_id = deploy(world)
    errors = {n["error"] for n in world.detail(deploy_id)["notifications"]}
    assert errors == {"invalid_auth"}


def test_long_changesets_fit_slacks_limits(sworld: World, slack: FakeSlack) -> None:
    repo = GitRepo(sworld.repo)
    for i in range(80):
        repo.commit(
            f"Tune checkout step {i} " + "x" * 120,
            {f"services/checkout/step{i}.py": "1"},
            who=("Bruno Costa", "bruno@example.com"),
        )
    deploy(sworld, repo.git("rev-parse", "main"), previous_sha=sworld.shas.second)
    (summary,) = slack.posts(slack.channels["#checkout"])
    assert len(summary.blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in summary.blocks if b.get("text"))
    assert "+65 more changes" in summary.body and "/deploys/1" in summary.body


def test_a_late_ack_updates_the_escalation_that_went_out(sworld: World, slack: FakeSlack) -> None:
    deploy_id = deploy(sworld)
    sworld.clock.advance(21 * 60)
    sworld.run_jobs()
    (escalation,) = [m for m in slack.messages if "Nobody is watching" in m.body]
    from shepherd.domain.notify import AckKind
    from shepherd.services.acks import record_button

    record_button(
        deploy_id=deploy_id,
        kind=AckKind.WATCHING,
        slack_user=ANA,
        name="Ana Lima",
        uow_factory=sworld.shepherd.uow_factory,
        clock=sworld.clock,
    )
    sworld.run_jobs()
    assert "Watching: Ana Lima" in escalation.body and escalation.updates


def test_rate_limits_do_not_use_up_attempts(sworld: World, slack: FakeSlack) -> None:
    slack.fail_next(20, status=429, method="chat.postMessage", retry_after=1)
    deploy_id = deploy(sworld)
    for _ in range(25):
        sworld.clock.advance(2)
        sworld.run_jobs()
    sync = next(j for j in sworld.detail(deploy_id)["jobs"] if j["kind"] == "sync_messages")
    assert sync["state"] in ("done", "pending") and sync["attempts"] <= 2  # pending: its next reminder
    assert len([m for m in slack.messages if m.thread_ts is None]) == 4
