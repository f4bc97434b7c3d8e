"""The original chat sample's server, in a thread: POST ``message`` and ``name`` -> ``message-added`` via soketi.

Like the sample, it forwards only ``message`` and ``name`` (so the sender sees its own message come back and
must recognise it). ``token``: when given, requests without ``Authorization: Bearer <token>`` get a 401.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs

from support.soketi import Soketi


class ChatEndpoint:
    def __init__(self, soketi: Soketi, channel: str = "private-chat", *, token: str | None = None) -> None:
        self._lock = threading.Lock()
        self._posts: list[dict[str, str]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if token is not None and self.headers.get("Authorization") != f"Bearer {token}":
                    self._answer(401, b'{"error": "invalid token"}')
                    return
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with endpoint._lock:
                    endpoint._posts.append(form)
                if "message" not in form or "name" not in form:
                    self._answer(400, b'{"error": "message and name are required"}')
                    return
                soketi.trigger(channel, "message-added", {"message": form["message"], "name": form["name"]})
                self._answer(200, b'{"ok": true}')

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep the test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/message"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="test-chat-endpoint", daemon=True)

    @property
    def posts(self) -> list[dict[str, str]]:
        with self._lock:
            return list(self._posts)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
