"""Contract between the producer (the Auth0 Action, under Node) and the consumer (the desktop engine).

A small Node script (``resources/auth0/contract-publish.js``) runs the real Action on fake post-login events,
publishing to the session's soketi; meanwhile the desktop engine is subscribed to the feed channel, as the app
is. Whatever the Action sent (recorded at the SDK's ``trigger`` and compared with its ``buildPayload``) must
arrive and be read by :func:`desktop.feed.events.normalise` field for field, on a private channel and on an
end-to-end encrypted one; a new user's silent renewal and SSO into a second application must reach the desktop
as nothing and as a login (never a second signup); and with Pusher unreachable the Action must let the login go
on, giving up by its own deadline.
"""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.engine_flow import connect, subscribe
from support.recording import EventRecorder
from support.soketi import APP_ID, APP_KEY, APP_SECRET, REPO_ROOT, Soketi

from desktop.feed.events import normalise
from desktop.pusher.auth import LocalAuthorizer

pytestmark = pytest.mark.integration

SCRIPT = REPO_ROOT / "resources" / "auth0" / "contract-publish.js"
FEED_CHANNEL = "private-login-feed"
ENCRYPTED_CHANNEL = "private-encrypted-login-feed"
MASTER_KEY = bytes(range(7, 39))
MARK = "@@contract "
# A guard against a publish with no deadline at all, not a speed test: the Action gives up after 3 s by its
# own timer (the "timed out" line says so); the margin is for a loaded machine.
HANG_GUARD_MS = 10_000
V1_TEXT_FIELDS = (
    "user_id", "email", "name", "nickname", "picture", "connection", "client_name", "country", "city", "ip",
)
MARKUP_NAME = "<img src=x onerror=alert(1)>"
UNICODE_NAMES = (
    "Zoë Ångström-Łukasiewicz",
    "李小龍 🚀 ✨",
    "مرحبا بالعالم",
    "Ŝ̷t̶r̴a̵n̸g̷e̶ combining",
    "\U0001d518\U0001d52b\U0001d526 astral \U0001f9d1\u200d\U0001f4bb",  # Fraktur "Uni", ZWJ emoji
)


def _now_iso(seconds_ago: float = 1.0) -> str:
    moment = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _secrets(port: int, **extra: str) -> dict[str, str]:
    return {
        "PUSHER_APP_ID": APP_ID,
        "PUSHER_KEY": APP_KEY,
        "PUSHER_SECRET": APP_SECRET,
        "PUSHER_CLUSTER": "mt1",
        "PUSHER_HOST": "127.0.0.1",
        "PUSHER_PORT": str(port),
        "PUSHER_USE_TLS": "false",
        **extra,
    }


def _event(run: str, n: int, *, logins_count: int = 3, name: str = "Ada Lovelace",
           auth_seconds_ago: float = 1.0, prompt: str | None = None, protocol: str = "oidc-basic-profile",
           client: str = "Support Portal") -> dict[str, Any]:
    """A post-login event as Auth0 builds it (the fields the Action reads; secrets are added by the script).

    ``auth_seconds_ago``: when the user completed the password (SSO reuses an old one); ``prompt``: the
    authorize request's prompt, in ``transaction.prompt`` (a list) and ``request.query.prompt`` (a string).
    """
    transaction: dict[str, Any] = {"protocol": protocol}
    query: dict[str, str] = {"client_id": "cl_1", "response_type": "code", "scope": "openid profile email"}
    if prompt is not None:
        transaction["prompt"] = [prompt]
        query["prompt"] = prompt
    return {
        "transaction": transaction,
        "stats": {"logins_count": logins_count},
        "user": {
            "user_id": f"auth0|contract-{run}-{n}",
            "email": f"user{n}.{run}@example.com",
            "name": name,
            "nickname": f"nick{n}",
            "picture": f"https://example.com/{n}.png",
            "updated_at": "2026-11-20T10:11:12.345Z",
            "app_metadata": {"internal": "never published"},
        },
        "connection": {"name": "google-oauth2"},
        "client": {"name": client},
        "request": {"ip": "2001:db8::1", "query": query, "geoip": {"countryCode": "NZ", "cityName": "Wellington"}},
        "authentication": {"methods": [{"name": "federated", "timestamp": _now_iso(auth_seconds_ago)}]},
    }


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH: install Node.js 20 to run the Action's contract test", pytrace=False)
    return node


def run_action(secrets: dict[str, str], events: list[dict[str, Any]],
               timeout: float = 60.0) -> tuple[list[dict[str, Any]], str, float]:
    """Run the Action on ``events`` under Node; return the per-event records, the log text and the wall time."""
    started = time.monotonic()
    proc = subprocess.run(
        [_node(), str(SCRIPT)],
        input=json.dumps({"secrets": secrets, "events": events}),
        capture_output=True, text=True, encoding="utf-8", timeout=timeout, cwd=REPO_ROOT, check=False,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    records = [json.loads(line[len(MARK):]) for line in proc.stdout.splitlines() if line.startswith(MARK)]
    logs = "\n".join(line for line in proc.stdout.splitlines() if not line.startswith(MARK)) + proc.stderr
    assert records and records[-1].get("done"), proc.stdout
    assert records[-1]["failures"] == 0
    per_event = records[:-1]
    assert [r["index"] for r in per_event] == list(range(len(events)))
    for record in per_event:
        assert record["api_calls"] == [], "the Action must never call api (no api.access.deny)"
    return per_event, logs, elapsed


@pytest.fixture
def feed(soketi: Soketi, make_client) -> Iterator[EventRecorder]:
    """The desktop engine, signing locally (with the master key), subscribed to the plain and encrypted feeds."""
    client = make_client(soketi, authorizer=LocalAuthorizer(APP_KEY, APP_SECRET, master_key=MASTER_KEY))
    recorder = connect(client)
    subscribe(client, recorder, FEED_CHANNEL)
    subscribe(client, recorder, ENCRYPTED_CHANNEL)
    return recorder


def _received_for(recorder: EventRecorder, channel: str, user_ids: list[str]) -> dict[str, Any]:
    """Wait until one feed event per user id arrived on ``channel``; return them by user id."""
    def by_user() -> dict[str, Any]:
        found: dict[str, Any] = {}
        for ev in recorder.events:
            if ev.channel == channel and isinstance(ev.data, dict) and ev.data.get("user_id") in user_ids:
                found.setdefault(ev.data["user_id"], ev)
        return found

    recorder_wait = time.monotonic() + 30
    while len(by_user()) < len(user_ids):
        assert time.monotonic() < recorder_wait, f"got {sorted(by_user())} of {user_ids} on {channel}"
        time.sleep(0.01)
    return by_user()


def _assert_decoded_exactly(records: list[dict[str, Any]], received: dict[str, Any], channel: str) -> None:
    for record in records:
        assert len(record["sent"]) == 1
        sent = record["sent"][0]
        payload = sent["data"]
        assert sent["channel"] == channel
        assert payload == record["expected"], "the Action published its buildPayload output"
        ev = received[payload["user_id"]]
        assert ev.event == sent["event"]
        assert ev.data == payload, "the engine decoded exactly what the Action sent"

        fe = normalise(ev.event, ev.channel, ev.data, ev.received_at)
        assert fe.reason is None
        assert fe.type == payload["type"]
        assert fe.event == ("user-signedUp" if payload["type"] == "signup" else "user-loggedIn")
        for field in V1_TEXT_FIELDS:
            assert getattr(fe, field) == payload[field], field
        assert fe.logins_count == payload["logins_count"]
        assert fe.at == payload["at"]
        assert payload["app_metadata"] == {"signedUp": payload["type"] == "signup"}


def _contract_events(run: str) -> list[dict[str, Any]]:
    events = [_event(run, 0, logins_count=5), _event(run, 1, logins_count=1), _event(run, 2, name=MARKUP_NAME)]
    events += [_event(run, 3 + i, name=name) for i, name in enumerate(UNICODE_NAMES)]
    return events


def test_private_feed_gets_exactly_what_the_action_sent(soketi: Soketi, feed: EventRecorder) -> None:
    run = uuid.uuid4().hex[:10]
    events = _contract_events(run)
    records, logs, _ = run_action(_secrets(soketi.port), events)

    user_ids = [e["user"]["user_id"] for e in events]
    received = _received_for(feed, FEED_CHANNEL, user_ids)
    _assert_decoded_exactly(records, received, FEED_CHANNEL)

    types = {ev.data["user_id"]: normalise(ev.event, ev.channel, ev.data, ev.received_at).type
             for ev in received.values()}
    assert types[user_ids[0]] == "login"
    assert types[user_ids[1]] == "signup"
    markup = normalise("user-loggedIn", FEED_CHANNEL, received[user_ids[2]].data, time.time())
    assert markup.name == MARKUP_NAME  # literally: no escaping, no stripping on the way
    names = [received[uid].data["name"] for uid in user_ids[3:]]
    assert names == list(UNICODE_NAMES)
    assert logs.count("published") == len(events)
    assert APP_SECRET not in logs


def test_encrypted_feed_decrypts_exactly_what_the_action_sent(soketi: Soketi, feed: EventRecorder) -> None:
    run = uuid.uuid4().hex[:10]
    events = _contract_events(run)
    secrets = _secrets(soketi.port, PUSHER_ENCRYPTION_MASTER_KEY_BASE64=base64.b64encode(MASTER_KEY).decode())
    records, logs, _ = run_action(secrets, events)

    user_ids = [e["user"]["user_id"] for e in events]
    received = _received_for(feed, ENCRYPTED_CHANNEL, user_ids)
    _assert_decoded_exactly(records, received, ENCRYPTED_CHANNEL)
    assert received[user_ids[2]].data["name"] == MARKUP_NAME
    # Nothing of these users went to the plain channel.
    assert not [ev for ev in feed.events
                if ev.channel == FEED_CHANNEL and isinstance(ev.data, dict) and ev.data.get("user_id") in user_ids]
    assert base64.b64encode(MASTER_KEY).decode() not in logs


def test_a_new_users_flows_reach_the_desktop_as_auth0_means_them(soketi: Soketi, feed: EventRecorder) -> None:
    """First login, silent renewal, SSO into a second app, refresh token: one signup and one login, no more."""
    run = uuid.uuid4().hex[:10]
    events = [
        _event(run, 0, logins_count=1),                                            # first login: a signup
        _event(run, 1, logins_count=1, prompt="none", auth_seconds_ago=5),         # silent renewal: nothing
        _event(run, 2, logins_count=1, auth_seconds_ago=20 * 60, client="Billing"),  # SSO: a login, count 1
        _event(run, 3, logins_count=1, protocol="oauth2-refresh-token"),            # refresh token: nothing
        _event(run, 4, logins_count=9),                                             # a marker, published last
    ]
    records, logs, _ = run_action(_secrets(soketi.port), events)

    assert [[s["event"] for s in r["sent"]] for r in records] == [
        ["user-signedUp"], [], ["user-loggedIn"], [], ["user-loggedIn"],
    ]
    ids = [e["user"]["user_id"] for e in events]
    received = _received_for(feed, FEED_CHANNEL, [ids[0], ids[2], ids[4]])
    _assert_decoded_exactly([records[0], records[4]], received, FEED_CHANNEL)
    # SSO: `at` is when the Action ran (the session's authentication is old), so only it may differ from
    # the script's own buildPayload, computed a moment later.
    sent = records[2]["sent"][0]["data"]
    assert {**sent, "at": None} == {**records[2]["expected"], "at": None}
    assert received[ids[2]].data == sent
    sso = normalise(received[ids[2]].event, FEED_CHANNEL, sent, time.time())
    assert (sso.reason, sso.type, sso.logins_count, sso.client_name) == (None, "login", 1, "Billing")
    assert sso.at == sent["at"]
    # soketi keeps one channel's order on a connection: with the marker here, nothing else is on its way.
    assert not [ev for ev in feed.events if isinstance(ev.data, dict) and ev.data.get("user_id") in (ids[1], ids[3])]
    assert logs.count("login-feed: published") == 3


class _BlackHole:
    """A TCP server that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port: int = self.sock.getsockname()[1]
        self.sock.settimeout(0.05)  # closing a socket does not wake a blocked accept(): poll a stop flag
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("where", ["closed port", "black hole"])
def test_unreachable_pusher_never_holds_up_the_login(where: str) -> None:
    hole = _BlackHole() if where == "black hole" else None
    try:
        port = hole.port if hole is not None else _closed_port()
        events = [_event(uuid.uuid4().hex[:10], 0, logins_count=1)]
        records, logs, elapsed = run_action(_secrets(port), events)
    finally:
        if hole is not None:
            hole.close()
    print(f"{where}: the login waited {records[0]['elapsed_ms']} ms; the Node process took {elapsed:.2f} s")
    assert records[0]["elapsed_ms"] < HANG_GUARD_MS, "the Action has no deadline"
    assert records[0]["sent"][0]["event"] == "user-signedUp"  # it tried ...
    assert "could not publish user-signedUp after " in logs  # ... failed, said so ...
    assert "the login goes on: " in logs
    assert "(channel private-login-feed)" in logs
    assert APP_SECRET not in logs
    assert "auth_signature" not in logs
    if hole is not None:
        assert hole.accepted, "the Action did reach the black hole"
        assert "timed out" in logs
