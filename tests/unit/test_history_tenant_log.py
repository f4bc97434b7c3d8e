"""The history and the tenant log: one row per ``log_id``, catch-up's start cursor, and files from before."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from support.v2_events import v2_payload

from desktop.feed.events import FeedEvent, normalise
from desktop.feed.serialise import encode_data
from desktop.history.store import SCHEMA_VERSION, HistoryStore

T0 = 1_795_237_262.123
CHANNEL = "private-login-feed"


def v2(n: int, code: str = "fp", cursor: int | None = None) -> FeedEvent:
    return normalise("log-event", CHANNEL, v2_payload(code, n, cursor=cursor), T0 + n)


def v1(n: int) -> FeedEvent:
    return normalise("user-loggedIn", CHANNEL, {"v": 1, "type": "login", "user_id": f"auth0|{n}"}, T0 + n)


def test_one_row_per_log_id_across_batches_and_within_one(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        store.add_many([v2(1), v2(2), v1(1), v1(1)])
        store.add_many([v2(2), v2(3), v2(3)])  # caught up after it was received live
        rows = list(store.iter_since(None))
    assert [(ev.log_id, ev.type) for ev in rows] == [
        ("log-1", "login_failed"), ("log-2", "login_failed"), (None, "login"), (None, "login"),
        ("log-3", "login_failed")]
    assert rows[0].label == "Failed login (wrong password)" and rows[0].device == "Chrome 120 / macOS"
    assert rows[0] == v2(1)  # every field survives the round trip


def test_newest_cursor_is_the_largest_number_not_the_last_row(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "h.sqlite3") as store:
        assert store.newest_cursor() is None
        store.add_many([v1(1)])
        assert store.newest_cursor() is None
        store.add_many([v2(1, cursor=9), v2(2, cursor=12), v2(3, cursor=10)])
        assert store.newest_cursor() == "12"


def test_a_version_1_file_is_migrated_and_its_log_events_read_again(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE events (id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, at TEXT, type TEXT NOT NULL,
            event TEXT NOT NULL, channel TEXT NOT NULL, user_id TEXT, email TEXT, name TEXT, nickname TEXT,
            picture TEXT, connection TEXT, client_name TEXT, country TEXT, city TEXT, ip TEXT,
            logins_count INTEGER, data TEXT, reason TEXT);
        CREATE INDEX events_received_at ON events(received_at);
        PRAGMA user_version=1;
    """)
    insert = ("INSERT INTO events (received_at, type, event, channel, user_id, data, reason) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)")
    db.execute(insert, ("2026-11-21T05:00:00.000Z", "login", "user-loggedIn", CHANNEL, "auth0|1",
                        encode_data({"v": 1, "type": "login", "user_id": "auth0|1"}), None))
    for _ in range(2):  # the same log event, stored twice as unrecognised by the old version
        db.execute(insert, ("2026-11-21T05:00:01.000Z", "unrecognised", "log-event", CHANNEL, None,
                            encode_data(v2_payload("fp", 5)), "not a feed event"))
    db.commit()
    db.close()
    with HistoryStore(path) as store:
        assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        rows = list(store.iter_since(None))
        assert [(ev.type, ev.log_id, ev.reason) for ev in rows] == [
            ("login", None, None), ("login_failed", "log-5", "Wrong email or password.")]
        store.add_many([v2(5)])  # the unique key holds after the migration
        assert store.count() == 2
        assert store.newest_cursor() == "5"
