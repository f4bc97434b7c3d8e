"""A pure Pusher core driven the way the engine thread drives it, with a fake clock, for unit tests."""

from __future__ import annotations

import base64
import json
import random

from nacl.secret import SecretBox
from nacl.utils import random as nacl_random

from desktop.pusher import core as c
from desktop.pusher.core import ChannelEvent, Options, PusherCore
from desktop.signing.signatures import channel_auth_response


def established(socket_id: str = "1.1", timeout: float = 30) -> bytes:
    data = json.dumps({"socket_id": socket_id, "activity_timeout": timeout})
    return json.dumps({"event": "pusher:connection_established", "data": data}).encode()


def msg(event, channel=None, data=None, **extra):
    body = {"event": event, **extra}
    if channel is not None:
        body["channel"] = channel
    if data is not None:
        body["data"] = data if isinstance(data, str) else json.dumps(data)
    return json.dumps(body).encode()


class Harness:
    """Runs a core the way the driver does and records what it asked for."""

    def __init__(self, **options):
        self.core = PusherCore(Options(**options), use_tls=True, rng=random.Random(1))
        self.now = 1000.0
        self.sent: list[dict] = []
        self.opened: list[c.Open] = []
        self.closed: list[c.Close] = []
        self.auth: list[c.Authorize] = []
        self.states: list[c.StateChanged] = []
        self.events: list[ChannelEvent] = []

    def drain(self):
        effects, self.core.effects = self.core.effects, []
        for effect in effects:
            match effect:
                case c.Send(text):
                    self.sent.append(json.loads(text))
                case c.Open():
                    self.opened.append(effect)
                case c.Close():
                    self.closed.append(effect)
                case c.Authorize() | c.AuthorizeUser():
                    self.auth.append(effect)
                case c.StateChanged():
                    self.states.append(effect)
        self.events += self.core.delivered
        self.core.delivered = []

    @property
    def gen(self):
        return self.opened[-1].generation

    def connect(self, socket_id="1.1"):
        self.core.connect(self.now)
        self.drain()
        self.core.socket_opened(self.gen, self.now)
        self.receive(established(socket_id))

    def receive(self, *raws):
        self.core.frames_received(self.gen, list(raws), self.now)
        self.drain()

    def advance(self, seconds):
        self.now += seconds
        self.core.tick(self.now)
        self.drain()

    def close(self, code, reason=""):
        self.core.socket_closed(self.gen, code, reason, self.now)
        self.drain()

    def authorize(self, key="k", secret="s", **kw):
        request = self.auth.pop(0)
        body = channel_auth_response(key, secret, request.socket_id, request.channel, **kw)
        self.core.authorized(request.channel, request.request, body, self.now)
        self.drain()
        return request

    def named(self, name):
        return [e for e in self.events if e.event == name]


def sealed(payload: object, key: bytes) -> dict[str, str]:
    """``payload`` encrypted for an encrypted channel the way the server libraries do it."""
    nonce = nacl_random(24)
    ciphertext = SecretBox(key).encrypt(json.dumps(payload).encode(), nonce).ciphertext
    return {"nonce": base64.b64encode(nonce).decode(), "ciphertext": base64.b64encode(ciphertext).decode()}
