"""The history writer thread: batches coalesce, flush waits, failures are retried then given up, retention."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from support.waiting import wait_until

from desktop.feed.events import FeedEvent, normalise
from desktop.history.files import history_path, open_store
from desktop.history.store import HistoryStore
from desktop.history.writer import HistoryNotice, HistoryWriter

CHANNEL = "private-login-feed"
T0 = 1_795_237_262.123
DAY = 86400.0
FAST_RETRIES = (0.01, 0.01, 0.01)


def login(i: int, received: float = T0) -> FeedEvent:
    return normalise("user-loggedIn", CHANNEL, {"v": 1, "type": "login", "user_id": f"u{i}"}, received)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return history_path(tmp_path / "data")


@pytest.fixture
def writers() -> Iterator[Callable[..., HistoryWriter]]:
    made: list[HistoryWriter] = []

    def make(factory: Callable[[], Any], **options: Any) -> HistoryWriter:
        writer = HistoryWriter(factory, **options)
        made.append(writer)
        return writer

    yield make
    for writer in made:
        assert writer.close(10), "the writer thread did not stop"


def stored_ids(path: Path) -> list[str | None]:
    with HistoryStore(path) as store:
        return [ev.user_id for ev in store.iter_since(None)]


def test_submitted_events_are_written_in_order_and_flush_waits_for_them(path: Path, writers: Any) -> None:
    writer = writers(lambda: open_store(path))
    for start in range(0, 1000, 100):
        writer.submit([login(i) for i in range(start, start + 100)])
    writer.submit([])  # nothing to do
    assert writer.flush(10)
    stats = writer.stats
    assert (stats.written, stats.pending, stats.dropped, stats.last_error) == (1000, 0, 0, None)
    assert 1 <= stats.transactions <= 10
    assert stored_ids(path) == [f"u{i}" for i in range(1000)]  # readable while the writer still runs


def test_queued_batches_coalesce_into_few_transactions(path: Path, writers: Any) -> None:
    gate = threading.Event()

    def slow_open() -> HistoryStore:
        gate.wait(10)  # the disk is busy while 200 batches arrive
        return open_store(path)

    writer = writers(slow_open, max_batch=5000)
    for batch in range(200):
        writer.submit([login(batch * 50 + i) for i in range(50)])
    assert writer.stats.pending == 10_000
    assert writer.stats.peak_pending == 10_000
    gate.set()
    assert writer.flush(10)
    assert writer.stats.written == 10_000
    assert writer.stats.transactions <= 3  # 10,000 events at up to 5,000 (+ one batch) per transaction
    assert len(stored_ids(path)) == 10_000


def test_submit_copies_the_callers_list(path: Path, writers: Any) -> None:
    writer = writers(lambda: open_store(path))
    batch = [login(1)]
    writer.submit(batch)
    batch.clear()
    assert writer.flush(10)
    assert stored_ids(path) == ["u1"]


class FlakyStore:
    """A store whose writes fail ``failures`` times (a full disk), then work."""

    def __init__(self, real: HistoryStore, failures: int) -> None:
        self.real = real
        self.failures = failures
        self.attempts = 0

    def add_many(self, events: Sequence[FeedEvent]) -> int:
        self.attempts += 1
        if self.failures > 0:
            self.failures -= 1
            raise sqlite3.OperationalError("database or disk is full")
        return self.real.add_many(events)

    def prune(self, *args: Any, **kwargs: Any) -> int:
        return self.real.prune(*args, **kwargs)

    def recent(self, limit: int) -> list[FeedEvent]:
        return self.real.recent(limit)

    def close(self) -> None:
        self.real.close()


def test_a_failing_write_is_logged_once_and_retried_until_it_works(
        path: Path, writers: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="desktop.history")
    flaky: list[FlakyStore] = []

    def factory() -> FlakyStore:
        flaky.append(FlakyStore(open_store(path), failures=2))
        return flaky[-1]

    writer = writers(factory, retry_delays=FAST_RETRIES)
    writer.submit([login(i) for i in range(10)])
    assert writer.flush(10)
    assert flaky[0].attempts == 3
    assert writer.stats.written == 10 and writer.stats.dropped == 0 and writer.stats.last_error is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == ["history: cannot write to the history: database or disk is full; will retry",
                        "history: writing works again"]
    assert stored_ids(path) == [f"u{i}" for i in range(10)]


def test_a_write_that_keeps_failing_is_given_up_without_crashing(
        path: Path, writers: Any, caplog: pytest.LogCaptureFixture) -> None:
    flaky: list[FlakyStore] = []

    def factory() -> FlakyStore:
        flaky.append(FlakyStore(open_store(path), failures=4))
        return flaky[-1]

    writer = writers(factory, retry_delays=FAST_RETRIES)
    writer.submit([login(i) for i in range(10)])
    assert not writer.flush(10)  # given up: flush says so
    stats = writer.stats
    assert (stats.written, stats.dropped, stats.pending) == (0, 10, 0)
    assert "disk is full" in (stats.last_error or "")
    assert any("giving up on 10 events" in r.getMessage() for r in caplog.records)
    writer.submit([login(99)])  # the disk has room again: later events are stored
    assert writer.flush(10)
    assert stored_ids(path) == ["u99"]
    assert writer.stats.last_error is None


def test_a_history_that_cannot_be_opened_is_retried_for_later_batches(tmp_path: Path, writers: Any) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    target = history_path(tmp_path / "data")
    opens: list[str] = []

    def factory() -> HistoryStore:
        opens.append("try")
        return open_store(target if blocker.parent.joinpath("ok").exists() else history_path(blocker))

    writer = writers(factory, retry_delays=FAST_RETRIES)
    writer.submit([login(1)])
    assert not writer.flush(10)
    assert writer.stats.dropped == 1
    assert "cannot open the history" in (writer.stats.last_error or "")
    (tmp_path / "ok").touch()
    writer.submit([login(2)])
    assert writer.flush(10)
    assert stored_ids(target) == ["u2"]
    future = writer.recent(5)
    assert [ev.user_id for ev in future.result(10)] == ["u2"]


def test_recent_and_call_run_on_the_writer_thread_after_what_was_submitted(path: Path, writers: Any) -> None:
    writer = writers(lambda: open_store(path))
    writer.submit([login(i) for i in range(5)])
    newest = writer.recent(3).result(10)  # no flush needed: jobs run in queue order
    assert [ev.user_id for ev in newest] == ["u4", "u3", "u2"]
    thread = writer.call(lambda store: threading.current_thread().name).result(10)
    assert thread == "history-writer"
    failing = writer.call(lambda store: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result(10)
    writer.submit([login(5)])  # the writer lives on
    assert writer.flush(10)


def test_close_writes_everything_queued_and_later_submits_are_counted_not_raised(
        path: Path, caplog: pytest.LogCaptureFixture) -> None:
    writer = HistoryWriter(lambda: open_store(path))
    for batch in range(20):
        writer.submit([login(batch * 100 + i) for i in range(100)])
    assert writer.close(10)
    assert writer.closed
    assert len(stored_ids(path)) == 2000
    writer.submit([login(1)])
    assert writer.stats.dropped == 1
    assert any("after the history was closed" in r.getMessage() for r in caplog.records)
    with pytest.raises(RuntimeError, match="closed"):
        writer.recent(1).result(1)
    assert writer.close(1)  # idempotent
    assert writer.flush(1)  # nothing outstanding


def test_close_and_flush_from_the_writer_thread_never_deadlock(path: Path) -> None:
    writer = HistoryWriter(lambda: open_store(path))
    writer.submit([login(1)])
    results = writer.call(lambda store: (writer.flush(1), writer.close(1))).result(10)
    assert results == (False, False)  # both refuse to wait for themselves
    writer._thread.join(10)
    assert not writer._thread.is_alive()
    assert stored_ids(path) == ["u1"]


def test_retention_prunes_at_start_and_again_every_interval(path: Path, writers: Any) -> None:
    with open_store(path) as store:
        store.add_many([login(i, T0 - days * DAY) for i, days in enumerate([40, 31, 29, 1])])
    now = [T0]
    writer = writers(lambda: open_store(path), keep_days=30, prune_interval=0.05, clock=lambda: now[0])
    assert writer.call(lambda store: store.count()).result(10) == 2  # pruned before anything else
    assert stored_ids(path) == ["u2", "u3"]
    now[0] = T0 + 1.5 * DAY  # an interval later u2 (received 29 days before T0) has become too old
    wait_until(lambda: stored_ids(path) == ["u3"], message=lambda: f"only u3 left, not {stored_ids(path)}")


def test_retention_can_keep_a_number_of_rows_or_everything(path: Path, writers: Any) -> None:
    with open_store(path) as store:
        store.add_many([login(i, T0 - 400 * DAY) for i in range(10)])
    keep_all = writers(lambda: open_store(path), keep_days=None)
    assert keep_all.call(lambda store: store.count()).result(10) == 10
    assert keep_all.close(10)
    keep_rows = writers(lambda: open_store(path), keep_days=None, keep_rows=4)
    assert keep_rows.call(lambda store: store.count()).result(10) == 4
    assert keep_rows.close(10)
    assert stored_ids(path) == ["u6", "u7", "u8", "u9"]


def test_a_large_prune_goes_in_chunks_and_finishes(
        path: Path, writers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("desktop.history.keeper.PRUNE_CHUNK_ROWS", 100)
    monkeypatch.setattr("desktop.history.store.PRUNE_CHUNK_ROWS", 100)
    with open_store(path) as store:
        store.add_many([login(i, T0 - 100 * DAY) for i in range(1050)])
    writer = writers(lambda: open_store(path), keep_days=30, clock=lambda: T0)
    writer.submit([login(5000)])
    assert writer.flush(10)
    counts = [writer.call(lambda store: store.count()).result(10)]
    for _ in range(100):
        if counts[-1] == 1:
            break
        counts.append(writer.call(lambda store: store.count()).result(10))
    assert counts[-1] == 1
    assert stored_ids(path) == ["u5000"]


# -- notices: what the window tells the person ---------------------------------------------------------------
def test_notices_say_when_writing_fails_is_given_up_and_works_again(path: Path, writers: Any) -> None:
    notices: list[HistoryNotice] = []
    flaky: list[FlakyStore] = []

    def factory() -> FlakyStore:
        flaky.append(FlakyStore(open_store(path), failures=4))
        return flaky[-1]

    writer = writers(factory, retry_delays=FAST_RETRIES, on_notice=notices.append)
    writer.submit([login(i) for i in range(10)])
    assert not writer.flush(10)
    assert [n.kind for n in notices] == ["failing", "failing"]  # the first failure, then the give-up
    assert "database or disk is full" in notices[0].message and notices[0].lasting
    assert "10 events are shown but not stored" in notices[1].message
    writer.submit([login(11)])  # probing now: one attempt per wait, with everything queued
    assert writer.flush(10)
    assert notices[-1].kind == "recovered" and not notices[-1].lasting
    assert stored_ids(path) == ["u11"]


def test_after_a_give_up_everything_queued_is_probed_at_once_so_the_queue_cannot_grow(
        path: Path, writers: Any) -> None:
    flaky: list[FlakyStore] = []

    def factory() -> FlakyStore:
        flaky.append(FlakyStore(open_store(path), failures=10**9))
        return flaky[-1]

    writer = writers(factory, retry_delays=FAST_RETRIES, max_batch=10)
    writer.submit([login(0)])
    assert not writer.flush(10)
    attempts = flaky[0].attempts
    for start in range(0, 1000, 10):
        writer.submit([login(i) for i in range(start, start + 10)])
    assert not writer.flush(10)
    assert writer.stats.dropped == 1001 and writer.stats.pending == 0
    assert flaky[0].attempts - attempts < 100  # not one attempt per max_batch: the backlog goes at once


def test_a_listener_that_raises_does_not_stop_the_writer(path: Path, writers: Any) -> None:
    def broken(notice: HistoryNotice) -> None:
        raise RuntimeError("listener bug")

    writer = writers(lambda: FlakyStore(open_store(path), failures=1), retry_delays=FAST_RETRIES,
                     on_notice=broken)
    writer.submit([login(1)])
    assert writer.flush(10)
    assert stored_ids(path) == ["u1"]


def test_an_unreadable_file_at_open_is_moved_aside_and_the_listener_told(path: Path) -> None:
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database at all, " * 100)
    notices: list[HistoryNotice] = []
    writer = HistoryWriter.for_path(path, on_notice=notices.append)
    try:
        assert writer.recent(5).result(10) == []
        writer.submit([login(1)])
        assert writer.flush(10)
    finally:
        assert writer.close(10)
    assert [n.kind for n in notices] == ["replaced"]
    aside = [p.name for p in path.parent.iterdir() if ".unreadable-" in p.name]
    assert len(aside) == 1 and aside[0] in notices[0].message
    assert "not a database" in notices[0].message
    assert stored_ids(path) == ["u1"]
