"""The history's retention goes by when events happened (the feed's order), not by when they arrived.

A catch-up or backfill stores old events last; pruning by arrival would delete newer events and keep those.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.payloads import login_payload

from desktop.feed.events import FeedEvent, format_utc, normalise
from desktop.feed.stats import event_time
from desktop.history.files import history_path, open_store
from desktop.history.store import HistoryStore

T0 = 1_795_237_262.123  # 2026-11-21T05:01:02.123Z
DAY = 86400.0


def happened(i: int, at: float | None, received: float) -> FeedEvent:
    """User ``auth0|<i>``'s login that happened at ``at`` (None: no time in the payload) and arrived at ``received``."""
    data: dict[str, Any] = login_payload(f"auth0|{i:06d}", at=None if at is None else format_utc(at))
    return normalise("user-loggedIn", "private-login-feed", data, received)


def ids(events: list[FeedEvent]) -> list[str | None]:
    return [ev.user_id for ev in events]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with open_store(history_path(tmp_path / "data")) as opened:
        yield opened


def caught_up_history(store: HistoryStore) -> list[FeedEvent]:
    """300 live events, then 200 of a catch-up that happened a day earlier but arrived last, then 2 of the same
    time as the newest live one (a tie: the later arrival counts as newer, as in ``recent``)."""
    live = [happened(i, T0 + i, T0 + i + 0.5) for i in range(300)]
    caught_up = [happened(300 + i, T0 - DAY + i, T0 + 400 + i) for i in range(200)]
    ties = [happened(500 + i, T0 + 299, T0 + 700 + i) for i in range(2)]
    for batch in (live[:150], live[150:], caught_up[:100], caught_up[100:], ties):
        store.add_many(batch)
    return [*live, *caught_up, *ties]


def test_keep_rows_keeps_the_newest_by_event_time_not_the_last_arrivals(store: HistoryStore) -> None:
    events = caught_up_history(store)
    newest = store.recent(250)
    assert ids(newest[:3]) == ["auth0|000501", "auth0|000500", "auth0|000299"]
    assert store.prune(keep_rows=250) == len(events) - 250
    kept = list(store.iter_since(None))  # arrival order
    assert ids(kept) == sorted(ids(newest))  # here arrival order is id order
    assert not any(event_time(ev) < T0 for ev in kept)  # none of the caught-up day-old events
    assert store.recent(250) == newest
    # the boundary falls between two events of the same time: the earlier arrival goes
    assert store.prune(keep_rows=2) == 248
    assert ids(store.recent(5)) == ["auth0|000501", "auth0|000500"]
    assert store.prune(keep_rows=2) == 0


def test_keep_rows_a_chunk_at_a_time_deletes_the_oldest_by_event_time_first(
        store: HistoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("desktop.history.store.PRUNE_CHUNK_ROWS", 7)
    caught_up_history(store)
    assert store.prune(keep_rows=250, max_rows=20) == 20  # the writer thread's step
    assert ids(list(store.iter_since(None))[300:]) == [f"auth0|{i:06d}" for i in range(320, 502)]
    assert store.prune(keep_rows=250, max_rows=20) == 20
    assert store.prune(keep_rows=250) == 212
    assert store.count() == 250 and ids(store.recent(250))[-1] == "auth0|000052"


def test_keep_days_goes_by_when_the_event_happened_even_if_it_arrived_today(store: HistoryStore) -> None:
    now = T0 + 100 * DAY
    store.add_many([
        happened(0, now - 40 * DAY, now - 60),  # caught up today, happened 40 days ago: goes
        happened(1, now - 29 * DAY, now - 60),  # caught up today, happened 29 days ago: stays
        happened(2, None, now - 60),  # no time of its own: its arrival, today
        happened(3, None, now - 31 * DAY),  # arrived 31 days ago, nothing else known: goes
        happened(4, now, now - 31 * DAY),  # a time after its arrival counts as the arrival (event_time): goes
        happened(5, now - 30 * DAY + 1, now - 45 * DAY),  # impossible (at after arrival) -> its arrival: goes
        happened(6, now - 30 * DAY + 1, now),  # just inside the window: stays
    ])
    assert store.prune(keep_days=30, now=now) == 4
    assert ids(list(store.iter_since(None))) == ["auth0|000001", "auth0|000002", "auth0|000006"]
    assert store.prune(keep_days=30, now=now) == 0


def test_both_rules_together_delete_what_either_would(store: HistoryStore) -> None:
    caught_up_history(store)
    now = T0 + 100 + 30 * DAY  # the cutoff is the live event at T0 + 100
    # keep_rows=400 alone would delete 102 (caught-up ones); the cutoff deletes those 200 and the live ones before it
    assert store.prune(keep_days=30, keep_rows=400, now=now) == 300
    assert ids(list(store.iter_since(None)))[0] == "auth0|000100"
    assert store.prune(keep_days=30, keep_rows=50, now=now) == 152
    assert ids(store.recent(50))[-1] == "auth0|000252" and store.count() == 50
    assert store.prune(keep_days=1e12, keep_rows=10**9, now=now) == 0  # absurd settings neither crash nor delete
    assert store.prune(keep_days=-1e12, now=now) == 50


def test_prune_reads_the_time_index_and_never_sorts_the_table(store: HistoryStore) -> None:
    caught_up_history(store)
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)  # the statements as run, parameters filled in
    assert store.prune(keep_days=30, keep_rows=100, now=T0 + 30 * DAY) == 402
    store._db.set_trace_callback(None)
    reads = [sql for sql in statements if sql.lstrip().upper().startswith(("SELECT", "DELETE"))]
    assert len(reads) >= 2
    for sql in reads:
        plan = " | ".join(str(row[3]) for row in store._db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "events_time" in plan and "TEMP B-TREE" not in plan, (sql, plan)
        assert "SCAN events USING INDEX" in plan or "SEARCH events USING INDEX" in plan, (sql, plan)
