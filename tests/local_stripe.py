"""A local stand-in of Stripe's API for the tests: an HTTP server on 127.0.0.1 that the real
``stripe`` package reaches through its ``api_base``, answering what each test makes it answer.

The tests choose the answers (Stripe-shaped JSON objects and errors); the server only carries
requests and answers over HTTP, so the library's own request building, headers (the
idempotency key), retries and error classes run as they do against api.stripe.com.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Request:
    """One request the stand-in received."""

    method: str
    path: str
    """With its query string."""
    headers: dict[str, str]
    body: str
    """The form-encoded body of a POST ("" for a GET)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


@contextlib.contextmanager
def serve(answer: Callable[[Request], Answer]) -> Iterator[str]:
    """Run a stand-in whose every request is answered by ``answer``; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode() if length else ""
            given = answer(Request(method=method, path=self.path, headers=dict(self.headers), body=body))
            raw = json.dumps(given.body).encode()
            self.send_response(given.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in given.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
