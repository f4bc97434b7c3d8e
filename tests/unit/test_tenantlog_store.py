"""The tenant-log stores: migrations, duplicates, cursor paging, late commits, the outbox, retention.

The interface's tests run against both backends: SQLite, and PostgreSQL (a real server from the ``postgres``
fixture, a database per test). PostgreSQL's own concerns (several writers, several publishers) are in
``tests/integration/test_tenantlog_postgres.py``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from desktop.tenantlog.pgstore import PostgresEventStore
from desktop.tenantlog.sqlite_store import SqliteEventStore
from desktop.tenantlog.store import MAX_PAGE, EventStore, StoreError

NOW = 1_764_900_000.0


def ev(log_id: str, user_id: str | None = "auth0|ada", code: str = "fp") -> dict:
    return {"v": 2, "log_id": log_id, "code": code, "user_id": user_id, "reason": "Wrong email or password."}


OpenStore = Callable[..., EventStore]


@pytest.fixture(params=["sqlite", "postgresql"])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """``open_store(retention_days=30)``: a store on this test's database (a new one per call, same data)."""
    opened: list[EventStore] = []
    where = (request.getfixturevalue("postgres_url") if request.param == "postgresql"
             else tmp_path / "tenant-log.sqlite3")

    def open_one(retention_days: int = 30) -> EventStore:
        made: EventStore = (PostgresEventStore(str(where), retention_days) if request.param == "postgresql"
                            else SqliteEventStore(Path(where), retention_days))
        opened.append(made)
        return made

    yield open_one
    for made in opened:
        made.close()


@pytest.fixture
def store(open_store: OpenStore) -> EventStore:
    return open_store()


def test_a_new_file_gets_schema_version_1_once(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    SqliteEventStore(path).close()
    again = SqliteEventStore(path)
    assert again.schema_versions() == [1]
    again.close()
    assert (path.stat().st_mode & 0o777) == 0o600


def test_a_file_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    SqliteEventStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_migrations VALUES (99, 0)")
    db.close()
    with pytest.raises(StoreError, match="schema version 99"):
        SqliteEventStore(path)


def test_something_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.sqlite3"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match=r"t\.sqlite3"):
        SqliteEventStore(path)


def test_duplicates_in_one_batch_and_across_batches_are_stored_once(store: EventStore) -> None:
    assert store.add([ev("1"), ev("2"), ev("1")], NOW) == (2, 1)
    assert store.add([ev("2"), ev("3")], NOW) == (1, 1)
    assert store.count() == 3
    assert store.add([], NOW) == (0, 0)


def test_paging_after_a_cursor_oldest_first_with_next_and_more(store: EventStore) -> None:
    store.add([ev(str(n)) for n in range(1, 8)], NOW)
    first = store.page("0", 3)
    assert [e["log_id"] for e in first.events] == ["1", "2", "3"] and first.more
    assert first.next == first.events[-1]["cursor"]
    second = store.page(first.next, 3)
    assert [e["log_id"] for e in second.events] == ["4", "5", "6"] and second.more
    last = store.page(second.next, 3)
    assert [e["log_id"] for e in last.events] == ["7"] and not last.more
    empty = store.page(last.next, 3)
    assert empty.events == [] and empty.next == last.next and not empty.more


def test_without_after_the_newest_n_oldest_first(store: EventStore) -> None:
    assert store.page(None, 5) == ([], "0", False)
    store.add([ev(str(n)) for n in range(1, 8)], NOW)
    page = store.page(None, 3)
    assert [e["log_id"] for e in page.events] == ["5", "6", "7"] and not page.more
    assert page.next == page.events[-1]["cursor"]


def test_every_event_carries_its_cursor_and_the_limit_is_capped(store: EventStore) -> None:
    store.add([ev(str(n)) for n in range(MAX_PAGE + 5)], NOW)
    page = store.page("0", 5000)
    assert len(page.events) == MAX_PAGE and page.more
    cursors = [int(e["cursor"]) for e in page.events]
    assert cursors == sorted(cursors) and len(set(cursors)) == MAX_PAGE


@pytest.mark.parametrize("bad", ["-1", "abc", "1.5", "", "9" * 30, "١٢"])
def test_a_malformed_cursor_is_a_value_error(store: EventStore, bad: str) -> None:
    with pytest.raises(ValueError, match="cursor"):
        store.page(bad, 10)


def test_a_late_commit_is_never_skipped(tmp_path: Path) -> None:
    """A writer holding the write lock delays every later writer: cursors become visible in order."""
    path = tmp_path / "t.sqlite3"
    reader, writer = SqliteEventStore(path), SqliteEventStore(path)
    slow = sqlite3.connect(path, isolation_level=None)
    try:
        slow.execute("BEGIN IMMEDIATE")
        slow.execute("INSERT INTO events (log_id, user_id, received_at, body) VALUES ('slow', NULL, 0, ?)",
                     (b'{"v":2,"log_id":"slow"}',))
        done = threading.Event()
        thread = threading.Thread(target=lambda: (writer.add([ev("fast")], NOW), done.set()))
        thread.start()
        assert reader.page("0", 10).events == []  # neither is visible yet; the fast writer waits
        assert not done.is_set()
        slow.execute("COMMIT")
        thread.join(timeout=30)
        assert done.is_set()
        page = reader.page("0", 10)
        assert [e["log_id"] for e in page.events] == ["slow", "fast"]
        assert int(page.events[0]["cursor"]) < int(page.events[1]["cursor"])
    finally:
        slow.close()
        reader.close()
        writer.close()


def test_the_outbox_survives_a_reopen(open_store: OpenStore) -> None:
    store = open_store()
    store.add([ev("1"), ev("2"), ev("3")], NOW)
    first = store.unpublished(2)
    assert [e["log_id"] for e in first] == ["1", "2"]
    store.mark_published([e["cursor"] for e in first])
    store.close()
    reopened = open_store()
    assert [e["log_id"] for e in reopened.unpublished(10)] == ["3"]


def test_one_users_recent_events_oldest_first(store: EventStore) -> None:
    store.add([ev("1", "auth0|ada"), ev("2", "auth0|bob"), ev("3", "auth0|ada"), ev("4", None), ev("5", "auth0|ada")],
              NOW)
    assert [e["log_id"] for e in store.for_user("auth0|ada", 2)] == ["3", "5"]
    assert store.for_user("auth0|nobody", 10) == []


def test_retention_prunes_by_arrival_and_cursors_are_never_reused(open_store: OpenStore) -> None:
    store = open_store(retention_days=2)
    store.add([ev("old1"), ev("old2")], NOW - 3 * 86_400)
    store.add([ev("new")], NOW)
    newest = int(store.page(None, 1).events[0]["cursor"])
    assert store.prune(NOW) == 2
    assert [e["log_id"] for e in store.page("0", 10).events] == ["new"]
    store.prune(NOW + 10 * 86_400)
    store.add([ev("after")], NOW)
    assert int(store.page(None, 1).events[0]["cursor"]) > newest


def test_the_newest_log_id_for_a_catch_up(store: EventStore) -> None:
    assert store.newest_log_id() is None
    store.add([ev("90020211104001515271334544008635532534914988032684720226"),
               ev("90020211103082515482106767167326018758436529088273317970")], NOW)
    assert store.newest_log_id() == "90020211104001515271334544008635532534914988032684720226"


def test_concurrent_adds_from_threads_lose_nothing(store: EventStore) -> None:
    def add(start: int) -> None:
        for n in range(start, start + 50):
            store.add([ev(str(n)), ev(str(n))], NOW)

    threads = [threading.Thread(target=add, args=(k * 1000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.count() == 200


def test_acknowledged_commits_wait_for_the_disk_and_publish_flags_do_not(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "t.sqlite3")

    def synchronous() -> int:
        return int(store._db.execute("PRAGMA synchronous").fetchone()[0])

    assert synchronous() == 2  # FULL: an event acknowledged to Auth0 survives a power cut
    store.add([ev("1")], NOW)
    store.mark_published([e["cursor"] for e in store.unpublished(10)])
    assert synchronous() == 2  # NORMAL was for the flag's commit only
    assert store.unpublished(10) == []
    store.close()


def test_events_stored_as_published_stay_out_of_the_outbox(store: EventStore) -> None:
    store.add([ev("old")], NOW, published=True)
    store.add([ev("new")], NOW)
    assert [e["log_id"] for e in store.unpublished(10)] == ["new"]
    assert [e["log_id"] for e in store.page("0", 10).events] == ["old", "new"]


def test_a_claim_flags_its_events_only_when_the_block_ends_normally(store: EventStore) -> None:
    store.add([ev("1"), ev("2"), ev("3")], NOW)
    with pytest.raises(RuntimeError), store.claim(2) as events:
        assert [e["log_id"] for e in events] == ["1", "2"] and all(e["cursor"] for e in events)
        raise RuntimeError("Pusher refused")
    assert [e["log_id"] for e in store.unpublished(10)] == ["1", "2", "3"]
    with store.claim(2) as events:
        assert [e["log_id"] for e in events] == ["1", "2"]
    assert [e["log_id"] for e in store.unpublished(10)] == ["3"]
    with store.claim(10) as events:
        assert [e["log_id"] for e in events] == ["3"]
    with store.claim(10) as events:
        assert events == []


def test_the_health_check_passes_on_an_open_store(store: EventStore) -> None:
    store.check()
