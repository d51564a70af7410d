"""A small fake of GitHub's REST API for deployments: the list (paged with a Link header, as the
documentation describes: `rel="next"` until the last page) and each deployment's statuses.

Deployments and statuses are shaped from the recorded webhook payloads' `deployment` and
`deployment_status` objects, which are the same resources the REST API returns.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

TOKEN = "ghp_test_token_0123456789"


@dataclass
class FakeGithub:
    url: str = ""
    deployments: list[dict[str, Any]] = field(default_factory=list)  # newest first
    statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # newest first
    requests: list[str] = field(default_factory=list)

    def answer(self, path: str, query: dict[str, list[str]], auth: str | None) -> tuple[int, Any, str | None]:
        self.requests.append(path)
        if auth != f"Bearer {TOKEN}":
            return 401, {"message": "Bad credentials"}, None
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "repos" and parts[3] == "deployments":
            wanted = query.get("environment", [None])[0]
            items = [d for d in self.deployments if wanted is None or d["environment"] == wanted]
            return self._page(path, items, query)
        if len(parts) == 6 and parts[3] == "deployments" and parts[5] == "statuses":
            return self._page(path, self.statuses.get(int(parts[4]), []), query)
        return 404, {"message": "Not Found"}, None

    def _page(
        self, path: str, items: list[dict[str, Any]], query: dict[str, list[str]]
    ) -> tuple[int, Any, str | None]:
        per_page = int(query.get("per_page", ["30"])[0])
        page = int(query.get("page", ["1"])[0])
        chunk = items[(page - 1) * per_page : page * per_page]
        link = None
        if page * per_page < len(items):
            rest = "&".join(f"{k}={v[0]}" for k, v in query.items() if k != "page")
            link = f'<{self.url}{path}?{rest}&page={page + 1}>; rel="next"'
        return 200, chunk, link


@contextmanager
def running_fake_github() -> Iterator[FakeGithub]:
    fake = FakeGithub()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            status, body, link = fake.answer(
                parsed.path, parse_qs(parsed.query), self.headers.get("Authorization")
            )
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if link:
                self.send_header("Link", link)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield fake
    finally:
        server.shutdown()
