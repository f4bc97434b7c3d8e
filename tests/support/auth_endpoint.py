"""A small channel-authorization endpoint on 127.0.0.1, run in a thread, for HttpAuthorizer tests.

It answers like an app's ``/pusher/auth`` would: a form POST of ``socket_id`` and ``channel_name`` is signed
with the server SDK. Channels whose name contains ``forbidden`` get a 403, those containing ``garbage`` a 200
whose body is not JSON: what a broken or hostile endpoint sends, which no real server produces on demand.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs

import pusher

from support.engine import close_sdk_client


@dataclass(frozen=True, slots=True)
class AuthRequest:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


class AuthEndpoint:
    """``with AuthEndpoint(sdk) as endpoint: HttpAuthorizer(endpoint.url, ...)``; see :attr:`requests`."""

    def __init__(self, sdk: pusher.Pusher) -> None:
        self._sdk = sdk
        self._lock = threading.Lock()
        self._requests: list[AuthRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="test-auth-endpoint", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/pusher/auth"

    @property
    def requests(self) -> list[AuthRequest]:
        with self._lock:
            return list(self._requests)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        close_sdk_client(self._sdk)

    def _answer(self, form: dict[str, str]) -> tuple[int, str, bytes]:
        channel, socket_id = form.get("channel_name", ""), form.get("socket_id", "")
        if "forbidden" in channel:
            return 403, "application/json", b'{"error": "you may not read this channel"}'
        if "garbage" in channel:
            return 200, "text/html", b"<html>this is not JSON</html>"
        body: dict[str, Any] = self._sdk.authenticate(channel=channel, socket_id=socket_id)
        return 200, "application/json", json.dumps(body, default=_text).encode()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                with endpoint._lock:
                    endpoint._requests.append(AuthRequest("POST", self.path, dict(self.headers.items()), form))
                status, content_type, body = endpoint._answer(form)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep the test output clean

        return Handler


def _text(value: object) -> str:
    """The SDK returns the encrypted channels' ``shared_secret`` as bytes."""
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"cannot encode {type(value).__name__}")
