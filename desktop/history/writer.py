"""Write history off the GUI thread: one thread owns the SQLite connection and commits in batches.

:meth:`HistoryWriter.submit` only puts the batch on a queue, so the GUI (or the engine) never waits on the
disk. The writer thread takes whatever is queued, up to ``max_batch`` events, and commits it in one
transaction, then starts the next as soon as that one ends.

What ``kill -9`` can lose, at most: what is queued and not yet committed (:attr:`WriterStats.pending`). A
commit is durable the moment it returns (WAL + ``synchronous=NORMAL``, see :mod:`.store`). While the process
gets its share of the CPU that is the last few milliseconds of events (``bench/history_writer.py``: 100,000+
events/s on the 2-core development machine, against a feed's 20,000/s bursts); on a machine too busy to run
it, the queue grows instead, and that is what a kill would lose. ``tests/integration/
test_history_durability.py`` checks the promise that does not depend on the machine: everything acknowledged
as committed (:attr:`WriterStats.written`) survives.

Failures (disk full, file locked, a corrupt file) are :mod:`.keeper`'s: retried, then given up (counted in
:attr:`WriterStats.dropped`, the events stay in the window), told to ``on_notice`` as a
:class:`HistoryNotice`; the queue cannot grow while the disk is broken. Retention: events that happened more
than ``keep_days`` ago (and all but the ``keep_rows`` newest), by event time as the feed orders them, not by
arrival (:mod:`.retention`), are pruned at start and every ``prune_interval`` seconds, a chunk at a time between
batches.
"""

from __future__ import annotations

import atexit
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
from typing import TypeVar

from desktop.feed.events import FeedEvent
from desktop.history.files import open_store
from desktop.history.jobs import STOP, Job, Stop, drain
from desktop.history.keeper import HistoryNotice, StoreKeeper
from desktop.history.store import HistoryStore

__all__ = ["DEFAULT_KEEP_DAYS", "DEFAULT_MAX_BATCH", "RETRY_DELAYS", "HistoryNotice", "HistoryWriter", "WriterStats"]

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
        self.keep_days = keep_days
        self.keep_rows = keep_rows
        self._prune_interval = prune_interval
        self._max_batch = max(1, max_batch)
        self._clock = clock
        self._queue: queue.SimpleQueue[list[FeedEvent] | Job | Stop] = queue.SimpleQueue()
        self._cond = threading.Condition()
        # Counters, guarded by _cond. submitted == written + dropped + pending, always.
        self._submitted = 0
        self._written = 0
        self._dropped = 0
        self._peak_pending = 0
        self._transactions = 0
        self._closed = False
        self._wake = threading.Event()  # cuts a retry delay short when closing
        # ``on_notice`` is called on the writer thread: hand the notice to your own thread, quickly.
        self._keeper = StoreKeeper(store_factory, path=path, retry_delays=retry_delays, wake=self._wake,
                                   closing=lambda: self._closed, on_written=self._count_written,
                                   on_dropped=self._count_dropped, on_notice=on_notice)
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
            self._queue.put(Job(function, future))  # type: ignore[arg-type]
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
                last_error=self._keeper.last_error,
            )

    def close(self, timeout: float | None = 10.0) -> bool:
        """Write what is queued, close the database and stop the thread; True when all that happened within
        ``timeout``. Idempotent. From the writer thread itself it only asks the thread to stop (no join)."""
        with self._cond:
            if not self._closed:
                self._closed = True
                self._queue.put(STOP)
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
            keeper = self._keeper
            while not stopping:
                if keeper.store is None:
                    keeper.open()
                if keeper.store is None:
                    item = self._queue.get()  # nothing can be written: wait for work, then try to open again
                else:
                    if time.monotonic() >= next_prune:
                        next_prune = time.monotonic() + (0 if self._prune_step() else self._prune_interval)
                    try:
                        item = self._queue.get(timeout=max(0.0, next_prune - time.monotonic()))
                    except queue.Empty:
                        continue
                if keeper.given_up and not self._closed and keeper.retry_delays:
                    self._wake.wait(keeper.retry_delays[-1])  # failing: probe at this pace, with all that came
                stopping = self._handle(item)
        except BaseException:  # a bug: say so, and let flush()/close() see the thread is gone
            log.exception("history: the writer stopped unexpectedly")
        finally:
            self._keeper.close()
            self._fail_leftovers()
            with self._cond:
                self._cond.notify_all()

    def _handle(self, item: list[FeedEvent] | Job | Stop) -> bool:
        """Write ``item`` and whatever else is queued (up to ``max_batch`` events) in one transaction; run
        jobs in queue order. True when the stop marker was reached."""
        batch: list[FeedEvent] = []
        stopping = False
        while True:
            if isinstance(item, Stop):
                stopping = True
                break
            if isinstance(item, Job):
                self._keeper.write(batch, stopping=False)  # what was queued before the job is visible to it
                batch = []
                item.run(self._keeper.run)
            else:
                batch.extend(item)
            if len(batch) >= self._max_batch and not self._keeper.given_up:
                break
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
        self._keeper.write(batch, stopping=stopping)
        return stopping

    def _count_written(self, count: int) -> None:
        with self._cond:
            self._written += count
            self._transactions += 1
            self._cond.notify_all()

    def _count_dropped(self, count: int) -> int:
        with self._cond:
            self._dropped += count
            self._cond.notify_all()
            return self._dropped

    def _prune_step(self) -> bool:
        """Prune one chunk; True when there is more to delete (the loop comes back after the next batch)."""
        if self.keep_days is None and self.keep_rows is None:
            return False
        return self._keeper.prune_step(self.keep_days, self.keep_rows, self._clock())

    def _fail_leftovers(self) -> None:
        """After the thread ends: whatever is still queued can never be written; count it and fail jobs."""
        lost = drain(self._queue)
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
