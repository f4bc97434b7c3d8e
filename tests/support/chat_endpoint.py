"""The original chat sample's server, in a thread: POST ``message`` and ``name`` -> ``message-added`` via soketi.

Like the sample, it forwards only ``message`` and ``name`` (so the sender sees its own message come back and
must recognise it). ``token``: when given, requests without ``Authorization: Bearer <token>`` get a 401.
``style``: ``"sample"`` forwards only ``message`` and ``name`` (as the original sample does); ``"with-id"``
forwards our ``id`` too; ``"excludes-sender"`` passes ``socket_id`` to Pusher so the sender gets no echo.
Served by the loopback :class:`HttpStub`.
"""

from __future__ import annotations

from support.http_stub import HttpStub, Reply, StubRequest, StubService
from support.soketi import Soketi


class ChatEndpoint(StubService):
    def __init__(self, soketi: Soketi, channel: str = "private-chat", *, token: str | None = None,
                 style: str = "sample") -> None:
        self._soketi, self._channel, self._token, self._style = soketi, channel, token, style
        self._stub = HttpStub(self._answer)
        self.url = self._stub.url("/message")

    @property
    def posts(self) -> list[dict[str, str]]:
        return [_filled(r.form) for r in self._stub.requests if self._authorized(r)]

    def close(self) -> None:
        self.stop()

    def _authorized(self, request: StubRequest) -> bool:
        return self._token is None or request.headers.get("Authorization") == f"Bearer {self._token}"

    def _answer(self, request: StubRequest) -> Reply:
        if not self._authorized(request):
            return Reply(401, b'{"error": "invalid token"}')
        form = _filled(request.form)
        if "message" not in form or "name" not in form:
            return Reply(400, b'{"error": "message and name are required"}')
        data = {"message": form["message"], "name": form["name"]}
        if self._style == "with-id" and "id" in form:
            data["id"] = form["id"]
        socket_id = form.get("socket_id") if self._style == "excludes-sender" else None
        self._soketi.trigger(self._channel, "message-added", data, socket_id)
        return Reply(200, b'{"ok": true}')


def _filled(form: dict[str, str]) -> dict[str, str]:
    """The form without its blank fields, as the sample's form parser reads it."""
    return {k: v for k, v in form.items() if v}
