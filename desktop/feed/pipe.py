"""From the engine to the window: filter, normalise and persist on the engine thread, paint on the GUI's.

The GUI thread only receives ready ``FeedEvent`` lists, coalesced to at most one delivery every 100 ms,
so a burst of thousands of events a second costs the window a handful of model inserts.

Bounded, and nothing is lost (the product's rule for what was received): rows go to the history first, then
wait here for the GUI. The GUI takes them in slices of at most ``max_batch`` (a backlog is painted a slice
per turn of the event loop, never in one long freeze). When ``max_pending`` rows wait because the GUI
thread is stalled, the engine thread waits too (back-pressure) until the GUI has taken a slice: events
then queue up before the engine, as raw frames, instead of growing this list without end, and none is
dropped. ``close()`` ends the waiting for good (the connection is going away; what still comes is kept
here without a bound, and ``flush_now`` delivers it). Pause is the feed panel's: it still gets every row.

Caught-up events (:mod:`desktop.feed.catchup`) come in through :meth:`FeedPipe.on_caught_up`, on the catch-up
thread, and take the same path as a burst: de-duplicated by ``log_id`` against what was already listed
(``dedupe``, shared by every connection of the window), stored, then handed over in slices.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop.feed.catchup import SeenLogIds
from desktop.feed.events import LOG_EVENT_NAME, FeedEvent, normalise
from desktop.pusher.types import ChannelEvent

log = logging.getLogger("desktop.feed")

#: 100 ms keeps the feed lively and, under a burst, the GUI thread to ten model inserts a second.
COALESCE_MS = 100
#: Rows per hand-off to the GUI at most; a longer backlog follows at the next turn of the event loop.
MAX_BATCH = 5_000
#: Rows waiting for the GUI at most; beyond it the engine thread waits for the GUI to take a slice.
MAX_PENDING = 50_000


class FeedPipe(QObject):
    """Engine thread: ``on_batch(events)``. GUI thread: ``feed_events``.

    ``on_batch`` takes the feed channel's own events of each batch: the engine's Qt adapter
    (``desktop.pusher.qtbridge.PusherBridge``, the ``feed`` route) has routed the batch already, the feed
    channel's library events to its ``feed_status`` and the chat's and presence channels to their signals.
    """

    #: list[FeedEvent], arrival order, at most every COALESCE_MS
    feed_events = Signal(list)
    _wake = Signal()

    def __init__(self, feed_channel: str, persist: Callable[[Sequence[FeedEvent]], None] | None = None,
                 parent: QObject | None = None, *, max_pending: int = MAX_PENDING,
                 max_batch: int = MAX_BATCH, dedupe: SeenLogIds | None = None) -> None:
        super().__init__(parent)
        self._dedupe = dedupe
        if max_pending < 1 or max_batch < 1:
            raise ValueError("max_pending and max_batch must be at least 1")
        self.feed_channel = feed_channel
        self._persist = persist
        self._max_pending = max_pending
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)  # the GUI took rows, or the pipe is closing
        self._closed = False
        self._pending: list[FeedEvent] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self._flush)
        self._wake.connect(self._arm)

    def on_batch(self, events: list[ChannelEvent]) -> None:
        """The feed channel's events of one drained batch, on the engine thread (the bridge's ``feed`` route)."""
        channel = self.feed_channel
        self._take([normalise(event.event, channel, event.data, event.received_at) for event in events])

    def on_caught_up(self, payloads: Sequence[Mapping[str, Any]], received_at: float | None = None) -> int:
        """Events v2 from the server's ``/events`` (oldest first), on the catch-up thread; returns how many
        were new (not received live or caught up before). Nothing is taken once the pipe is closed: the
        next connection catches up again."""
        if self.closed:
            return 0
        now = time.time() if received_at is None else received_at
        return self._take([normalise(LOG_EVENT_NAME, self.feed_channel, data, now) for data in payloads])

    def _take(self, rows: list[FeedEvent]) -> int:
        if self._dedupe is not None:
            rows = self._dedupe.fresh(rows)
        if rows:
            if self._persist is not None:
                self._persist(rows)  # the writer's queue: non-blocking, and before anything can be lost
            self._hand_over(rows)
        return len(rows)

    def _hand_over(self, rows: list[FeedEvent]) -> None:
        """Queue ``rows`` for the GUI, waiting while ``max_pending`` rows already wait (see the module)."""
        start = 0
        while start < len(rows):
            with self._room:
                while len(self._pending) >= self._max_pending and not self._closed:
                    self._room.wait()
                room = len(rows) - start if self._closed else self._max_pending - len(self._pending)
                first = not self._pending
                self._pending.extend(rows[start:start + room])
                start += room
            if first:
                self._wake.emit()

    @property
    def pending_count(self) -> int:
        """Rows waiting for the GUI."""
        with self._lock:
            return len(self._pending)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """The connection is going away: the engine thread never waits here again (call before stopping it)."""
        with self._room:
            self._closed = True
            self._room.notify_all()

    @Slot()
    def _arm(self) -> None:
        if not self._timer.isActive():
            self._timer.start(COALESCE_MS)

    @Slot()
    def _flush(self) -> None:
        with self._room:
            rows = self._pending[:self._max_batch]
            del self._pending[:self._max_batch]
            more = bool(self._pending)
            self._room.notify_all()
        if more:
            self._timer.start(0)  # the rest after whatever else the event loop has to do
        if rows:
            self.feed_events.emit(rows)

    def flush_now(self) -> None:
        """Deliver everything that waits, now (in slices of ``max_batch``)."""
        self._timer.stop()
        left = self.pending_count  # what waits now: an engine still running cannot keep us here
        while left > 0:
            self._flush()
            left -= self._max_batch
        self._timer.stop()
        if self.pending_count:
            self._timer.start(COALESCE_MS)
