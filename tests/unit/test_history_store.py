"""The history database: every field round-trips, batches are one transaction, pruning, schema, since."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.payloads import login_payload

from desktop.feed.events import FeedEvent, format_utc, normalise
from desktop.feed.serialise import encode_data
from desktop.feed.stats import event_time
from desktop.history.files import history_path, open_store
from desktop.history.rows import decode_data
from desktop.history.store import SCHEMA_VERSION, HistoryError, HistoryStore, parse_since

CHANNEL = "private-login-feed"
T0 = 1_795_237_262.123  # 2026-11-21T05:01:02.123Z
DAY = 86400.0


def v1(i: int = 0, **overrides: Any) -> dict[str, Any]:
    return login_payload(f"auth0|{i:06d}", **overrides)


def login(i: int = 0, received: float = T0, **overrides: Any) -> FeedEvent:
    return normalise("user-loggedIn", CHANNEL, v1(i, **overrides), received)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with open_store(history_path(tmp_path / "data")) as opened:
        yield opened


def test_every_field_round_trips_including_non_ascii_markup_none_and_nested_data(store: HistoryStore) -> None:
    events = [
        normalise("user-signedUp", CHANNEL, v1(
            1, type="signup", name="<img src=x onerror=alert(1)>", nickname="Zoë 🚀 \u202e", city="Zürich",
            email="=HYPERLINK(\"http://evil\")@x.y", logins_count=1,
            app_metadata={"signedUp": True, "nested": [1, 2.5, None, {"deep": ["ü", {"x": []}]}]},
        ), T0),
        # the legacy rule's whole user object: connection from identities, at from last_login
        normalise("user-loggedIn", CHANNEL, {
            "user_id": "google-oauth2|1", "email": "grace@example.com", "name": "Grace Hopper",
            "identities": [{"connection": "google-oauth2"}], "last_login": "2026-11-21T05:03:00.000Z",
            "logins_count": 5, "country": "US"}, T0 + 1),
        # most fields None, plus a reason
        normalise("user-loggedIn", CHANNEL, "garbage {", T0 + 2),
        normalise("something-else", "auth0", [1, "two", None], T0 + 3),
        normalise("user-loggedIn", CHANNEL, None, T0 + 4),
        # NUL and line breaks inside text survive as they are
        login(6, T0 + 5, name="line one\nline two\x00after nul"),
    ]
    assert store.add_many(events) == len(events)

    oldest_first = list(store.iter_since(None))
    assert oldest_first == events
    # newest first by when they happened (Grace's login before ``garbage``; the two at T0 last): the feed's order
    assert store.recent(100) == sorted(reversed(events), key=event_time, reverse=True)
    assert oldest_first[1].connection == "google-oauth2"
    assert oldest_first[2].type == "unrecognised" and oldest_first[2].reason
    assert oldest_first[2].email is None and oldest_first[2].logins_count is None
    assert oldest_first[3].data == [1, "two", None]
    assert oldest_first[4].data is None


@pytest.mark.parametrize("data", [
    {"name": "bad \ud800 surrogate"},  # orjson refuses lone surrogates: stored escaped, read back exactly
    {"big": 10**30, "small": -(10**30)},  # beyond 64 bits
    {"v": 1, "deep": [[[[[[[[[[[[[[[[[[[[{"k": "v"}]]]]]]]]]]]]]]]]]]]]},
    "just a string with \u0000 and é",
    12.5,
    True,
    {"unicode": "日本語 עברית 🙂"},
])
def test_odd_payloads_round_trip_exactly(store: HistoryStore, data: object) -> None:
    ev = normalise("user-loggedIn", CHANNEL, data, T0)
    store.add_many([ev])
    (back,) = store.recent(1)
    assert back == ev
    assert back.data == data


def test_nan_and_unencodable_payloads_never_break_a_batch(store: HistoryStore) -> None:
    circular: list[object] = []
    circular.append(circular)

    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

    events = [
        normalise("user-loggedIn", CHANNEL, {"score": float("nan"), "inf": float("inf")}, T0),
        normalise("user-loggedIn", CHANNEL, {"set": {1, 2}, "bytes": b"\xff"}, T0),  # default=str
        normalise("user-loggedIn", CHANNEL, circular, T0),
        normalise("user-loggedIn", CHANNEL, {"x": Hostile()}, T0),
        login(1),
    ]
    assert store.add_many(events) == 5
    back = list(store.iter_since(None))
    assert back[0].data == {"score": None, "inf": None}  # JSON has no NaN: null, as `tail` prints it
    assert isinstance(back[1].data["set"], str)
    assert "cannot be stored" in back[2].data
    assert "cannot be stored" in back[3].data
    assert back[4] == events[4]


def test_text_fields_with_lone_surrogates_are_stored_not_refused(store: HistoryStore) -> None:
    # normalise() never produces these, but a hand-built FeedEvent must not poison a batch either
    ev = FeedEvent(event="user-loggedIn", channel=CHANNEL, type="login", user_id="u\ud800", received_at="x",
                   data=None, logins_count=2**70)
    store.add_many([ev, login(1)])
    first, second = store.iter_since(None)
    assert first.user_id == "u\ufffd" and first.logins_count is None
    assert second == login(1)


def test_a_batch_is_one_transaction_all_or_nothing(tmp_path: Path, store: HistoryStore) -> None:
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    store.add_many([login(i) for i in range(1000)])
    store._db.set_trace_callback(None)
    assert sum(s.startswith("BEGIN") for s in statements) == 1
    assert sum(s == "COMMIT" for s in statements) == 1
    assert store.count() == 1000

    # A row that fails half-way (a trigger here; a full disk in life) leaves nothing of its batch behind.
    other = sqlite3.connect(store.path)
    try:
        other.execute("CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.user_id = 'auth0|000500' "
                      "BEGIN SELECT RAISE(ABORT, 'disk full, say'); END")
        other.commit()
    finally:
        other.close()
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        store.add_many([login(i) for i in range(1000)])
    assert store.count() == 1000
    assert store.add_many([login(1)]) == 1  # the connection is usable afterwards
    assert store.add_many([]) == 0


def test_recent_is_newest_first_and_limited(store: HistoryStore) -> None:
    store.add_many([login(i, T0 + i) for i in range(10)])
    assert [ev.user_id for ev in store.recent(3)] == ["auth0|000009", "auth0|000008", "auth0|000007"]
    assert store.recent(0) == []
    assert len(store.recent(1000)) == 10


def test_recent_is_the_newest_by_event_time_not_the_last_to_arrive(store: HistoryStore) -> None:
    # 6,000 events; the last 1,000 to arrive happened a day before the others (a catch-up or backfill of old ones)
    live = [login(i, T0 + i, at=format_utc(T0 + i - 1)) for i in range(5000)]
    caught_up = [login(5000 + i, T0 + 5000 + i, at=format_utc(T0 - DAY + i)) for i in range(1000)]
    for start in range(0, 5000, 1000):
        store.add_many(live[start:start + 1000])
    store.add_many(caught_up)
    restored = store.recent(5000)
    assert [ev.user_id for ev in restored] == [ev.user_id for ev in reversed(live)]  # none of the old ones
    assert [ev.user_id for ev in store.recent(5002)[-2:]] == ["auth0|005999", "auth0|005998"]
    # events of the same time: the later arrival first (as the feed puts them); an `at` after the arrival counts
    # as the arrival (event_time)
    store.add_many([login(7000, T0 + 9000, at=format_utc(T0 + 8000)), login(7001, T0 + 8000, at=None),
                    login(7002, T0 + 8000, at=format_utc(T0 + 9999))])
    assert [ev.user_id for ev in store.recent(3)] == ["auth0|007002", "auth0|007001", "auth0|007000"]
    plan = " ".join(str(row) for row in store._db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM events ORDER BY CASE WHEN at < received_at THEN at ELSE received_at END "
        "DESC, id DESC LIMIT 5"))
    assert "USING INDEX events_time" in plan and "TEMP B-TREE" not in plan  # read from the index, not sorted


def test_a_version_2_file_gets_the_time_index(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    with HistoryStore(path) as store:
        store.add_many([login(1, T0 + 1, at=format_utc(T0 - DAY)), login(2, T0 + 2)])
        store._db.execute("DROP INDEX events_time")
        store._db.execute("PRAGMA user_version=2")
    with HistoryStore(path) as store:
        assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        assert store._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'events_time'").fetchone()
        assert [ev.user_id for ev in store.recent(5)] == ["auth0|000002", "auth0|000001"]


def test_iter_since_filters_on_received_at_oldest_first_and_streams(store: HistoryStore) -> None:
    store.add_many([login(i, T0 + i * 3600) for i in range(5)])  # 05:01, 06:01, 07:01, 08:01, 09:01
    assert [ev.user_id for ev in store.iter_since("2026-11-21T07:00Z")] == [
        "auth0|000002", "auth0|000003", "auth0|000004"]
    assert len(list(store.iter_since("2026-11-21T07:01:02.123Z"))) == 3  # inclusive
    assert len(list(store.iter_since("2026-11-21T08:01:02+01:00"))) == 3  # 07:01:02 UTC
    assert list(store.iter_since("2026-11-22")) == []
    assert len(list(store.iter_since("2026-11-21"))) == 5
    stream = store.iter_since(None)
    assert next(stream).user_id == "auth0|000000"  # a generator: nothing more is read until asked
    stream.close()
    with pytest.raises(ValueError, match="ISO date"):
        list(store.iter_since("last tuesday"))


def test_prune_by_age_and_by_rows(store: HistoryStore) -> None:
    now = T0 + 100 * DAY
    # no `at`: each happened when it arrived (retention goes by event time: tests/unit/test_history_retention.py)
    store.add_many([login(i, now - days * DAY, at=None) for i, days in enumerate([90, 45, 31, 29, 1, 0])])
    assert store.prune(keep_days=None, keep_rows=None, now=now) == 0
    assert store.prune(keep_days=30, now=now) == 3
    assert [ev.user_id for ev in store.iter_since(None)] == ["auth0|000003", "auth0|000004", "auth0|000005"]
    assert store.prune(keep_days=30, now=now) == 0
    assert store.prune(keep_rows=2, now=now) == 1
    assert [ev.user_id for ev in store.iter_since(None)] == ["auth0|000004", "auth0|000005"]
    assert store.prune(keep_rows=5) == 0
    assert store.prune(keep_rows=0) == 2
    assert store.count() == 0
    assert store.prune(keep_days=1e12, now=now) == 0  # absurd settings neither crash nor delete
    assert store.prune(keep_days=-1e12, keep_rows=None, now=now) == 0


def test_prune_deletes_in_chunks_and_can_stop_early(store: HistoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("desktop.history.store.PRUNE_CHUNK_ROWS", 7)
    store.add_many([login(i, T0) for i in range(30)])
    store.add_many([login(i, T0 + 10 * DAY, at=None) for i in range(30, 35)])
    assert store.prune(keep_days=5, now=T0 + 10 * DAY, max_rows=10) == 10
    assert store.count() == 25
    assert store.prune(keep_days=5, now=T0 + 10 * DAY) == 20
    assert [ev.user_id for ev in store.iter_since(None)] == [f"auth0|{i:06d}" for i in range(30, 35)]


def test_database_settings_schema_and_permissions(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    path = history_path(data_dir)
    with open_store(path) as store:
        db = store._db
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = {row[1] for row in db.execute("PRAGMA index_list(events)")}
        # received_at: export --since and pruning; log_id: one row per tenant-log event; cursor: catch-up's start;
        # time: the window's restore (the newest by event time)
        assert indexes == {"events_received_at", "events_log_id", "events_cursor", "events_time"}
        columns = [row[1] for row in db.execute("PRAGMA table_info(events)")]
        assert columns[:4] == ["id", "received_at", "at", "type"]
        assert {"data", "reason", "logins_count"} <= set(columns)
        store.add_many([login(1)])
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with HistoryStore(path) as again:  # reopening keeps the data and the schema
        assert again.count() == 1
    store.close()  # idempotent


def test_the_unused_type_index_of_older_files_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with HistoryStore(path) as store:
        store.add_many([login(1)])
        store._db.execute("CREATE INDEX events_type ON events(type)")  # as the first versions made it
    with HistoryStore(path) as again:
        indexes = {row[1] for row in again._db.execute("PRAGMA index_list(events)")}
        assert indexes == {"events_received_at", "events_log_id", "events_cursor", "events_time"}
        assert again.count() == 1


def test_a_history_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(HistoryError, match="newer Login Feed") as caught:
        open_store(path)
    assert not caught.value.unreadable
    assert path.exists()  # left alone


def test_a_file_that_is_not_a_database_is_moved_aside_by_open_store(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database, just some text that is long enough to have a header" * 20)
    with pytest.raises(HistoryError, match="not a database") as caught:
        HistoryStore(path)
    assert caught.value.unreadable
    with open_store(path) as store:
        assert store.count() == 0
    aside = [p.name for p in tmp_path.iterdir() if ".unreadable-" in p.name]
    assert len(aside) == 1


def test_encode_and_decode_data_directly() -> None:
    assert decode_data(encode_data({"a": [1, "é"]})) == {"a": [1, "é"]}
    assert decode_data(None) is None
    assert decode_data("not json {") == "not json {"
    assert decode_data(encode_data({1: "int key"})) == {"1": "int key"}


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-21", "2026-11-21T00:00:00.000Z"),
    ("2026-11-21T05:00Z", "2026-11-21T05:00:00.000Z"),
    ("2026-11-21T05:00z", "2026-11-21T05:00:00.000Z"),
    ("2026-11-21T05:00:07.5Z", "2026-11-21T05:00:07.500Z"),
    ("2026-11-21T06:00+01:00", "2026-11-21T05:00:00.000Z"),
    ("2026-11-21 05:00", "2026-11-21T05:00:00.000Z"),  # no offset: UTC
    ("2026-11-21T05:00:00.123456", "2026-11-21T05:00:00.123Z"),
    ("  2026-11-21  ", "2026-11-21T00:00:00.000Z"),
    ("20261121", "2026-11-21T00:00:00.000Z"),  # the basic format, which Python 3.11 reads too
])
def test_parse_since_accepts_iso_dates_and_times(text: str, expected: str) -> None:
    assert parse_since(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "2026-11-21T25:00", "21/11/2026", "Z", "now"])
def test_parse_since_rejects_anything_else_clearly(text: str) -> None:
    with pytest.raises(ValueError, match="expected an ISO date or time such as 2026-11-21"):
        parse_since(text)


def test_received_at_is_the_feed_format() -> None:
    assert login(1).received_at == format_utc(T0) == "2026-11-21T05:01:02.123Z"


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=())),  # lone surrogates included
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(st.characters(exclude_categories=()), max_size=8), children, max_size=4),
    max_leaves=30,
)


@given(_json_values)
def test_any_decoded_json_payload_round_trips_through_its_stored_text(data: object) -> None:
    text = encode_data(data)
    text.encode("utf-8")  # always storable: valid UTF-8
    assert decode_data(text) == data
