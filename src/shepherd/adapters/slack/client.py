"""The Slack notifier: slack_sdk's WebClient, errors sorted into retry / wait / give up."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlparse
from urllib.request import getproxies, proxy_bypass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from shepherd.adapters.http_errors import Failure, HttpProblem, from_exception, from_status
from shepherd.adapters.slack.blocks import attachments, fallback_text
from shepherd.domain.errors import NotifierRateLimited, NotifierRejected, NotifierUnavailable
from shepherd.domain.notify import Image, Message, MessageRef

log = logging.getLogger("shepherd.slack")
METADATA_TYPE = "shepherd_notification"
# Slack's own "try again" answers (HTTP 200 with ok=false).
RETRYABLE = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout"})
RATE_LIMITED = frozenset({"ratelimited", "rate_limited"})


def web_client(*, token: str, base_url: str, timeout: float = 10.0) -> WebClient:
    # Retries go through the jobs table (durable, honouring Retry-After), not in-process.
    client = WebClient(token=token, base_url=base_url, timeout=int(timeout), retry_handlers=[])
    # slack_sdk reads HTTPS_PROXY itself but ignores NO_PROXY: decide here, as urllib would.
    client.proxy = _proxy_for(base_url)
    return client


class SlackNotifier:
    def __init__(self, *, token: str, base_url: str, timeout: float = 10.0) -> None:
        self._client = web_client(token=token, base_url=base_url, timeout=timeout)
        self._channel_ids: dict[str, str] = {}

    def post(
        self,
        *,
        target: str,
        message: Message,
        key: str,
        deploy_id: int | None = None,
        thread: MessageRef | None = None,
        image: Image | None = None,
    ) -> MessageRef:
        payload: dict[str, Any] = {"key": key} | ({"deploy_id": deploy_id} if deploy_id is not None else {})
        args: dict[str, Any] = {
            "channel": thread.channel if thread else target,
            "text": fallback_text(message),
            "attachments": attachments(message),
            "metadata": {"event_type": METADATA_TYPE, "event_payload": payload},
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if thread is not None:
            args["thread_ts"] = thread.ts
        data = call(self._client.chat_postMessage, posting=True, **args)
        ref = MessageRef(channel=str(data["channel"]), ts=str(data["ts"]))
        if image is not None:
            self._upload(image, thread or ref)
        return ref

    def _upload(self, image: Image, where: MessageRef) -> None:
        """The chart goes in the message's thread; losing it must not cost the message itself."""
        try:
            call(
                self._client.files_upload_v2,
                posting=False,
                channel=where.channel,
                thread_ts=where.ts,
                file=image.data,
                filename=image.filename,
                title=image.title,
            )
        except (NotifierRejected, NotifierUnavailable) as exc:
            log.warning("chart upload to %s failed: %s", where.channel, exc)

    def update(self, ref: MessageRef, message: Message) -> None:
        call(
            self._client.chat_update,
            posting=False,
            channel=ref.channel,
            ts=ref.ts,
            text=fallback_text(message),
            attachments=attachments(message),
        )

    def find_posted(
        self,
        *,
        target: str,
        key: str,
        since: datetime,
        deploy_id: int | None = None,
        thread: MessageRef | None = None,
    ) -> MessageRef | None:
        channel = thread.channel if thread else self._channel_id(target)
        if channel is None:
            return None
        oldest = f"{since.timestamp() - 5:.6f}"
        if thread is not None:
            data = call(
                self._client.conversations_replies,
                posting=False,
                channel=channel,
                ts=thread.ts,
                oldest=oldest,
                include_all_metadata=True,
                limit=200,
            )
        else:
            data = call(
                self._client.conversations_history,
                posting=False,
                channel=channel,
                oldest=oldest,
                include_all_metadata=True,
                limit=200,
            )
        for item in data.get("messages") or []:
            metadata = item.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == METADATA_TYPE
                and payload.get("key") == key
                and payload.get("deploy_id") == deploy_id
            ):
                return MessageRef(channel=channel, ts=str(item["ts"]))
        return None

    def _channel_id(self, target: str) -> str | None:
        if target[:1] in ("C", "G", "D") and target.isalnum():
            return target
        if target not in self._channel_ids:
            if target[:1] in ("U", "W"):
                data = call(self._client.conversations_open, posting=False, users=target)
                self._channel_ids[target] = str(data["channel"]["id"])
            else:
                self._channel_ids.update(self._channels_by_name())
        return self._channel_ids.get(target)

    def _channels_by_name(self) -> dict[str, str]:
        found: dict[str, str] = {}
        cursor = None
        for _ in range(20):  # at most 20 pages of 1,000
            data = call(
                self._client.conversations_list,
                posting=False,
                limit=1000,
                cursor=cursor,
                types="public_channel,private_channel",
                exclude_archived=True,
            )
            for channel in data.get("channels") or []:
                found[f"#{channel['name']}"] = channel["id"]
                found[channel["name"]] = channel["id"]
            cursor = (data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return found


def call(method: Callable[..., Any], *, posting: bool, **kwargs: Any) -> Any:
    """One Web API call's data; every failure becomes a Notifier error.

    `posting`: the call creates a message, so a failure without an answer may have landed.
    """
    try:
        return method(**kwargs).data
    except SlackApiError as exc:
        raise _classify(exc, posting) from None
    except OSError as exc:  # urllib's URLError, timeouts, refused and reset connections
        problem = from_exception(exc)
        raise NotifierUnavailable(
            "connection", f"Slack: {problem.reason}", maybe_sent=posting and problem.maybe_delivered
        ) from None


def _proxy_for(url: str) -> str | None:
    parsed = urlparse(url)
    if proxy_bypass(parsed.hostname or ""):
        return None
    return getproxies().get(parsed.scheme)


def _classify(exc: SlackApiError, posting: bool) -> Exception:
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    code = str(data.get("error") or "") if isinstance(data, dict) else ""
    problem = from_status(status, getattr(response, "headers", None) or {})
    if problem is None or problem.failure is Failure.PERMANENT:
        # Slack mostly answers HTTP 200 {"ok": false, "error": code}: the code decides.
        problem = _answer(code, status) or problem or HttpProblem(Failure.PERMANENT, code, status)
    if problem.rate_limited:
        return NotifierRateLimited(problem.retry_after if problem.retry_after is not None else 1.0)
    if problem.transient:
        return NotifierUnavailable(
            code or f"http_{status}",
            f"Slack answered {status} {code}",
            maybe_sent=posting and problem.maybe_delivered,
        )
    return NotifierRejected(code or f"http_{status}", f"Slack refused: {code or status}")


def _answer(code: str, status: int) -> HttpProblem | None:
    """What Slack's own error codes mean, whatever the HTTP status."""
    if code in RATE_LIMITED:
        return HttpProblem(Failure.RATE_LIMITED, code, status)
    if code in RETRYABLE:  # Slack had the request: a post may have landed
        return HttpProblem(Failure.TRANSIENT, code, status, maybe_delivered=True)
    return None
