"""JSON shapes of deploys, changes, people, jobs and notifications, as the API returns them."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from shepherd.domain.deploys import Change, Deploy, DeployEvent, DeployPerson
from shepherd.domain.jobs import Job
from shepherd.domain.notify import Ack, Notification


def iso(value: datetime | None) -> str | None:
    """UTC times as the API writes them: ISO 8601 with a Z."""
    return value.isoformat().replace("+00:00", "Z") if value else None


def deploy_summary(deploy: Deploy, public_url: str) -> dict[str, Any]:
    return {
        "id": deploy.id,
        "service": deploy.service,
        "environment": deploy.environment,
        "sha": deploy.sha,
        "previous_sha": deploy.previous_sha,
        "version": deploy.version,
        "ref": deploy.ref,
        "deployer": deploy.deployer,
        "url": deploy.url,
        "status": deploy.status.value,
        "percent": deploy.percent,
        "stage": deploy.stage,
        "message": deploy.message,
        "source": deploy.source,
        # API keys are stored as "api:<key>" so they cannot collide with GitHub's: show the client's.
        "idempotency_key": (deploy.idempotency_key or "").removeprefix("api:") or None,
        "started_at": iso(deploy.started_at),
        "finished_at": iso(deploy.finished_at),
        "updated_at": iso(deploy.updated_at),
        "attribution": {
            "state": deploy.attribution_state.value,
            "error": deploy.attribution_error,
            "notes": deploy.attribution_notes,
            "base_sha": deploy.base_sha,
            "total_commits": deploy.total_commits,
            "total_changes": deploy.total_changes,
            "skipped_changes": deploy.skipped_changes,
        },
        "links": {"self": f"{public_url.rstrip('/')}/api/v1/deploys/{deploy.id}"},
    }


def change_view(change: Change) -> dict[str, Any]:
    return {
        "sha": change.sha,
        "short_sha": change.sha[:7],
        "subject": change.subject,
        "pr_number": change.pr_number,
        "author": asdict(change.author),
        "coauthors": [asdict(c) for c in change.coauthors],
        "merger": asdict(change.merger) if change.merger else None,
        "merge_sha": change.merge_sha,
        "authored_at": iso(change.authored_at),
        "committed_at": iso(change.committed_at),
        "files": list(change.files),
        "path_rules": list(change.path_rules),
    }


def person_view(person: DeployPerson) -> dict[str, Any]:
    return {
        **asdict(person.ref),
        "roles": sorted(r.value for r in person.roles),
        "changes": person.change_shas,
        "merged_prs": sorted(person.merged_prs),
    }


def event_view(event: DeployEvent) -> dict[str, Any]:
    return {
        "status": event.status.value,
        "percent": event.percent,
        "stage": event.stage,
        "message": event.message,
        "source": event.source,
        "applied": event.applied,
        "occurred_at": iso(event.occurred_at),
        "received_at": iso(event.received_at),
    }


def job_view(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "state": job.state.value,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "run_at": iso(job.run_at),
        "last_error": job.last_error,
        "deploy_id": job.deploy_id,
        "destination": job.destination,
        "created_at": iso(job.created_at),
        "finished_at": iso(job.finished_at),
    }


def notification_view(notification: Notification) -> dict[str, Any]:
    return {
        "kind": notification.kind.value,
        "key": notification.key,
        "person": notification.person_name,
        "email": notification.person_email,
        "target": notification.target,
        "channel": notification.channel,
        "ts": notification.ts,
        "state": notification.state.value,
        "error": notification.error,
        "updated_at": iso(notification.updated_at),
    }


def ack_view(ack: Ack) -> dict[str, Any]:
    return {"name": ack.name, "slack_user": ack.slack_user, "at": iso(ack.acked_at)}
