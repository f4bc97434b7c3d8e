"""A small channel-authorization endpoint on 127.0.0.1, run in a thread, for HttpAuthorizer tests.

It answers like an app's ``/pusher/auth`` would: a form POST of ``socket_id`` and ``channel_name`` is signed
with the server SDK. Channels whose name contains ``forbidden`` get a 403, those containing ``garbage`` a 200
whose body is not JSON: what a broken or hostile endpoint sends, which no real server produces on demand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pusher

from support.engine import close_sdk_client
from support.http_stub import HttpStub, Reply, StubRequest, StubService


@dataclass(frozen=True, slots=True)
class AuthRequest:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


class AuthEndpoint(StubService):
    """``with AuthEndpoint(sdk) as endpoint: HttpAuthorizer(endpoint.url, ...)``; see :attr:`requests`.
    Served by the loopback :class:`HttpStub`."""

    def __init__(self, sdk: pusher.Pusher) -> None:
        self._sdk = sdk
        self._stub = HttpStub(self._play)
        self.url = self._stub.url("/pusher/auth")

    @property
    def requests(self) -> list[AuthRequest]:
        return [AuthRequest(r.method, r.path, dict(r.headers), r.form) for r in self._stub.requests]

    def stop(self) -> None:
        super().stop()
        close_sdk_client(self._sdk)

    def _play(self, request: StubRequest) -> Reply:
        status, content_type, body = self._answer(request.form)
        return Reply(status, body, {"Content-Type": content_type})

    def _answer(self, form: dict[str, str]) -> tuple[int, str, bytes]:
        """The answer to one form (a subclass may answer otherwise): status, content type and body."""
        channel, socket_id = form.get("channel_name", ""), form.get("socket_id", "")
        if "forbidden" in channel:
            return 403, "application/json", b'{"error": "you may not read this channel"}'
        if "garbage" in channel:
            return 200, "text/html", b"<html>this is not JSON</html>"
        body: dict[str, Any] = self._sdk.authenticate(channel=channel, socket_id=socket_id)
        return 200, "application/json", json.dumps(body, default=_text).encode()


def _text(value: object) -> str:
    """The SDK returns the encrypted channels' ``shared_secret`` as bytes."""
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"cannot encode {type(value).__name__}")
