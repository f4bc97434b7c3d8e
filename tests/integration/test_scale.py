"""Past one machine, end to end on loopback: two server replicas on one PostgreSQL, two soketi nodes on one Redis.

Every log-stream batch is posted to both replicas at once (as a load balancer and Auth0's retries would), so the
replicas race to store it. Replica 1 publishes through soketi node A, replica 2 through node B; subscribers (the
app's own Pusher client) sit on both nodes. Mid-run replica 1 is killed (SIGKILL) and restarted, later node A is
killed and restarted. Then:

- the store holds every event once (``GET /events`` paged by cursor);
- the subscribers on node B, connected throughout, received every event live; a duplicate can only come from a
  batch whose publishing a kill interrupted (at-least-once: Pusher answered, the flag had not committed), so at
  most one Pusher batch per kill, and the count is printed;
- after catching up with ``GET /events``, every subscriber (node A's too, which were cut off) holds every event once.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from support.auth0_log_samples import as_array, record
from support.engine import local_authorizer
from support.engine_flow import connect, subscribe
from support.logstream_server import LogStreamServer, access_token
from support.oidc_provider import OidcProvider
from support.recording import EventRecorder
from support.server_process import all_started
from support.soketi import Soketi
from support.waiting import wait_until

pytestmark = pytest.mark.integration

FEED = "private-login-feed"
BATCHES = 60
PER_BATCH = 20
KILL_REPLICA, RESTART_REPLICA = 15, 25
KILL_NODE, RESTART_NODE = 35, 45
MAX_BATCH = 10  # events in one Pusher request: what one interrupted publish can repeat


@pytest.fixture
def replicas(tmp_path: Path, oidc_provider: OidcProvider, soketi_cluster: list[Soketi],
             postgres_url: str) -> Iterator[list[LogStreamServer]]:
    made = [LogStreamServer(tmp_path / f"replica{n}", oidc_provider, node, database=postgres_url)
            for n, node in enumerate(soketi_cluster, start=1)]
    with all_started(made):
        yield made


def live_log_ids(recorder: EventRecorder) -> list[str]:
    """The log events received, in order (alerts the server raises on the same stream left out)."""
    events = [json.loads(e.data) if isinstance(e.data, str) else e.data
              for e in recorder.events if e.channel == FEED and e.event == "log-event"]
    return [event["log_id"] for event in events if event.get("kind") != "alert"]


def deliver(replica: LogStreamServer, body: bytes) -> int | None:
    """POST one batch; the number stored, or None when the replica is down (the load balancer's other choice)."""
    try:
        answer = replica.post(body)
    except requests.ConnectionError:
        return None
    assert answer.status_code == 200, answer.text
    stored: int = answer.json()["stored"]
    return stored


def all_events(replica: LogStreamServer, token: str, after: str = "0") -> list[dict[str, Any]]:
    """Catch-up: page through ``GET /events`` by cursor until ``more`` is false (log events; alerts left out)."""
    found: list[dict[str, Any]] = []
    while True:
        page = replica.get(f"/events?after={after}&limit=500", token)
        found += [event for event in page["events"] if event.get("kind") != "alert"]
        after = page["next"]
        if not page["more"]:
            return found


def test_two_replicas_and_two_nodes_survive_kills_and_deliver_every_event(
        replicas: list[LogStreamServer], soketi_cluster: list[Soketi], oidc_provider: OidcProvider,
        make_client: Any) -> None:
    started = time.monotonic()
    node_a, node_b = soketi_cluster
    first, second = replicas
    subscribers: dict[str, EventRecorder] = {}
    for name, node in (("a1", node_a), ("a2", node_a), ("b1", node_b), ("b2", node_b)):
        client = make_client(node, authorizer=local_authorizer())
        subscribers[name] = connect(client)
        subscribe(client, subscribers[name], FEED)
    token = access_token(oidc_provider)

    expected: list[str] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for n in range(BATCHES):
            if n == KILL_REPLICA:
                first.kill()
            elif n == RESTART_REPLICA:
                first.start()
            elif n == KILL_NODE:
                node_a.kill()
            elif n == RESTART_NODE:
                node_a.start()
            records = [record("fp") for _ in range(PER_BATCH)]
            expected += [r["log_id"] for r in records]
            body = as_array(records)
            stored = [s for s in pool.map(deliver, replicas, [body, body]) if s is not None]
            assert stored and sum(stored) == PER_BATCH, stored  # stored once, however many replicas got it

    wanted = set(expected)
    wait_until(lambda: second.unpublished() == 0, 60, message=lambda: f"unpublished: {second.unpublished()}\n"
               + first.describe() + second.describe())
    for name in ("b1", "b2"):  # connected to the surviving node throughout: everything arrived live
        wait_until(lambda name=name: set(live_log_ids(subscribers[name])) >= wanted, 30,
                   message=lambda name=name: f"{name}: {len(wanted - set(live_log_ids(subscribers[name])))} missing")

    stored_events = all_events(second, token)
    assert len(stored_events) == len(wanted) and {e["log_id"] for e in stored_events} == wanted
    cursors = [int(e["cursor"]) for e in stored_events]
    assert cursors == sorted(set(cursors))

    report = []
    for name, recorder in subscribers.items():
        live = live_log_ids(recorder)
        repeats = sum(count - 1 for count in Counter(live).values())
        held = {log_id: 1 for log_id in live}  # one row per log_id, as the desktop's history keeps them
        caught_up = 0
        for event in all_events(first, token):  # catch-up through the other replica
            caught_up += event["log_id"] not in held
            held.setdefault(event["log_id"], 1)
        assert set(held) == wanted, name
        if name.startswith("b"):
            assert repeats <= 2 * MAX_BATCH, (name, repeats)
        report.append(f"{name}: {len(live)} live ({repeats} repeated), {caught_up} caught up")
    print(f"\nscale test: {len(wanted)} events, {BATCHES} batches to 2 replicas, "
          f"{time.monotonic() - started:.1f} s; " + "; ".join(report))


def test_events_a_dead_replica_committed_but_never_published_go_out_through_the_other(
        replicas: list[LogStreamServer], soketi_cluster: list[Soketi], make_client: Any) -> None:
    """Replica 1 cannot publish (its soketi node is down), acknowledges a delivery and dies: replica 2, which
    received nothing, finds the events in the shared outbox and publishes them through its own node."""
    node_a, node_b = soketi_cluster
    first, second = replicas
    client = make_client(node_b, authorizer=local_authorizer())
    recorder = connect(client)
    subscribe(client, recorder, FEED)
    node_a.stop()
    records = [record("fp") for _ in range(25)]
    assert deliver(first, as_array(records)) == 25  # committed and acknowledged; replica 1's publishing fails
    first.kill()
    wanted = {r["log_id"] for r in records}
    wait_until(lambda: set(live_log_ids(recorder)) >= wanted, 30,
               message=lambda: f"{len(wanted - set(live_log_ids(recorder)))} of 25 never published\n"
               + first.describe() + second.describe())
    assert sorted(live_log_ids(recorder)) == sorted(wanted)  # each once
    assert second.unpublished() == 0
