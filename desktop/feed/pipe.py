"""From the engine to the window: filter, normalise and persist on the engine thread, paint on the GUI's.

The GUI thread only receives ready ``FeedEvent`` lists, coalesced to at most one delivery every 50 ms,
so a burst of thousands of events a second costs the window a handful of model inserts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop.feed.events import FeedEvent, normalise
from desktop.pusher.types import ChannelEvent

log = logging.getLogger("desktop.feed")

#: 100 ms keeps the feed lively and, under a burst, the GUI thread to ten model inserts a second.
COALESCE_MS = 100


class FeedPipe(QObject):
    """Engine thread: ``on_batch(events)``. GUI thread: ``feed_events(list[FeedEvent])``, ``other_events``."""

    #: list[FeedEvent], arrival order, at most every COALESCE_MS
    feed_events = Signal(list)
    #: list[ChannelEvent] that are not feed rows (chat, presence, library events), as they come
    other_events = Signal(list)
    _wake = Signal()

    def __init__(self, feed_channel: str, persist: Callable[[Sequence[FeedEvent]], None] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.feed_channel = feed_channel
        self._persist = persist
        self._lock = threading.Lock()
        self._pending: list[FeedEvent] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COALESCE_MS)
        self._timer.timeout.connect(self._flush)
        self._wake.connect(self._arm)

    def on_batch(self, events: list[ChannelEvent]) -> None:
        """Called by the engine on its thread for every drained batch."""
        channel = self.feed_channel
        rows: list[FeedEvent] = []
        others: list[ChannelEvent] = []
        for event in events:
            if event.channel == channel and not event.event.startswith("pusher:"):
                rows.append(normalise(event.event, channel, event.data, event.received_at))
            else:
                others.append(event)
        if rows:
            if self._persist is not None:
                self._persist(rows)  # the writer's queue: non-blocking, and before anything can be lost
            with self._lock:
                first = not self._pending
                self._pending.extend(rows)
            if first:
                self._wake.emit()
        if others:
            self.other_events.emit(others)

    @Slot()
    def _arm(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def _flush(self) -> None:
        with self._lock:
            rows, self._pending = self._pending, []
        if rows:
            self.feed_events.emit(rows)

    def flush_now(self) -> None:
        self._timer.stop()
        self._flush()
