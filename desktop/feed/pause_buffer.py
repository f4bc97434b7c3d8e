"""What the feed holds back while its list is paused: a pure core (no Qt), so Pause/Resume's promise, every
waiting event arrives in order, is the logic of one small class.

Bounded like the list itself: the oldest waiting events are dropped once more wait than the list could show,
since the list's cap would drop them on Resume anyway; :attr:`waiting` still counts every one (the "N new").
"""

from __future__ import annotations

from collections import deque

from desktop.feed.events import FeedEvent

__all__ = ["PauseBuffer"]


class PauseBuffer:
    """``paused`` says whether events wait; :meth:`hold` keeps them, :meth:`release` hands them back in order."""

    def __init__(self, max_rows: int) -> None:
        self.paused = False
        self._events: deque[FeedEvent] = deque(maxlen=max_rows)
        self.waiting = 0  #: events held since the pause (also those the cap dropped)

    def hold(self, batch: list[FeedEvent]) -> None:
        """Events that arrived while paused, oldest first."""
        self._events.extend(batch)
        self.waiting += len(batch)

    def replace(self, old: FeedEvent, new: FeedEvent) -> None:
        """A waiting row folded into a newer one (:mod:`.fold`): ``new`` takes its place in the queue."""
        self._events = deque((new if ev is old else ev for ev in self._events), maxlen=self._events.maxlen)

    def release(self) -> list[FeedEvent]:
        """Every event still held, in arrival order; the buffer is empty afterwards."""
        held = list(self._events)
        self.clear()
        return held

    def clear(self) -> None:
        self._events.clear()
        self.waiting = 0
