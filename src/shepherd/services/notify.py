"""Use case: bring a deploy's Slack messages in line with its state (the `sync_messages` job).

Runs after attribution, after every lifecycle event and ack, and when a reminder falls due.
Jobs of one deploy share a serial key, so they run one at a time and in order. Every post
is recorded (`sending`, then its ts) before and after it is made: a retry updates, never
reposts, and a post whose outcome is unknown is looked up in Slack before trying again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from shepherd.domain.config import ShepherdConfig
from shepherd.domain.errors import NotifierRejected, NotifierUnavailable
from shepherd.domain.jobs import JobKind, NewJob
from shepherd.domain.notify import (
    UPDATABLE,
    DeployView,
    Desired,
    Image,
    MessageRef,
    Notification,
    PageView,
    State,
    plan,
)
from shepherd.services.identity import SlackDirectory
from shepherd.services.jobs import HandlerRegistry, JobContext
from shepherd.services.ports import ChartRenderer, Notifier, UnitOfWork, UserLookup

log = logging.getLogger("shepherd.notify")


def sync_job(deploy_id: int, run_at: datetime | None = None) -> NewJob:
    return NewJob(
        kind=JobKind.SYNC_MESSAGES,
        payload={"deploy_id": deploy_id},
        serial_key=f"deploy:{deploy_id}",
        coalesce=True,
        deploy_id=deploy_id,
        run_at=run_at,
        max_attempts=16,  # backoff adds up to ~77 min on average (rate limits don't count)
    )


@dataclass(frozen=True)
class NotifyDeps:
    config: ShepherdConfig
    notifier: Notifier
    users: UserLookup
    public_url: str
    charts: ChartRenderer | None = None


def sync_messages(ctx: JobContext, deps: NotifyDeps) -> None:
    deploy_id = int(ctx.payload["deploy_id"])
    view = load_view(ctx, deps, deploy_id)
    if view is None:
        return
    rows = {n.key: n for n in _notifications(ctx, deploy_id)}
    result = plan(view, ctx.now(), posted=_posted(rows))
    failures = sum(_apply(ctx, deps, view, desired, rows) for desired in result.messages)
    if failures:  # the channel summary names failed DMs: bring it up to date
        view = load_view(ctx, deps, deploy_id)
        assert view is not None
        for desired in plan(view, ctx.now(), posted=_posted(rows)).messages:
            _apply(ctx, deps, view, desired, rows)
    if result.wake_at is not None:
        with ctx.transaction() as uow:
            uow.jobs.enqueue(sync_job(deploy_id, result.wake_at), now=ctx.now())


def _posted(rows: dict[str, Notification]) -> dict[str, datetime]:
    """When each message posted (or being posted) reached Slack: its last attempt, by our clock."""
    return {
        key: row.attempted_at
        for key, row in rows.items()
        if row.attempted_at is not None and (row.ts is not None or row.state is State.SENDING)
    }


def load_view(ctx: JobContext, deps: NotifyDeps, deploy_id: int) -> DeployView | None:
    with ctx.transaction() as uow:
        deploy = uow.deploys.get(deploy_id)
        if deploy is None:
            return None
        changes = uow.deploys.changes(deploy_id)
        people = uow.deploys.people(deploy_id)
        events = uow.deploys.events(deploy_id)
        acks = uow.notifications.acks(deploy_id)
        watch = uow.watches.get(deploy_id)
        checks = uow.watches.checks(deploy_id)
        pages = _pages(uow, deploy_id)
        rollbacks = uow.incidents.rollbacks(deploy_id)
        failed = {
            n.person_key: n.error or ""
            for n in uow.notifications.for_deploy(deploy_id)
            if n.state is State.FAILED and n.person_key
        }
    service = deps.config.service(deploy.service)
    if service is None:
        log.warning("deploy %s: service %s is no longer configured; no messages", deploy_id, deploy.service)
        return None
    directory = SlackDirectory(deps.config, deps.users, ctx.uow_factory, ctx.now())
    return DeployView(
        deploy=deploy,
        service=service,
        policy=service.policy(deps.config.policies),
        changes=tuple(changes),
        people=directory.recipients(people),
        events=tuple(events),
        acks=tuple(acks),
        owners=directory.owners(service.owners),
        public_url=deps.public_url,
        dm_errors=failed,
        watch=watch,
        checks=tuple(checks),
        pages=pages,
        rollbacks=tuple(rollbacks),
    )


def _pages(uow: UnitOfWork, deploy_id: int) -> tuple[PageView, ...]:
    pages = uow.alerts.pages_for_deploy(deploy_id)
    alerts = uow.alerts.for_pages([p.id for p in pages if p.id is not None])
    return tuple(PageView(p, tuple(a for a in alerts if a.page_id == p.id)) for p in pages)


def _notifications(ctx: JobContext, deploy_id: int) -> list[Notification]:
    with ctx.transaction() as uow:
        return uow.notifications.for_deploy(deploy_id)


def _apply(
    ctx: JobContext, deps: NotifyDeps, view: DeployView, desired: Desired, rows: dict[str, Notification]
) -> bool:
    """Post or update one message; True when it failed for good just now."""
    row = rows.get(desired.key) or _create(ctx, view, desired, rows)
    if row.state is State.FAILED:
        return False
    thread = None
    if desired.thread_key is not None:
        parent = rows.get(desired.thread_key)
        if parent is None or parent.state is not State.SENT or not parent.ts or not parent.channel:
            return False  # no thread to reply in (yet)
        thread = MessageRef(parent.channel, parent.ts)
    # A rate limit (NotifierRateLimited) propagates: the runner waits Retry-After, as for every job.
    if row.state is not State.SENT:
        image = _chart(deps, view) if desired.chart else None
        return _post(ctx, deps.notifier, desired, row, rows, thread, image)
    if desired.kind in UPDATABLE and row.fingerprint != desired.message.fingerprint():
        _update(ctx, deps.notifier, desired, row, rows)
    return False


def _create(
    ctx: JobContext, view: DeployView, desired: Desired, rows: dict[str, Notification]
) -> Notification:
    now = ctx.now()
    recipient = desired.recipient
    row = Notification(
        deploy_id=view.id,
        key=desired.key,
        kind=desired.kind,
        target=desired.target,
        thread_key=desired.thread_key,
        person_key=recipient.key if recipient else None,
        person_name=recipient.name if recipient else None,
        person_email=recipient.person.ref.email if recipient else None,
        created_at=now,
        updated_at=now,
    )
    with ctx.transaction() as uow:
        row = uow.notifications.add(row)
    rows[row.key] = row
    return row


def _post(
    ctx: JobContext,
    notifier: Notifier,
    desired: Desired,
    row: Notification,
    rows: dict[str, Notification],
    thread: MessageRef | None,
    image: Image | None,
) -> bool:
    if row.state is State.SENDING and row.attempted_at is not None:
        try:
            found = notifier.find_posted(
                target=row.target, key=row.key, since=row.attempted_at, deploy_id=row.deploy_id, thread=thread
            )
        except NotifierRejected as exc:  # e.g. no channels:history scope: cannot check, so post
            log.warning(
                "deploy %s: cannot look for an earlier post (%s); posting again", row.deploy_id, exc.code
            )
            found = None
        if found is not None:  # the earlier attempt did land: adopt it, then update it
            _save(ctx, rows, replace(row, state=State.SENT, channel=found.channel, ts=found.ts, error=None))
            return False
    row = _save(ctx, rows, replace(row, state=State.SENDING, attempted_at=ctx.now()))
    try:
        ref = notifier.post(
            target=row.target,
            message=desired.message,
            key=row.key,
            deploy_id=row.deploy_id,
            thread=thread,
            image=image,
        )
    except NotifierRejected as exc:
        _save(ctx, rows, replace(row, state=State.FAILED, error=exc.code))
        log.warning("deploy %s: %s to %s refused by Slack: %s", row.deploy_id, row.kind, row.target, exc.code)
        return True
    except NotifierUnavailable as exc:
        if not exc.maybe_sent:
            _save(ctx, rows, replace(row, state=State.PENDING, error=exc.code))
        else:
            _save(ctx, rows, replace(row, error=exc.code))
        raise
    fingerprint = desired.message.fingerprint()
    _save(
        ctx,
        rows,
        replace(row, state=State.SENT, channel=ref.channel, ts=ref.ts, fingerprint=fingerprint, error=None),
    )
    return False


def _chart(deps: NotifyDeps, view: DeployView) -> Image | None:
    if deps.charts is None or not view.checks:
        return None
    title = f"{view.where} {view.deploy.sha[:7]}: {view.watch.reason if view.watch else ''}"
    data = deps.charts.render(view.checks, deploy_at=view.deploy.started_at, title=title[:120])
    return Image(filename=f"deploy-{view.id}-checks.png", data=data, title=f"Checks of deploy {view.id}")


def _update(
    ctx: JobContext, notifier: Notifier, desired: Desired, row: Notification, rows: dict[str, Notification]
) -> None:
    assert row.channel is not None and row.ts is not None
    try:
        notifier.update(MessageRef(row.channel, row.ts), desired.message)
    except NotifierRejected as exc:  # e.g. message_not_found: keep what is there, say why
        _save(
            ctx,
            rows,
            replace(row, error=f"update refused: {exc.code}", fingerprint=desired.message.fingerprint()),
        )
        return
    _save(ctx, rows, replace(row, fingerprint=desired.message.fingerprint(), error=None))


def _save(ctx: JobContext, rows: dict[str, Notification], row: Notification) -> Notification:
    row = replace(row, updated_at=ctx.now())
    with ctx.transaction() as uow:
        uow.notifications.save(row)
    rows[row.key] = row
    return row


def register_jobs(registry: HandlerRegistry, deps: NotifyDeps) -> None:
    registry.register(JobKind.SYNC_MESSAGES, sync_messages, deps)
