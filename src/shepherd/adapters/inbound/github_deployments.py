"""GitHub's deployments history (REST: GET /repos/{o}/{r}/deployments and …/{id}/statuses) as
lines for `shepherd deploys import`. Pure: plain JSON in, plain JSON out.

A deployment's start is its `created_at`; its outcome is its newest status that says how it
ended (`success` → succeeded, `failure` or `error` → failed), at that status's `created_at`
(statuses come newest first; a later `inactive` only means a newer deployment replaced it). One
with no such status is still going (`in_progress`, `queued`, `pending`) and imported as started.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ENDED = {"success": "succeeded", "failure": "failed", "error": "failed"}


def import_lines(
    deployments: Sequence[Mapping[str, Any]],
    statuses: Mapping[int, Sequence[Mapping[str, Any]]],
    *,
    service: str,
    environment: str,
) -> list[dict[str, Any]]:
    """One import line per deployment to `environment` (GitHub's environment name as given)."""
    lines = []
    for d in deployments:
        if d.get("environment") != environment or not d.get("sha") or not d.get("created_at"):
            continue
        line: dict[str, Any] = {
            "service": service,
            "environment": environment,
            "sha": str(d["sha"]),
            "started_at": _utc(str(d["created_at"])),
            "status": "started",
            "idempotency_key": f"github-deployment:{d['id']}",
        }
        ended = next((s for s in statuses.get(int(d["id"]), ()) if s.get("state") in ENDED), None)
        if ended is not None:
            line["status"] = ENDED[str(ended["state"])]
            line["finished_at"] = _utc(str(ended.get("created_at") or d["created_at"]))
        lines.append(line)
    return lines


def _utc(stamp: str) -> str:
    return stamp.replace("Z", "+00:00") if stamp.endswith("Z") else stamp


def next_page(link_header: str | None) -> str | None:
    """The `rel="next"` URL of a GitHub Link header, if any."""
    for part in (link_header or "").split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None
