"""The `slack_reply` job: tell the person who pressed a button what happened, just to them.

Slack shows nothing of an interaction's HTTP answer, so a refused or started rollback is told
through the press's `response_url` (an ephemeral message), as every side effect: via a job.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Protocol

from shepherd.domain.errors import NotifierRejected
from shepherd.domain.jobs import JobKind, NewJob
from shepherd.services.jobs import HandlerRegistry, JobContext
from shepherd.services.ports import UnitOfWork

log = logging.getLogger("shepherd.slack")


class Responder(Protocol):
    def respond(self, url: str, text: str) -> None: ...


def reply_job(url: str, text: str) -> NewJob:
    key = hashlib.sha256(f"{url}\n{text}".encode()).hexdigest()[:40]
    # response_url lives 30 minutes: a few quick retries, then give up.
    return NewJob(
        kind=JobKind.SLACK_REPLY,
        payload={"url": url, "text": text},
        dedupe_key=f"reply:{key}",
        max_attempts=5,
    )


def reply_later(uow: UnitOfWork, url: str | None, text: str, *, now: datetime) -> None:
    """Queue an ephemeral answer to a press (inside the press's unit of work); none without a URL."""
    if url:
        uow.jobs.enqueue(reply_job(url, text), now=now)


def send_reply(ctx: JobContext, responder: Responder) -> None:
    try:
        responder.respond(str(ctx.payload["url"]), str(ctx.payload["text"]))
    except NotifierRejected as exc:  # expired or not Slack's: the person saw nothing, say so in the log
        log.warning("ephemeral reply not delivered: %s", exc.code)


def register_jobs(registry: HandlerRegistry, deps: Responder) -> None:
    registry.register(JobKind.SLACK_REPLY, send_reply, deps)
