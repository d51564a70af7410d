"""A small fake of Slack's Web API (the methods Shepherd calls), with failures on demand.

Answers like Slack: HTTP 200 with {"ok": false, "error": ...} for application errors, 429
with Retry-After for rate limits, and records every call for assertions.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

TOKEN = "xoxb-test-token"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    status: int


@dataclass
class Posted:
    channel: str
    ts: str
    text: str
    args: dict[str, Any]
    thread_ts: str | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        latest = self.updates[-1] if self.updates else self.args
        attachments = latest.get("attachments") or [{}]
        return list(attachments[0].get("blocks") or [])

    @property
    def body(self) -> str:
        """All text a reader sees, as posted or last updated."""
        parts = [str((self.updates[-1] if self.updates else self.args).get("text", ""))]
        for block in self.blocks:
            if block.get("text"):
                parts.append(block["text"]["text"])
            for element in block.get("elements", []):
                text = element.get("text")
                parts.append(text["text"] if isinstance(text, dict) else str(text or ""))
        return "\n".join(parts)


@dataclass
class Upload:
    file_id: str
    filename: str
    data: bytes = b""
    channel: str | None = None
    thread_ts: str | None = None
    title: str | None = None


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: list[Posted] = []
        self.uploads: dict[str, Upload] = {}
        self.users: dict[str, str] = {}  # email → user id
        self.channels: dict[str, str] = {}  # "#name" → id
        self.responses: list[tuple[str, dict[str, Any]]] = []  # (path, body) posted to response_urls
        self._ts = itertools.count(1)
        self._failures: list[tuple[str, int, dict[str, str], str, bool]] = []
        self.errors: dict[tuple[str, str], str] = {}  # (method, channel/target) → error code
        self.lock = threading.Lock()
        self.url = ""
        self.outage: int | None = None  # while set, every call answers this status

    # -- failure injection ---------------------------------------------------------------

    def fail_next(
        self,
        count: int,
        *,
        status: int = 500,
        method: str = "*",
        error: str = "internal_error",
        retry_after: float | None = None,
        but_post: bool = False,
    ) -> None:
        """The next `count` calls (of `method`) fail; `but_post` lands the message anyway."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        with self.lock:
            self._failures += [(method, status, headers, error, but_post)] * count

    def down(self, status: int = 503) -> None:
        """Slack is down until `up()`: every call answers `status` (as during an incident)."""
        with self.lock:
            self.outage = status

    def up(self) -> None:
        with self.lock:
            self.outage = None

    # -- views for tests -------------------------------------------------------------------

    def posts(self, channel: str | None = None) -> list[Posted]:
        return [m for m in self.messages if channel is None or m.channel == channel]

    def dm(self, user: str) -> list[Posted]:
        return [m for m in self.messages if m.channel == f"D{user}"]

    def method_calls(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    # -- the API ---------------------------------------------------------------------------

    def handle(
        self, method: str, args: dict[str, Any], auth: str | None
    ) -> tuple[int, dict[str, str], dict[str, Any]]:
        with self.lock:
            if self.outage is not None:
                self.calls.append(Call(method, args, self.outage))
                return self.outage, {}, {"ok": False, "error": "service_unavailable"}
            failure = next((f for f in self._failures if f[0] in ("*", method)), None)
            if failure is not None:
                self._failures.remove(failure)
                _, status, headers, error, but_post = failure
                if but_post and method == "chat.postMessage":
                    self._post(args)
                body = {"ok": False, "error": "ratelimited" if status == 429 else error}
                self.calls.append(Call(method, args, status))
                return status, headers, body
            self.calls.append(Call(method, args, 200))
            if auth != f"Bearer {TOKEN}":
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            if handler is None:
                return 200, {}, {"ok": False, "error": "unknown_method"}
            result: dict[str, Any] = handler(args)
            return 200, {}, result

    def _channel_of(self, target: str) -> str:
        if target.startswith(("U", "W")):
            return f"D{target}"
        if target.startswith("#"):
            return self.channels.setdefault(target, f"C{len(self.channels) + 1:08d}")
        return target

    def _post(self, args: dict[str, Any]) -> Posted:
        channel = self._channel_of(str(args["channel"]))
        message = Posted(
            channel,
            f"{1_800_000_000 + next(self._ts)}.000100",
            str(args.get("text", "")),
            args,
            thread_ts=args.get("thread_ts"),
        )
        self.messages.append(message)
        return message

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        code = self.errors.get(("chat.postMessage", str(args.get("channel"))))
        if code:
            return {"ok": False, "error": code}
        message = self._post(args)
        return {"ok": True, "channel": message.channel, "ts": message.ts, "message": {"text": message.text}}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        found = next(
            (m for m in self.messages if m.channel == args.get("channel") and m.ts == args.get("ts")), None
        )
        if found is None:
            return {"ok": False, "error": "message_not_found"}
        found.updates.append(args)
        return {"ok": True, "channel": found.channel, "ts": found.ts, "text": args.get("text")}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://shepherd-test.slack.com/", "team": "Test", "user_id": "UBOT"}

    def _users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("email", "")).lower())
        if user is None:
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True, "user": {"id": user, "deleted": False, "profile": {"email": args["email"]}}}

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": f"D{args['users']}"}}

    def _conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        channels = [{"id": cid, "name": name.lstrip("#")} for name, cid in self.channels.items()]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        found = [m for m in self.messages if m.channel == args.get("channel") and m.thread_ts is None]
        return {"ok": True, "messages": [_with_metadata(m) for m in reversed(found)]}

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        found = [
            m for m in self.messages if m.channel == args.get("channel") and m.thread_ts == args.get("ts")
        ]
        return {"ok": True, "messages": [_with_metadata(m) for m in found]}

    # files_upload_v2: get an upload URL, send the bytes there, then complete into a channel.
    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{len(self.uploads) + 1:06d}"
        self.uploads[file_id] = Upload(file_id, str(args.get("filename")))
        return {"ok": True, "file_id": file_id, "upload_url": f"{self.url}upload/{file_id}"}

    def receive_upload(self, file_id: str, data: bytes) -> bool:
        with self.lock:
            upload = self.uploads.get(file_id)
            if upload is None:
                return False
            upload.data = data
            return True

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        items = json.loads(files) if isinstance(files, str) else files or []
        done = []
        for item in items:
            upload = self.uploads.get(item["id"])
            if upload is None or not upload.data:
                return {"ok": False, "error": "file_not_found"}
            upload.channel, upload.thread_ts, upload.title = (
                args.get("channel_id"),
                args.get("thread_ts"),
                item.get("title"),
            )
            done.append({"id": upload.file_id, "title": upload.title})
        return {"ok": True, "files": done}


def _with_metadata(message: Posted) -> dict[str, Any]:
    return {
        "type": "message",
        "ts": message.ts,
        "text": message.text,
        "metadata": message.args.get("metadata"),
    }


class _Handler(BaseHTTPRequestHandler):
    slack: FakeSlack

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        parsed = urlparse(self.path)
        if "/actions/" in parsed.path:  # a press's response_url (hooks.slack.com/actions/… in Slack)
            self._response(parsed.path)
            return
        if "/upload/" in parsed.path:
            self._upload(parsed.path.rsplit("/", 1)[-1])
            return
        method = parsed.path.rsplit("/", 1)[-1]
        args: dict[str, Any] = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if raw:
            if "json" in (self.headers.get("Content-Type") or ""):
                args.update(json.loads(raw))
            else:
                args.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
        for key in ("attachments", "metadata", "blocks"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        status, headers, body = self.slack.handle(method, args, self.headers.get("Authorization"))
        payload = json.dumps(body).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _response(self, path: str) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.slack.lock:
            self.slack.responses.append((path, json.loads(raw or b"{}")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def _upload(self, file_id: str) -> None:
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ok = self.slack.receive_upload(file_id, data)
        body = f"OK - {len(data)}".encode() if ok else b"unknown upload"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def running_fake_slack() -> Iterator[FakeSlack]:
    slack = FakeSlack()
    handler = type("Handler", (_Handler,), {"slack": slack})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    slack.url = f"http://127.0.0.1:{server.server_port}/api/"
    try:
        yield slack
    finally:
        server.shutdown()
        server.server_close()
