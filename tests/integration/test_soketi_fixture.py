"""The soketi fixtures start a real Pusher-protocol server that a websocket client can use."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
import websocket
from support.soketi import Soketi

pytestmark = pytest.mark.integration

CHANNEL = "test-public"


def _receive(ws: websocket.WebSocket, event: str, timeout: float = 5.0) -> dict[str, Any]:
    """Read frames until one named ``event`` arrives; fail on ``pusher:error`` or after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"no {event!r} within {timeout} s")
        ws.settimeout(remaining)
        frame: dict[str, Any] = json.loads(ws.recv())
        if frame["event"] == event:
            return frame
        if frame["event"] == "pusher:error":
            pytest.fail(f"pusher:error while waiting for {event!r}: {frame}")


def _connect_and_subscribe(server: Soketi, channel: str = CHANNEL) -> websocket.WebSocket:
    ws = websocket.create_connection(server.ws_url(), timeout=5)
    try:
        established = _receive(ws, "pusher:connection_established")
        socket_id = json.loads(established["data"])["socket_id"]
        assert socket_id
        ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel}}))
        succeeded = _receive(ws, "pusher_internal:subscription_succeeded")
        assert succeeded["channel"] == channel
    except BaseException:
        ws.close()
        raise
    return ws


def test_trigger_reaches_a_subscribed_websocket(soketi: Soketi) -> None:
    ws = _connect_and_subscribe(soketi)
    try:
        assert soketi.trigger(CHANNEL, "greeting", {"hello": "world"}) == {"ok": True}
        frame = _receive(ws, "greeting")
        assert frame["channel"] == CHANNEL
        assert json.loads(frame["data"]) == {"hello": "world"}

        soketi.trigger_batch(
            [
                {"channel": CHANNEL, "name": "batch-1", "data": {"n": 1}},
                {"channel": CHANNEL, "name": "batch-2", "data": "plain text"},
            ]
        )
        assert json.loads(_receive(ws, "batch-1")["data"]) == {"n": 1}
        assert _receive(ws, "batch-2")["data"] == "plain text"
    finally:
        ws.close()


def test_kill_then_start_comes_back_on_the_same_port(fresh_soketi: Soketi) -> None:
    port, url, first_pid = fresh_soketi.port, fresh_soketi.ws_url(), fresh_soketi.pid
    ws = _connect_and_subscribe(fresh_soketi)
    try:
        fresh_soketi.kill()
        assert not fresh_soketi.is_running
        with pytest.raises((websocket.WebSocketException, OSError)):
            ws.recv()  # the connection died with the server
    finally:
        ws.close()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{fresh_soketi.http_url}/ready", timeout=2)

    fresh_soketi.start()
    assert fresh_soketi.is_running
    assert fresh_soketi.pid != first_pid
    assert fresh_soketi.port == port
    assert fresh_soketi.ws_url() == url

    ws = _connect_and_subscribe(fresh_soketi)
    try:
        fresh_soketi.trigger(CHANNEL, "after-restart", {"ok": 1})  # the SDK client survives the restart
        assert json.loads(_receive(ws, "after-restart")["data"]) == {"ok": 1}
    finally:
        ws.close()


def test_stop_is_graceful_and_quick(fresh_soketi: Soketi) -> None:
    ws = _connect_and_subscribe(fresh_soketi)
    try:
        started = time.monotonic()
        fresh_soketi.stop()
        assert time.monotonic() - started < 8.0  # not the SIGKILL after 10 s (a loaded machine is slow to exit)
        # soketi tells its clients to reconnect at once: pusher:error 4200, then a close frame 4200.
        ws.settimeout(5)
        frame = json.loads(ws.recv())
        assert frame["event"] == "pusher:error"
        assert frame["data"]["code"] == 4200
    finally:
        ws.close()
    assert not fresh_soketi.is_running
