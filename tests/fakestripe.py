"""A small fake of the Stripe API on 127.0.0.1, for stripe-python pointed at it via STRIPE_API_BASE.

Tests register handlers by method and path pattern; each gets the decoded form parameters (Stripe's
`a[b][0]=c` bracket encoding turned into nested dicts and lists) and returns (status, json_body).
Every request is recorded in `server.requests` so tests can assert on what the service sent.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Handler = Callable[["Request"], tuple[int, dict[str, Any]]]


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    match: re.Match | None = None


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracket form encoding to nested data.

    'metadata[campaign]=x&line_items[0][price]=p' -> {'metadata': {'campaign': 'x'}, 'line_items': [{'price': 'p'}]}
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        node: Any = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt = None if last else parts[i + 1]
            container: Any = [] if nxt is not None and (nxt.isdigit() or nxt == "[]") else {}
            if isinstance(node, list):
                idx = len(node) if part == "[]" else int(part)
                while len(node) <= idx:
                    node.append(None)
                if last:
                    node[idx] = value
                else:
                    if node[idx] is None:
                        node[idx] = container
                    node = node[idx]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, container)
    return root


@dataclass
class FakeStripe:
    routes: list[tuple[str, re.Pattern, Handler]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def route(self, method: str, pattern: str, handler: Handler | None = None):  # noqa: ANN201
        """Register `handler` for METHOD and a path regex (full match), newest first."""
        def register(fn: Handler) -> Handler:
            self.routes.insert(0, (method.upper(), re.compile(pattern), fn))
            return fn
        return register(handler) if handler else register

    def reply(self, method: str, pattern: str, body: dict[str, Any], status: int = 200) -> None:
        self.route(method, pattern, lambda req: (status, body))

    def error(self, method: str, pattern: str, status: int = 402, message: str = "Your card was declined.",
              type_: str = "card_error", request_id: str = "req_fake_123") -> None:
        def handler(req: Request) -> tuple[int, dict[str, Any]]:
            return status, {"error": {"type": type_, "message": message}, "_request_id": request_id}
        self.route(method, pattern, handler)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def dispatch(self, method: str, raw_path: str, body: bytes, headers: dict[str, str]
                 ) -> tuple[int, dict[str, Any], dict[str, str]]:
        split = urlsplit(raw_path)
        pairs = parse_qsl(split.query, keep_blank_values=True) + parse_qsl(body.decode(), keep_blank_values=True)
        req = Request(method, split.path, decode_form(pairs), headers)
        self.requests.append(req)
        for m, pattern, handler in self.routes:
            match = pattern.fullmatch(split.path)
            if m == method and match:
                req.match = match
                status, payload = handler(req)
                extra = {}
                if isinstance(payload, dict) and "_request_id" in payload:
                    payload = dict(payload)
                    extra["Request-Id"] = payload.pop("_request_id")
                return status, payload, extra
        return 404, {"error": {"type": "invalid_request_error",
                               "message": f"Unrecognized request URL ({method}: {split.path})."}}, {}

    def start(self) -> FakeStripe:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, payload, extra = fake.dispatch(self.command, self.path, body, dict(self.headers))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", extra.get("Request-Id", "req_fake_ok"))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def requests_to(self, method: str, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path == path]
