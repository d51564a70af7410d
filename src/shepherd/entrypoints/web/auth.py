"""Who may call what: each route declares one of these `Annotated` dependencies.

Tokens and shared secrets are compared by `_matches`, in constant time; GitHub's and Slack's
signatures are verified by their pure checks in adapters/inbound. Every refusal is
`Unauthorized` (401). A check whose secret is not configured refuses with a message naming
the setting, unless the server runs with --insecure-dev.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, Request
from pydantic import SecretStr

from shepherd.adapters.inbound.github import verify_signature
from shepherd.adapters.slack.signature import verify_slack_signature
from shepherd.bootstrap import Shepherd
from shepherd.entrypoints.web.deps import ShepherdDep
from shepherd.services.errors import Unauthorized


def _matches(offered: str | None, secrets: Iterable[SecretStr]) -> bool:
    """Whether the offered value is one of the secrets, in time that does not depend on how much matches.

    Compared as UTF-8 bytes: `hmac.compare_digest` refuses non-ASCII str, and a header may hold any.
    """
    if offered is None:
        return False
    given = offered.encode(errors="surrogateescape")
    results = [hmac.compare_digest(given, s.get_secret_value().encode()) for s in secrets]
    return any(results)


def _unless_insecure(request: Request, message: str) -> None:
    """The secret is not configured: only a laptop running --insecure-dev may go on."""
    if not request.app.state.insecure_dev:
        raise Unauthorized(message)


def _bearer(request: Request) -> str | None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" else None


def require_token(request: Request, shepherd: ShepherdDep) -> None:
    """`/api/v1` writes: `Authorization: Bearer $SHEPHERD_API_TOKEN`."""
    token = shepherd.settings.api_token
    if token is None:
        _unless_insecure(
            request,
            "API writes are disabled: set SHEPHERD_API_TOKEN on the server "
            "(or start it with --insecure-dev on a laptop)",
        )
        return
    if not _matches(_bearer(request), [token]):
        raise Unauthorized("missing or wrong bearer token (Authorization: Bearer $SHEPHERD_API_TOKEN)")


def _readers(shepherd: Shepherd) -> list[SecretStr]:
    settings = shepherd.settings
    return [t for t in (settings.api_token, settings.read_token) if t is not None]


def require_read(request: Request, shepherd: ShepherdDep) -> None:
    """`/api/v1` reads: `Authorization: Bearer` with SHEPHERD_READ_TOKEN or SHEPHERD_API_TOKEN.

    They hold people's names, emails and Slack ids: nobody reads them without a token.
    """
    tokens = _readers(shepherd)
    if not tokens:
        _unless_insecure(
            request,
            "API reads are disabled: set SHEPHERD_READ_TOKEN or SHEPHERD_API_TOKEN on the server "
            "(or start it with --insecure-dev on a laptop)",
        )
        return
    if not _matches(_bearer(request), tokens):
        raise Unauthorized(
            "missing or wrong bearer token "
            "(Authorization: Bearer $SHEPHERD_READ_TOKEN or $SHEPHERD_API_TOKEN)"
        )


def require_metrics_read(request: Request, shepherd: ShepherdDep) -> None:
    """`/metrics`: open with SHEPHERD_METRICS_PUBLIC=true (a scraper inside the network), else a read."""
    if not shepherd.settings.metrics_public:
        require_read(request, shepherd)


def require_flagger_token(hook: str, request: Request, shepherd: ShepherdDep) -> None:
    """Flagger's `event` hook writes (the API token); its gate hooks read a verdict (either token).

    Flagger's webhooks carry no headers of their own, so the token usually comes as ?token=…
    in the URL, which Shepherd blanks in every log line (redact.py); a bearer header (a proxy
    may add one) is read first.
    """
    tokens = [shepherd.settings.api_token] if hook == "event" else _readers(shepherd)
    tokens = [t for t in tokens if t is not None]
    if not tokens:
        _unless_insecure(request, "set SHEPHERD_API_TOKEN (and SHEPHERD_READ_TOKEN for gates only)")
        return
    given = _bearer(request) or request.query_params.get("token")  # the header first
    if not _matches(given.strip() if given else None, tokens):
        raise Unauthorized("missing or wrong token (Authorization: Bearer … or ?token=…)")


def _check_alert_secret(request: Request, shepherd: Shepherd, path_secret: str | None) -> None:
    settings = shepherd.settings
    # In a path a secret ends up in proxies' and access logs: there only the alert secret, never
    # the API token (which can do far more) is accepted.
    allowed = (
        (settings.alert_webhook_secret,)
        if path_secret is not None
        else (settings.api_token, settings.alert_webhook_secret)
    )
    secrets = [s for s in allowed if s is not None]
    if not secrets:
        needed = "SHEPHERD_ALERT_WEBHOOK_SECRET" + (
            "" if path_secret is not None else " or SHEPHERD_API_TOKEN"
        )
        _unless_insecure(request, f"alert webhooks are disabled: set {needed}")
        return
    offered = path_secret if path_secret is not None else _bearer(request)
    if not _matches(offered, secrets):
        if path_secret is not None:
            raise Unauthorized("the secret in the URL does not match SHEPHERD_ALERT_WEBHOOK_SECRET")
        raise Unauthorized(
            "the bearer token does not match SHEPHERD_ALERT_WEBHOOK_SECRET or SHEPHERD_API_TOKEN"
        )


def require_alert_bearer(request: Request, shepherd: ShepherdDep) -> None:
    """Alert webhooks: `Authorization: Bearer <SHEPHERD_API_TOKEN or SHEPHERD_ALERT_WEBHOOK_SECRET>`."""
    _check_alert_secret(request, shepherd, None)


def require_alert_path_secret(secret: str, request: Request, shepherd: ShepherdDep) -> None:
    """Alert webhooks from tools that cannot send headers: the secret as the last path segment."""
    _check_alert_secret(request, shepherd, secret)


async def github_signed_body(request: Request, shepherd: ShepherdDep) -> bytes:
    """The raw body, once `X-Hub-Signature-256` proves it is GitHub's."""
    body = await request.body()
    secret = shepherd.settings.github_webhook_secret
    if secret is None:
        _unless_insecure(request, "GitHub webhooks are disabled: set SHEPHERD_GITHUB_WEBHOOK_SECRET")
    elif not verify_signature(
        secret.get_secret_value().encode(), body, request.headers.get("x-hub-signature-256")
    ):
        raise Unauthorized("X-Hub-Signature-256 is missing or does not match the webhook secret")
    return body


async def slack_signed_body(request: Request, shepherd: ShepherdDep) -> bytes:
    """The raw body, once Slack's signature and timestamp prove it is Slack's and fresh."""
    body = await request.body()
    secret = shepherd.settings.slack_signing_secret
    if secret is None:
        _unless_insecure(request, "Slack interactions are disabled: set SHEPHERD_SLACK_SIGNING_SECRET")
        return body
    problem = verify_slack_signature(
        secret.get_secret_value().encode(),
        timestamp=request.headers.get("x-slack-request-timestamp"),
        body=body,
        signature=request.headers.get("x-slack-signature"),
        now=time.time(),
    )
    if problem:
        raise Unauthorized(problem)
    return body


WriteAccess = Annotated[None, Depends(require_token)]
ReadAccess = Annotated[None, Depends(require_read)]
MetricsAccess = Annotated[None, Depends(require_metrics_read)]
FlaggerAccess = Annotated[None, Depends(require_flagger_token)]
AlertBearerAccess = Annotated[None, Depends(require_alert_bearer)]
AlertPathSecretAccess = Annotated[None, Depends(require_alert_path_secret)]
GitHubSignedBody = Annotated[bytes, Depends(github_signed_body)]
SlackSignedBody = Annotated[bytes, Depends(slack_signed_body)]
