"""The tenant log on PostgreSQL with several writers and several publishers (replicas), on a real server.

- a transaction that commits late is never skipped by a reader paging with the cursor (and, as a control, the same
  schedule without the cursor lock *does* skip it: the test sees the hazard it guards against);
- readers paging while four writers in two "replicas" commit concurrently receive every event exactly once;
- the same retried batch delivered to two replicas is stored once;
- two publishers never hold (so never send) the same event; a replica killed while holding a claim releases it.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from support.server_process import free_loopback_port
from support.waiting import wait_until

from desktop.tenantlog.pgstore import _INSERT, PostgresEventStore, insert_events
from desktop.tenantlog.publisher import Publisher
from desktop.tenantlog.store import StoreError

pytestmark = pytest.mark.integration

NOW = 1_764_900_000.0
REPO = Path(__file__).resolve().parents[2]


def ev(log_id: str) -> dict[str, Any]:
    return {"v": 2, "log_id": log_id, "code": "fp", "user_id": "auth0|ada"}


@pytest.fixture
def replicas(postgres_url: str) -> Iterator[Callable[[], PostgresEventStore]]:
    """``replica()``: another store on the test's database, as another server process would open it."""
    opened: list[PostgresEventStore] = []

    def replica() -> PostgresEventStore:
        opened.append(PostgresEventStore(postgres_url))
        return opened[-1]

    yield replica
    for store in opened:
        store.close()


def waiting_for_the_cursor_lock(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as db:
        row = db.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                         "AND wait_event = 'advisory' AND datname = current_database()").fetchone()
    return bool(row and row[0])


def test_a_late_commit_is_never_skipped(postgres_url: str, replicas: Callable[[], PostgresEventStore]) -> None:
    """Replica A stalls between its insert and its commit; replica B's add waits for it instead of committing a
    later cursor first, so a reader never pages past A's event."""
    reader, fast = replicas(), replicas()
    with psycopg.connect(postgres_url, autocommit=True) as slow:
        with slow.transaction():
            assert insert_events(slow, [ev("slow")], NOW) == 1  # the store's own insert, not yet committed
            done = threading.Event()
            thread = threading.Thread(target=lambda: (fast.add([ev("fast")], NOW), done.set()))
            thread.start()
            wait_until(lambda: waiting_for_the_cursor_lock(postgres_url), 30,
                       message="replica B never waited for the cursor lock")
            assert reader.page("0", 10).events == []  # neither is visible; B has drawn no cursor yet
            assert not done.is_set()
        thread.join(timeout=30)
    assert done.is_set()
    page = reader.page("0", 10)
    assert [e["log_id"] for e in page.events] == ["slow", "fast"]
    assert int(page.events[0]["cursor"]) < int(page.events[1]["cursor"])


def test_without_the_cursor_lock_a_sequence_skips_a_late_commit(postgres_url: str,
                                                                replicas: Callable[[], PostgresEventStore]) -> None:
    """The control: the same schedule with the insert alone (no lock) loses the slow event for a paging reader."""
    reader = replicas()
    def row(log_id: str) -> dict[str, Any]:
        return {"at": NOW, "published": False, "user_ids": [None], "log_ids": [log_id],
                "bodies": [f'{{"v":2,"log_id":"{log_id}"}}'.encode()]}

    with psycopg.connect(postgres_url, autocommit=True) as slow, psycopg.connect(postgres_url, autocommit=True) as fast:
        with slow.transaction():
            slow.execute(_INSERT, row("slow"))  # draws the smaller cursor
            with fast.transaction():
                fast.execute(_INSERT, row("fast"))
            seen = reader.page("0", 10)
            assert [e["log_id"] for e in seen.events] == ["fast"]
        later = reader.page(seen.next, 10)
    assert later.events == []  # "slow" committed below the reader's cursor: skipped for good
    assert [e["log_id"] for e in reader.page("0", 10).events] == ["slow", "fast"]


def test_readers_paging_during_concurrent_commits_get_every_event_once(
        replicas: Callable[[], PostgresEventStore]) -> None:
    stores = [replicas(), replicas()]  # two replicas, two request threads each
    reader = replicas()
    writers_done = threading.Event()
    expected = {f"w{w}-{n}" for w in range(4) for n in range(60)}

    def write(w: int) -> None:
        store = stores[w % 2]
        for n in range(0, 60, 3):
            store.add([ev(f"w{w}-{n + k}") for k in range(3)], NOW)

    seen: list[str] = []

    def read() -> None:
        cursor = "0"
        while True:
            finished = writers_done.is_set()
            page = reader.page(cursor, 50)
            seen.extend(e["log_id"] for e in page.events)
            cursor = page.next
            if finished and not page.events:
                return

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    paging = threading.Thread(target=read)
    paging.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    writers_done.set()
    paging.join(timeout=60)
    assert len(seen) == len(set(seen)) and set(seen) == expected


def test_the_same_batch_at_two_replicas_is_stored_once(replicas: Callable[[], PostgresEventStore]) -> None:
    first, second = replicas(), replicas()
    batches = [[ev(f"{b}-{n}") for n in range(10)] for b in range(20)]
    results: dict[int, list[tuple[int, int]]] = {0: [], 1: []}

    def deliver(index: int, store: PostgresEventStore) -> None:
        for batch in batches:
            results[index].append(tuple(store.add(batch, NOW)))  # type: ignore[arg-type]

    threads = [threading.Thread(target=deliver, args=(i, s)) for i, s in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for one, other in zip(results[0], results[1], strict=True):
        assert sorted([one, other]) == [(0, 10), (10, 0)]  # one replica stored it, the other saw duplicates
    assert first.count() == 200


def test_two_publishers_never_hold_the_same_event(replicas: Callable[[], PostgresEventStore]) -> None:
    first, second = replicas(), replicas()
    first.add([ev(f"{n:03d}") for n in range(25)], NOW)
    with first.claim(10) as held, second.claim(10) as other:  # skips the rows the first holds
        assert [e["log_id"] for e in held] == [f"{n:03d}" for n in range(10)]
        assert [e["log_id"] for e in other] == [f"{n:03d}" for n in range(10, 20)]
    sent: list[str] = []
    lock = threading.Lock()

    def send(batch: Any) -> None:
        with lock:
            sent.extend(data for _, _, data in batch)

    first.add([ev(f"x{n:03d}") for n in range(300)], NOW)
    publishers = [Publisher(store, send, "private-login-feed", workers=3) for store in (first, second)]
    threads = [threading.Thread(target=p.publish_pending) for p in publishers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for publisher in publishers:
        publisher.stop()
    assert len(sent) == len(set(sent)) == 305  # six threads of two replicas, each event once
    assert first.unpublished(10) == []


CLAIMER = """
import sys
from desktop.tenantlog.pgstore import PostgresEventStore
store = PostgresEventStore(sys.argv[1])
with store.claim(10) as events:
    print(",".join(e["log_id"] for e in events), flush=True)
    sys.stdin.read()  # holds the claim until killed
"""


def test_a_replica_killed_while_holding_a_claim_releases_it(postgres_url: str,
                                                            replicas: Callable[[], PostgresEventStore]) -> None:
    store = replicas()
    store.add([ev(f"{n:03d}") for n in range(15)], NOW)
    with subprocess.Popen([sys.executable, "-c", CLAIMER, postgres_url], cwd=REPO, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as dying:
        try:
            assert dying.stdout is not None
            assert dying.stdout.readline().strip() == ",".join(f"{n:03d}" for n in range(10))
            assert claimable(store) == [f"{n:03d}" for n in range(10, 15)]
        finally:
            dying.kill()
            dying.wait()
    # its connection is gone: PostgreSQL rolls the claim back as soon as it sees that, and the rows are free again
    wait_until(lambda: claimable(store) == [f"{n:03d}" for n in range(15)], 30)
    with store.claim(20) as again:
        assert len(again) == 15
    assert store.unpublished(20) == []


class _Release(Exception):
    pass


def claimable(store: PostgresEventStore) -> list[str]:
    """The log ids a claim would get now, released again unflagged (the claim's exception path)."""
    found: list[str] = []
    try:
        with store.claim(20) as events:
            found = [e["log_id"] for e in events]
            raise _Release
    except _Release:
        pass
    return found


def test_replicas_starting_together_migrate_once(postgres_url: str) -> None:
    stores: list[PostgresEventStore] = []
    threads = [threading.Thread(target=lambda: stores.append(PostgresEventStore(postgres_url))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert len(stores) == 3
        assert [s.schema_versions() for s in stores] == [[1], [1], [1]]
    finally:
        for store in stores:
            store.close()


def test_a_database_from_a_newer_version_is_refused(postgres_url: str) -> None:
    PostgresEventStore(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("INSERT INTO schema_migrations VALUES (99, 0)")
    with pytest.raises(StoreError, match="schema version 99"):
        PostgresEventStore(postgres_url)


def test_an_unreachable_database_is_a_clear_error_without_the_password() -> None:
    url = f"postgresql://feed:hunter2-secret@127.0.0.1:{free_loopback_port()}/feed"
    with pytest.raises(StoreError) as caught:
        PostgresEventStore(url, connect_timeout=2)
    assert "feed@127.0.0.1" in str(caught.value) and "hunter2" not in str(caught.value)


def test_the_health_check_fails_when_the_database_goes_away(postgres: Any, postgres_url: str,
                                                           replicas: Callable[[], PostgresEventStore]) -> None:
    store = replicas()
    store.check()
    postgres.drop_database(postgres_url.rsplit("/", 1)[1])  # closes the store's connections, too
    with pytest.raises(StoreError, match="PostgreSQL"):
        store.check()
