"""The scale-out parts the tests start: PostgreSQL and Redis from Debian, and soketi nodes clustered on Redis.

An event published through one soketi node reaches a subscriber on the other, and presence is shared: each node's
HTTP API counts the members connected to the other node, and a member joining on one node is announced on the other.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import psycopg
import pytest
import websocket
from support.postgres import PostgresServer
from support.redis import RedisServer
from support.soketi import APP_KEY, APP_SECRET, Soketi

from desktop.signing.signatures import channel_auth_response, encode_json_compact

pytestmark = pytest.mark.integration


def receive(ws: websocket.WebSocket, event: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"no {event!r} within {timeout} s")
        ws.settimeout(remaining)
        frame: dict[str, Any] = json.loads(ws.recv())
        if frame["event"] == event:
            return frame
        assert frame["event"] != "pusher:error", frame


def join(node: Soketi, channel: str, user_id: str | None = None) -> websocket.WebSocket:
    """A websocket on ``node`` subscribed to ``channel`` (presence: signed as ``user_id``)."""
    ws = websocket.create_connection(node.ws_url(), timeout=10)
    try:
        socket_id = json.loads(receive(ws, "pusher:connection_established")["data"])["socket_id"]
        data: dict[str, Any] = {"channel": channel}
        if user_id is not None:
            channel_data = encode_json_compact({"user_id": user_id, "user_info": {"name": user_id}})
            data.update(channel_auth_response(APP_KEY, APP_SECRET, socket_id, channel, channel_data=channel_data))
        ws.send(json.dumps({"event": "pusher:subscribe", "data": data}))
        receive(ws, "pusher_internal:subscription_succeeded")
    except BaseException:
        ws.close()
        raise
    return ws


def test_postgres_runs_on_a_loopback_port_with_a_database_per_test(postgres: PostgresServer,
                                                                    postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as db:
        row = db.execute("SELECT current_database(), inet_server_addr()::text, current_setting('port')").fetchone()
    assert row is not None
    assert row[0] == postgres_url.rsplit("/", 1)[1]
    assert row[1].startswith("127.0.0.1") and int(row[2]) == postgres.port


def test_redis_answers_on_a_loopback_port(redis_server: RedisServer) -> None:
    with socket.create_connection((redis_server.host, redis_server.port), timeout=5) as sock:
        sock.sendall(b"SET k v\r\nGET k\r\n")
        answer = b""
        while not answer.endswith(b"v\r\n"):
            chunk = sock.recv(64)
            assert chunk, answer
            answer += chunk
    assert answer == b"+OK\r\n$1\r\nv\r\n"


def test_an_event_through_one_node_reaches_subscribers_on_both(soketi_cluster: list[Soketi]) -> None:
    first, second = soketi_cluster
    subscribers = [join(first, "scale-public"), join(second, "scale-public")]
    try:
        for n in range(20):
            first.trigger("scale-public", "tick", {"n": n})
        for ws in subscribers:
            got = [json.loads(receive(ws, "tick")["data"])["n"] for _ in range(20)]
            assert got == list(range(20))
    finally:
        for ws in subscribers:
            ws.close()


def test_presence_is_shared_across_nodes(soketi_cluster: list[Soketi]) -> None:
    first, second = soketi_cluster
    channel = "presence-scale"
    ada = join(first, channel, "ada")
    try:
        bob = join(second, channel, "bob")
        try:
            added = json.loads(receive(ada, "pusher_internal:member_added")["data"])
            assert added["user_id"] == "bob"  # bob joined on the other node
            for node in (first, second):
                users = node.pusher_client().users_info(channel)
                assert sorted(u["id"] for u in users["users"]) == ["ada", "bob"]
        finally:
            bob.close()
        removed = json.loads(receive(ada, "pusher_internal:member_removed")["data"])
        assert removed["user_id"] == "bob"
    finally:
        ada.close()
