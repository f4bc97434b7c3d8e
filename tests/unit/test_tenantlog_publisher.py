"""The outbox publisher's thread: leftovers at start, wake-ups, backoff while Pusher refuses, nothing skipped."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.waiting import wait_until

from desktop.signing.pusher_http import TriggerError
from desktop.tenantlog.publisher import Publisher, backoff_delay
from desktop.tenantlog.sqlite_store import SqliteEventStore

NOW = time.time()  # retention (30 days) runs on the publisher thread: events must be recent


def ev(n: int) -> dict[str, Any]:
    return {"v": 2, "log_id": f"{n:06d}", "code": "fp"}


class Pusher:
    """Stands in for the HTTP API's batch call: down for ``failures`` calls, then accepting (thread-safe)."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls = 0
        self.received: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, batch: Any) -> None:
        with self.lock:
            self.calls += 1
            if self.failures > 0:
                self.failures -= 1
                raise TriggerError("could not reach Pusher (ConnectionError)")
            assert 1 <= len(batch) <= 10
            self.received += [json.loads(data)["log_id"] for _, _, data in batch]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteEventStore]:
    opened = SqliteEventStore(tmp_path / "t.sqlite3")
    yield opened
    opened.close()


def test_backoff_doubles_to_a_ceiling() -> None:
    assert [backoff_delay(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff_delay(50) == 30.0


def test_leftovers_from_an_earlier_run_are_published_at_start(store: SqliteEventStore) -> None:
    store.add([ev(n) for n in range(25)], NOW)
    pusher = Pusher()
    publisher = Publisher(store, pusher, "private-login-feed")
    publisher.start()
    try:
        wait_until(lambda: len(pusher.received) == 25)
        assert pusher.received == [f"{n:06d}" for n in range(25)]
        wait_until(lambda: store.unpublished(10) == [])
    finally:
        publisher.stop()


def test_a_wake_up_publishes_new_commits(store: SqliteEventStore) -> None:
    pusher = Pusher()
    publisher = Publisher(store, pusher, "private-login-feed", idle_check=60.0)
    publisher.start()
    try:
        store.add([ev(1), ev(2)], NOW)
        publisher.wake()
        wait_until(lambda: pusher.received == ["000001", "000002"])
    finally:
        publisher.stop()


def test_while_pusher_is_down_it_retries_and_then_publishes_everything_in_order(store: SqliteEventStore) -> None:
    pusher = Pusher(failures=3)
    delays: list[int] = []
    publisher = Publisher(store, pusher, "private-login-feed", backoff=lambda n: delays.append(n) or 0.01)
    store.add([ev(n) for n in range(12)], NOW)
    publisher.start()
    try:
        wait_until(lambda: len(pusher.received) == 12)
        assert pusher.received == [f"{n:06d}" for n in range(12)]
        assert delays == [1, 2, 3] and publisher.failures == 0
    finally:
        publisher.stop()


def test_stop_leaves_unpublished_events_for_the_next_start(store: SqliteEventStore) -> None:
    pusher = Pusher(failures=10**6)
    publisher = Publisher(store, pusher, "private-login-feed", backoff=lambda n: 60.0)
    store.add([ev(1)], NOW)
    publisher.start()
    wait_until(lambda: pusher.calls >= 1)
    publisher.stop()  # returns although the backoff is long
    assert [e["log_id"] for e in store.unpublished(10)] == ["000001"]


def test_retention_runs_on_the_publisher_thread(store: SqliteEventStore) -> None:
    store.add([ev(1)], NOW - 40 * 86_400)
    store.add([ev(2)], NOW)
    publisher = Publisher(store, Pusher(), "private-login-feed", clock=lambda: NOW)
    publisher.start()
    try:
        wait_until(lambda: store.count() == 1)
    finally:
        publisher.stop()


def test_several_workers_drain_a_backlog_with_requests_in_flight_and_none_twice(store: SqliteEventStore) -> None:
    store.add([ev(n) for n in range(200)], NOW)
    both_in_flight = threading.Event()
    lock = threading.Lock()
    state = {"now": 0, "most": 0, "calls": 0}
    received: list[str] = []

    def send(batch: Any) -> None:
        with lock:
            state["calls"] += 1
            first = state["calls"] == 1  # the full first batch goes alone: it is what tells a backlog
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            if state["now"] >= 2:
                both_in_flight.set()
        if not first:
            both_in_flight.wait(10)  # a later request waits for another one to start: they overlap
        with lock:
            state["now"] -= 1
            received.extend(json.loads(data)["log_id"] for _, _, data in batch)

    publisher = Publisher(store, send, "private-login-feed", workers=4)
    try:
        assert publisher.publish_pending() == 200
    finally:
        publisher.stop()
    assert state["most"] >= 2
    assert len(received) == len(set(received)) == 200
    assert store.unpublished(10) == []


def test_a_refusal_during_a_parallel_drain_leaves_the_rest_for_later(store: SqliteEventStore) -> None:
    store.add([ev(n) for n in range(100)], NOW)
    pusher = Pusher(failures=0)
    calls = {"n": 0}
    lock = threading.Lock()

    def flaky(batch: Any) -> None:
        with lock:
            calls["n"] += 1
            refuse = calls["n"] == 3
        if refuse:
            raise TriggerError("Pusher answered HTTP 500")
        pusher(batch)

    publisher = Publisher(store, flaky, "private-login-feed", workers=3)
    try:
        with pytest.raises(TriggerError):
            publisher.publish_pending()
        publisher.publish_pending()  # the refused batch goes out on the next pass
    finally:
        publisher.stop()
    assert len(pusher.received) == len(set(pusher.received)) == 100
