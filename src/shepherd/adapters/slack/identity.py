"""Who someone is on Slack, by email (users.lookupByEmail): a UserLookup."""

from __future__ import annotations

from shepherd.adapters.slack.client import call, web_client
from shepherd.domain.errors import NotifierRejected

# Slack's answers for "nobody here has this email": an answer, unlike missing_scope.
NOT_FOUND = frozenset({"users_not_found", "user_not_found"})


class SlackUserLookup:
    def __init__(self, *, token: str, base_url: str, timeout: float = 10.0) -> None:
        self._client = web_client(token=token, base_url=base_url, timeout=timeout)

    def user_id(self, email: str) -> str | None:
        try:
            data = call(self._client.users_lookupByEmail, posting=False, email=email)
        except NotifierRejected as exc:
            if exc.code in NOT_FOUND:
                return None
            raise
        user = data.get("user") or {}
        # A deactivated account can still be found, but a DM to it goes nowhere.
        return str(user["id"]) if user.get("id") and not user.get("deleted") else None
