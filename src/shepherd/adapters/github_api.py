"""GitHub REST API: who merged a pull request (git alone cannot tell for squash/rebase)."""

from __future__ import annotations

import httpx

from shepherd.domain.deploys import Identity


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

    def close(self) -> None:
        self._client.close()
