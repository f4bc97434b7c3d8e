"""The tenant log end to end: ``login-feed server`` as a process, Auth0's log-stream POSTs over HTTP, a real soketi,
the app's own Pusher client as the subscriber, real access tokens for ``/events``; soketi down, and ``kill -9``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support.auth0_log_samples import as_array, as_lines, as_object, record
from support.engine import local_authorizer
from support.engine_flow import connect, subscribe
from support.logstream_server import LogStreamServer, access_token
from support.oidc_provider import OidcProvider
from support.recording import EventRecorder
from support.soketi import Soketi
from support.waiting import wait_until

pytestmark = pytest.mark.integration

FEED = "private-login-feed"
ENCRYPTED = "private-encrypted-login-feed"
MASTER_KEY = bytes(range(40, 72))


@pytest.fixture(scope="module")
def staff_token(oidc_provider: OidcProvider) -> str:
    return access_token(oidc_provider)


@pytest.fixture
def servers() -> Iterator[list[LogStreamServer]]:
    made: list[LogStreamServer] = []
    yield made
    for server in made:
        server.close()


def log_events(recorder: EventRecorder, channel: str) -> list[dict]:
    return [json.loads(e.data) if isinstance(e.data, str) else e.data
            for e in recorder.events if e.channel == channel and e.event == "log-event"]


def wait_for_log_ids(recorder: EventRecorder, channel: str, log_ids: set[str], server: LogStreamServer) -> None:
    wait_until(lambda: log_ids <= {e["log_id"] for e in log_events(recorder, channel)}, 30,
               message=lambda: f"{len(log_ids)} log events; got {len(log_events(recorder, channel))}\n"
                               + server.describe())


def test_every_body_format_reaches_a_subscriber_once(
        soketi: Soketi, oidc_provider: OidcProvider, make_client, tmp_path: Path, servers: list,
        staff_token: str) -> None:
    client = make_client(soketi, authorizer=local_authorizer())
    recorder = connect(client)
    subscribe(client, recorder, FEED)
    server = LogStreamServer(tmp_path, oidc_provider, soketi)
    servers.append(server.start())

    batch = [record("fp"), record("s"), record("ss"), record("fu"), record("gd_auth_failed")]
    lines = [record("fp") for _ in range(12)]
    single = record("s")
    for body, stored in ((as_array(batch), 5), (as_lines(lines), 12), (as_object(single), 1)):
        answer = server.post(body)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"stored": stored, "duplicates": 0, "rejected": 0}
    late = record("s")
    retry = server.post(as_array([*batch[:3], late]))  # Auth0 retrying, plus one new
    assert retry.json() == {"stored": 1, "duplicates": 3, "rejected": 0}
    expected = {r["log_id"] for r in [*batch, *lines, single, late]}
    wait_for_log_ids(recorder, FEED, expected, server)
    wait_until(lambda: server.unpublished() == 0, 30, message=server.describe)
    received = [e["log_id"] for e in log_events(recorder, FEED)]
    assert len(received) == len(set(received)) == len(expected)  # duplicates published once

    event = next(e for e in log_events(recorder, FEED) if e["log_id"] == batch[0]["log_id"])
    assert event["kind"] == "login_failed" and event["outcome"] == "failure" and event["v"] == 2
    assert event["reason"] == "Wrong email or password." and event["country"] == "GB" and event["cursor"]

    page = server.get("/events?limit=1000", staff_token)
    assert [e["log_id"] for e in page["events"]][: len(batch)] == [r["log_id"] for r in batch]
    assert page["more"] is False and page["next"] == page["events"][-1]["cursor"]
    first = server.get("/events?after=0&limit=5", staff_token)
    assert first["more"] is True and [e["cursor"] for e in first["events"]] == [e["cursor"] for e in page["events"][:5]]


def test_bad_token_broken_body_and_oversized_body_store_nothing(
        soketi: Soketi, oidc_provider: OidcProvider, tmp_path: Path, servers: list, staff_token: str) -> None:
    server = LogStreamServer(tmp_path, oidc_provider, soketi)
    servers.append(server.start())
    assert server.post(as_array([record("fp")]), authorization="Bearer nope").status_code == 401
    assert server.post(as_array([record("fp")]), authorization=None).status_code == 401
    assert server.post(b'[{"log_id": "1", "data": {"type": "fp"}').status_code == 400
    oversized = b"[" + b",".join([json.dumps(record("fp", description="z" * 4000)).encode()] * 1400) + b"]"
    assert len(oversized) > 5 * 1024 * 1024
    assert server.post(oversized).status_code == 413
    assert server.get("/events", staff_token)["events"] == []
    no_permission = {"Authorization": f"Bearer {access_token(oidc_provider, 'auth0|visitor', permissions=[])}"}
    with requests.get(f"{server.base}/events", headers=no_permission, timeout=10) as answer:
        assert answer.status_code == 403


def test_encrypted_feed_channels_carry_log_events(
        soketi: Soketi, oidc_provider: OidcProvider, make_client, tmp_path: Path, servers: list) -> None:
    client = make_client(soketi, authorizer=local_authorizer(master_key=MASTER_KEY))
    recorder = connect(client)
    subscribe(client, recorder, ENCRYPTED)
    server = LogStreamServer(tmp_path, oidc_provider, soketi, channel=ENCRYPTED, master_key=MASTER_KEY)
    servers.append(server.start())
    records = [record("fp", description="é" * 3000) for _ in range(3)]  # near the size budget, encrypted
    assert server.post(as_array(records)).json()["stored"] == 3
    wait_for_log_ids(recorder, ENCRYPTED, {r["log_id"] for r in records}, server)


def test_with_soketi_down_the_ingest_is_acknowledged_and_published_when_it_is_back(
        fresh_soketi: Soketi, oidc_provider: OidcProvider, tmp_path: Path, servers: list, staff_token: str) -> None:
    server = LogStreamServer(tmp_path, oidc_provider, fresh_soketi)
    servers.append(server.start())
    fresh_soketi.stop()
    records = [record("fp") for _ in range(25)]
    answer = server.post(as_array(records))
    assert answer.status_code == 200 and answer.json()["stored"] == 25  # stored and acknowledged while down
    assert [e["log_id"] for e in server.get("/events?after=0", staff_token)["events"]] == [r["log_id"] for r in records]
    assert server.unpublished() == 25
    fresh_soketi.start()
    wait_until(lambda: server.unpublished() == 0, 60, message=server.describe)  # the backoff is at most 30 s


def test_kill_9_between_acknowledgement_and_publish_publishes_after_restart(
        fresh_soketi: Soketi, oidc_provider: OidcProvider, make_client, tmp_path: Path, servers: list) -> None:
    server = LogStreamServer(tmp_path, oidc_provider, fresh_soketi)
    servers.append(server.start())
    fresh_soketi.stop()  # so nothing can be published before the crash
    records = [record("fp") for _ in range(15)]
    assert server.post(as_lines(records)).json()["stored"] == 15
    server.kill()
    assert server.unpublished() == 15  # acknowledged to Auth0, committed, not yet published

    fresh_soketi.start()
    client = make_client(fresh_soketi, authorizer=local_authorizer())
    recorder = connect(client)
    subscribe(client, recorder, FEED)
    server.start()
    wait_for_log_ids(recorder, FEED, {r["log_id"] for r in records}, server)
    wait_until(lambda: server.unpublished() == 0, 30, message=server.describe)
    assert server.post(as_lines(records)).json() == {"stored": 0, "duplicates": 15, "rejected": 0}
