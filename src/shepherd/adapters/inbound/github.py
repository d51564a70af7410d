"""GitHub webhooks: signature check and `deployment` / `deployment_status` parsing. Pure."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shepherd.adapters.inbound.errors import PayloadError
from shepherd.domain.deploys import SHA_RE, DeployStatus

__all__ = ["GithubDeployment", "PayloadError", "parse_deployment_event", "verify_signature"]


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature-256: sha256=<hex hmac of the raw body>`, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    # Bytes, not str: compare_digest refuses a non-ASCII str, and a header may hold anything.
    return hmac.compare_digest(expected, header.removeprefix("sha256=").encode(errors="surrogateescape"))


# GitHub deployment states → Shepherd's lifecycle. `inactive` only says a newer deployment
# took over the environment: it is not an event of this deploy's rollout.
STATE_MAP = {
    "queued": DeployStatus.STARTED,
    "pending": DeployStatus.STARTED,
    "in_progress": DeployStatus.PROGRESSING,
    "success": DeployStatus.SUCCEEDED,
    "failure": DeployStatus.FAILED,
    "error": DeployStatus.FAILED,
}


@dataclass(frozen=True)
class GithubDeployment:
    """What a `deployment` or `deployment_status` webhook tells about one deployment."""

    repository: str  # owner/name
    deployment_id: int
    sha: str
    ref: str | None
    environment: str
    creator: str | None
    created_at: datetime
    service_hint: str | None  # deployment.payload.service, for monorepos
    url: str | None
    status: DeployStatus | None = None  # set for deployment_status
    status_id: int | None = None
    status_state: str | None = None
    status_at: datetime | None = None
    description: str | None = None


def parse_deployment_event(event: str, body: bytes) -> GithubDeployment:
    data = _json_object(body)
    deployment = _object(data, "deployment")
    repository = _object(data, "repository")
    sha = _string(deployment, "sha", "deployment.sha")
    if not SHA_RE.match(sha):
        raise PayloadError(
            f"deployment.sha is not a commit sha: {sha!r}", details={"field": "deployment.sha"}
        )
    payload = deployment.get("payload")
    hint = payload.get("service") if isinstance(payload, dict) else None
    result = GithubDeployment(
        repository=_string(repository, "full_name", "repository.full_name"),
        deployment_id=_int(deployment, "id", "deployment.id"),
        sha=sha.lower(),
        ref=deployment.get("ref") if isinstance(deployment.get("ref"), str) else None,
        environment=_string(deployment, "environment", "deployment.environment"),
        creator=_login(deployment.get("creator")),
        created_at=_time(deployment, "created_at", "deployment.created_at"),
        service_hint=hint if isinstance(hint, str) else None,
        url=None,
    )
    if event == "deployment":
        return result
    status = _object(data, "deployment_status")
    state = _string(status, "state", "deployment_status.state")
    url = status.get("log_url") or status.get("target_url") or status.get("environment_url")
    return GithubDeployment(
        **{
            **result.__dict__,
            "status": STATE_MAP.get(state),
            "status_id": _int(status, "id", "deployment_status.id"),
            "status_state": state,
            "status_at": _time(status, "created_at", "deployment_status.created_at"),
            "description": status.get("description") or None,
            "url": url if isinstance(url, str) and url else None,
        }
    )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError("body must be a JSON object")
    return data


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise PayloadError(f"missing object {key!r}", details={"field": key})
    return value


def _string(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise PayloadError(f"missing or empty string {where}", details={"field": where})
    return value


def _int(data: dict[str, Any], key: str, where: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise PayloadError(f"missing integer {where}", details={"field": where})
    return value


def _time(data: dict[str, Any], key: str, where: str) -> datetime:
    value = _string(data, key, where)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(f"{where} is not an ISO-8601 time: {value!r}", details={"field": where}) from None
    if parsed.tzinfo is None:
        raise PayloadError(f"{where} has no time zone: {value!r}", details={"field": where})
    return parsed


def _login(user: Any) -> str | None:
    return user.get("login") if isinstance(user, dict) and isinstance(user.get("login"), str) else None
