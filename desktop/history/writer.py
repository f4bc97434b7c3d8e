"""Write history off the GUI thread: one thread owns the SQLite connection and commits in batches.

:meth:`HistoryWriter.submit` only puts the batch on a queue, so the GUI (or the engine) never waits on the
disk. The writer thread takes whatever is queued, up to ``max_batch`` events, and commits it in one
transaction; under a burst of 20,000 events/s that is a handful of transactions per second, and a commit
lands well within a few hundred milliseconds of receipt, so an event is safe against ``kill -9`` long
before a second has passed (see :mod:`desktop.history.store` on why WAL + ``synchronous=NORMAL`` suffices).

What ``kill -9`` can lose, at most: what is queued and not yet committed (:attr:`WriterStats.pending`).
A commit is durable the moment it returns (WAL + ``synchronous=NORMAL``, see :mod:`.store`), and the writer
starts the next one as soon as the last ends, taking everything queued. While the process gets its share of
the CPU that is the last few milliseconds of events (``bench/history_writer.py``: 100,000+ events/s on the
2-core development machine, against a feed's 20,000/s bursts); on a machine too busy to run it, the queue
grows instead, and that is what a kill would lose. ``tests/integration/test_history_durability.py`` checks
the promise that does not depend on the machine: everything acknowledged as committed survives.

Memory and failures: nothing is dropped while the disk keeps up, so the queue stays short;
:attr:`WriterStats.peak_pending` shows how long it got. When writes fail (disk full, file locked), a batch is
retried with a growing delay a few times (logged once), then given up and counted in
:attr:`WriterStats.dropped`; from then on, until a write works again, everything queued is tried once every
last retry delay and given up if it fails, so a broken disk cannot grow the queue. The app keeps running
(the events are still in the window) and ``on_notice`` tells it, with a :class:`HistoryNotice`: failing,
working again, or an unreadable file moved aside and a new one started (at open, or when SQLite finds the
file corrupt later).

Retention: events older than ``keep_days`` (and beyond ``keep_rows``) are pruned once at start and then
every ``prune_interval`` seconds, a chunk at a time between batches.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from desktop.feed.events import FeedEvent
from desktop.history.store import PRUNE_CHUNK_ROWS, HistoryStore, is_unreadable, move_aside, open_store

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_KEEP_DAYS = 30
DEFAULT_MAX_BATCH = 5000
"""Events per transaction at most: big enough that a burst costs few commits, small enough that each
commit takes only milliseconds (so an event is durable soon after receipt even under load)."""
RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0)
"""Seconds to wait before each retry of a failing batch; after the last one the batch is given up."""


@dataclass(frozen=True, slots=True)
class WriterStats:
    written: int
    """Events committed."""
    pending: int
    """Events submitted but not yet committed (or given up)."""
    dropped: int
    """Events given up after repeated write failures (or submitted after close)."""
    peak_pending: int
    """The largest ``pending`` seen: how far the disk fell behind."""
    transactions: int
    """Committed write transactions."""
    last_error: str | None
    """The last write error, or None once writing works again."""


@dataclass(frozen=True, slots=True)
class HistoryNotice:
    """What the person using the app should be told about the history (the window's status bar shows it)."""

    kind: Literal["failing", "recovered", "replaced"]
    message: str

    @property
    def lasting(self) -> bool:
        """True while the problem lasts (show it until the next notice); False for news shown for a while."""
        return self.kind == "failing"


class _Stop:
    pass


_STOP = _Stop()


@dataclass(slots=True)
class _Job:
    """Something to run on the writer thread (with the store), in queue order: e.g. reading the history."""

    call: Callable[[HistoryStore], object]
    future: Future[object]


class HistoryWriter:
    """Owns a :class:`HistoryStore` on a dedicated thread; every method is safe from any thread.

    ``store_factory`` is called on the writer thread (SQLite objects belong to the thread that made them);
    if it fails, it is tried again for the next batch. Call :meth:`close` before the app exits.
    """

    def __init__(
        self,
        store_factory: Callable[[], HistoryStore],
        *,
        keep_days: float | None = DEFAULT_KEEP_DAYS,
        keep_rows: int | None = None,
        prune_interval: float = 3600.0,
        max_batch: int = DEFAULT_MAX_BATCH,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        clock: Callable[[], float] = time.time,
        name: str = "history-writer",
        on_notice: Callable[[HistoryNotice], None] | None = None,
        path: Path | None = None,
    ) -> None:
        self._factory = store_factory
        self._on_notice = on_notice  # called on the writer thread: hand it to your own thread, quickly
        self._path = path  # known: a file found corrupt while in use can be moved aside and replaced
        self._given_up = False  # a batch was given up and no write has worked since: probe, do not retry
        self.keep_days = keep_days
        self.keep_rows = keep_rows
        self._prune_interval = prune_interval
        self._max_batch = max(1, max_batch)
        self._retry_delays = tuple(retry_delays)
        self._clock = clock
        self._queue: queue.SimpleQueue[list[FeedEvent] | _Job | _Stop] = queue.SimpleQueue()
        self._cond = threading.Condition()
        # Counters, guarded by _cond. submitted == written + dropped + pending, always.
        self._submitted = 0
        self._written = 0
        self._dropped = 0
        self._peak_pending = 0
        self._transactions = 0
        self._last_error: str | None = None
        self._closed = False
        self._wake = threading.Event()  # cuts a retry delay short when closing
        self._store: HistoryStore | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        # A safety net for an app that exits without close(): write what is queued first. (The thread is a
        # daemon so a forgotten writer never hangs the exit; atexit runs while daemon threads still run.)
        self._at_exit = functools.partial(_close_at_exit, weakref.ref(self))
        atexit.register(self._at_exit)

    @classmethod
    def for_path(cls, path: Path, **options: object) -> HistoryWriter:
        """A writer for the history file at ``path`` (created with its directory, 0700, when missing)."""
        return cls(lambda: open_store(path), path=path, **options)  # type: ignore[arg-type]

    # ---- any thread ----------------------------------------------------------------------------------------

    def submit(self, events: Sequence[FeedEvent]) -> None:
        """Queue ``events`` for writing and return at once (never blocks on the disk, never raises)."""
        if not events:
            return
        batch = list(events)  # the caller may reuse its list
        with self._cond:
            if self._closed:
                self._dropped += len(batch)
                late = True
            else:
                late = False
                self._submitted += len(batch)
                self._queue.put(batch)  # under the lock: queue order == counter order, which flush() relies on
                pending = self._submitted - self._written - self._dropped
                self._peak_pending = max(self._peak_pending, pending)
        if late:
            log.warning("history: %d events arrived after the history was closed and are not stored", len(batch))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every event submitted before this call is committed; False on timeout, when some of
        them were given up, or when called from the writer thread itself (which would wait for itself)."""
        if threading.current_thread() is self._thread:
            return False
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            target = self._submitted
            dropped = self._dropped
            while self._written + self._dropped < target:
                if not self._thread.is_alive():
                    return False
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._cond.wait(remaining if remaining is not None else 0.5)
            return self._dropped == dropped

    def call(self, function: Callable[[HistoryStore], T]) -> Future[T]:
        """Run ``function(store)`` on the writer thread after everything submitted so far; the future holds
        its result or exception. For reads such as restoring the feed without touching the disk on the GUI
        thread: ``writer.call(lambda store: store.recent(500))``."""
        future: Future[T] = Future()
        with self._cond:
            if self._closed:
                future.set_exception(RuntimeError("the history is closed"))
                return future
            self._queue.put(_Job(function, future))  # type: ignore[arg-type]
        return future

    def recent(self, limit: int) -> Future[list[FeedEvent]]:
        """The ``limit`` newest stored events, newest first, read on the writer thread."""
        return self.call(lambda store: store.recent(limit))

    @property
    def stats(self) -> WriterStats:
        with self._cond:
            return WriterStats(
                written=self._written,
                pending=self._submitted - self._written - self._dropped,
                dropped=self._dropped,
                peak_pending=self._peak_pending,
                transactions=self._transactions,
                last_error=self._last_error,
            )

    def close(self, timeout: float | None = 10.0) -> bool:
        """Write what is queued, close the database and stop the thread; True when all that happened within
        ``timeout``. Idempotent. From the writer thread itself it only asks the thread to stop (no join)."""
        with self._cond:
            if not self._closed:
                self._closed = True
                self._queue.put(_STOP)
        self._wake.set()
        atexit.unregister(self._at_exit)
        if threading.current_thread() is self._thread:
            return False
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def closed(self) -> bool:
        return self._closed

    # ---- the writer thread ---------------------------------------------------------------------------------

    def _run(self) -> None:
        next_prune = time.monotonic()  # prune once at start
        stopping = False
        try:
            while not stopping:
                if self._store is None:
                    self._open()
                if self._store is None:
                    item = self._queue.get()  # nothing can be written: wait for work, then try to open again
                else:
                    if time.monotonic() >= next_prune:
                        next_prune = time.monotonic() + (0 if self._prune_step() else self._prune_interval)
                    try:
                        item = self._queue.get(timeout=max(0.0, next_prune - time.monotonic()))
                    except queue.Empty:
                        continue
                if self._given_up and not self._closed and self._retry_delays:
                    self._wake.wait(self._retry_delays[-1])  # failing: probe at this pace, with all that came
                stopping = self._handle(item)
        except BaseException:  # a bug: say so, and let flush()/close() see the thread is gone
            log.exception("history: the writer stopped unexpectedly")
        finally:
            if self._store is not None:
                with contextlib.suppress(Exception):
                    self._store.close()
                self._store = None
            self._fail_leftovers()
            with self._cond:
                self._cond.notify_all()

    def _handle(self, item: list[FeedEvent] | _Job | _Stop) -> bool:
        """Write ``item`` and whatever else is queued (up to ``max_batch`` events) in one transaction; run
        jobs in queue order. True when the stop marker was reached."""
        batch: list[FeedEvent] = []
        stopping = False
        while True:
            if isinstance(item, _Stop):
                stopping = True
                break
            if isinstance(item, _Job):
                self._write(batch, stopping=False)  # what was queued before the job is visible to it
                batch = []
                self._run_job(item)
            else:
                batch.extend(item)
            if len(batch) >= self._max_batch and not self._given_up:
                break
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
        self._write(batch, stopping=stopping)
        return stopping

    def _run_job(self, job: _Job) -> None:
        if not job.future.set_running_or_notify_cancel():
            return
        if self._store is None and not self._open():
            job.future.set_exception(RuntimeError(f"the history cannot be opened: {self._last_error}"))
            return
        try:
            assert self._store is not None
            try:
                result = job.call(self._store)
            except Exception as exc:
                if not self._replace_unreadable(exc):
                    raise
                result = job.call(self._store)  # once more, on the new file
            job.future.set_result(result)
        except Exception as exc:
            job.future.set_exception(exc)

    def _open(self) -> bool:
        try:
            self._store = self._factory()
        except Exception as exc:
            self._note_failure(f"cannot open the history: {exc}")
            return False
        moved = getattr(self._store, "moved_aside", None)
        if moved is not None:
            self._notify("replaced", f"The history file could not be read ({moved[1]}): it was moved to "
                                     f"{moved[0].name} and a new history started")
        return True

    def _replace_unreadable(self, exc: BaseException) -> bool:
        """SQLite found the open file corrupt: move it aside and open a new one; True when that worked."""
        if self._path is None or self._store is None or not is_unreadable(exc):
            return False
        with contextlib.suppress(Exception):
            self._store.close()
        self._store = None
        try:
            aside = move_aside(self._path)
        except OSError as move_error:
            self._note_failure(f"cannot move the unreadable history aside: {move_error}")
            return False
        log.error("history: %s; moved it to %s and started a new one", exc, aside.name)
        self._notify("replaced", f"The history file could not be read ({exc}): it was moved to {aside.name} "
                                 "and a new history started")
        return self._open()

    def _write(self, batch: list[FeedEvent], *, stopping: bool) -> None:
        """Commit ``batch``, retrying with growing delays; give it up after the last retry."""
        if not batch:
            return
        attempt = 0
        delays = () if self._given_up else self._retry_delays
        replaced = False
        while True:
            if self._store is not None or self._open():
                try:
                    assert self._store is not None
                    self._store.add_many(batch)
                except Exception as exc:
                    if not replaced and self._replace_unreadable(exc):
                        replaced = True
                        continue
                    self._note_failure(f"cannot write to the history: {exc}")
                else:
                    self._note_success(len(batch))
                    return
            if attempt >= len(delays) or ((stopping or self._closed) and attempt >= 1):
                break
            self._wake.wait(delays[attempt])
            attempt += 1
        log.error("history: giving up on %d events after %d attempts: %s", len(batch), attempt + 1,
                  self._last_error)
        self._given_up = True
        with self._cond:
            self._dropped += len(batch)
            dropped = self._dropped
            self._cond.notify_all()
        self._notify("failing", f"History: {self._last_error}. {dropped:,} events are shown but not stored; "
                                "retrying")

    def _note_success(self, count: int) -> None:
        with self._cond:
            recovered = self._last_error is not None
            self._last_error = None
        self._given_up = False
        if recovered:  # logged before flush() can return, and not while holding the lock
            log.warning("history: writing works again")
            self._notify("recovered", "The history is being written again")
        with self._cond:
            self._written += count
            self._transactions += 1
            self._cond.notify_all()

    def _note_failure(self, message: str) -> None:
        with self._cond:
            first = self._last_error is None
            self._last_error = message
        if first:  # once per failure streak, not once per retry
            log.warning("history: %s; will retry", message)
            self._notify("failing", f"History: {message}. New events are shown but not stored; retrying")
        else:
            log.debug("history: %s", message)

    def _notify(self, kind: Literal["failing", "recovered", "replaced"], message: str) -> None:
        if self._on_notice is None:
            return
        try:
            self._on_notice(HistoryNotice(kind, message))
        except Exception:  # the listener's bug must not stop the writer
            log.exception("history: the notice listener failed")

    def _prune_step(self) -> bool:
        """Prune one chunk; True when there is more to delete (the loop comes back after the next batch)."""
        if self._store is None or (self.keep_days is None and self.keep_rows is None):
            return False
        try:
            deleted = self._store.prune(self.keep_days, self.keep_rows, self._clock(), max_rows=PRUNE_CHUNK_ROWS)
        except Exception as exc:
            log.warning("history: pruning old events failed: %s", exc)
            return False
        if deleted:
            log.info("history: pruned %d old events", deleted)
        return deleted >= PRUNE_CHUNK_ROWS

    def _fail_leftovers(self) -> None:
        """After the thread ends: whatever is still queued can never be written; count it and fail jobs."""
        lost = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, _Job):
                if item.future.set_running_or_notify_cancel():
                    item.future.set_exception(RuntimeError("the history is closed"))
            elif isinstance(item, list):
                lost += len(item)
        with self._cond:
            self._closed = True
            if lost:
                self._dropped += lost
        if lost:
            log.error("history: %d events were not written before the writer stopped", lost)


def _close_at_exit(ref: weakref.ref[HistoryWriter]) -> None:
    writer = ref()
    if writer is not None and not writer.closed:
        writer.close(5.0)
