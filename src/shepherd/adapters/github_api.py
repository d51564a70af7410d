"""GitHub REST API: who merged a pull request (git alone cannot tell for squash/rebase), and the
history of a repository's deployments (for `shepherd deploys import --github`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from shepherd.adapters.inbound.github_deployments import next_page
from shepherd.domain.deploys import Identity

PER_PAGE = 100  # GitHub's largest page


class GithubApi:
    def __init__(self, *, base_url: str, token: str, timeout: float = 10.0) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "shepherd",
            },
        )

    def merger(self, repo_full_name: str, number: int) -> tuple[Identity, str | None] | None:
        response = self._client.get(f"/repos/{repo_full_name}/pulls/{number}")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        merged_by = response.json().get("merged_by")
        if not isinstance(merged_by, dict) or not merged_by.get("login"):
            return None
        login = str(merged_by["login"])
        # GitHub's private commit address: resolves to a configured person by login.
        email = f"{merged_by.get('id', 0)}+{login}@users.noreply.github.com"
        return Identity(name=login, email=email), login

    def first_authored_at(self, repo_full_name: str, number: int) -> datetime | None:
        try:
            commits = self._paged(f"/repos/{repo_full_name}/pulls/{number}/commits", {"per_page": PER_PAGE})
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:
                return None
            raise
        dates = [
            str(c["commit"]["author"]["date"])
            for c in commits
            if isinstance(c.get("commit"), dict) and (c["commit"].get("author") or {}).get("date")
        ]
        return min(datetime.fromisoformat(d.replace("Z", "+00:00")) for d in dates) if dates else None

    def deployments(self, repo_full_name: str, environment: str) -> list[dict[str, Any]]:
        """Every deployment to `environment`, newest first, following the pages (100 a page)."""
        return self._paged(
            f"/repos/{repo_full_name}/deployments", {"environment": environment, "per_page": PER_PAGE}
        )

    def statuses(self, repo_full_name: str, deployment_id: int) -> list[dict[str, Any]]:
        """A deployment's statuses, newest first."""
        return self._paged(
            f"/repos/{repo_full_name}/deployments/{deployment_id}/statuses", {"per_page": PER_PAGE}
        )

    def _paged(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        url: str | None = path
        while url is not None:
            response = self._client.get(url, params=params if url == path else None)
            response.raise_for_status()
            page = response.json()
            if not isinstance(page, list):
                raise ValueError(f"GitHub answered {path} with {type(page).__name__}, not a list")
            out += [item for item in page if isinstance(item, dict)]
            url = next_page(response.headers.get("link"))
        return out

    def close(self) -> None:
        self._client.close()
