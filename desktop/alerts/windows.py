"""Sliding windows by event time with bounded memory: per subject, the recent matching events.

Subjects live in an insertion-ordered dict and are moved to its end when touched, so the idle ones gather at the
front and :meth:`CountWindows.sweep` evicts them by walking from the front until it meets a recent one: the cost
is proportional to what is evicted, and a subject that has gone quiet costs nothing after the next sweep.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Callable
from typing import NamedTuple, TypeVar

__all__ = ["CountWindows", "Hit", "evict_idle"]

K = TypeVar("K")
V = TypeVar("V")


class Hit(NamedTuple):
    """One matching event, as much of it as an alert needs (strings, never None, so hits always compare)."""

    at: float
    log_id: str
    ip: str
    who: str


class CountWindows:
    """Says when ``count`` hits for one subject fall within ``window`` seconds of each other."""

    def __init__(self, window: float, count: int, lateness: float) -> None:
        self.window, self.count, self.lateness = window, count, lateness
        self._hits: dict[str, list[Hit]] = {}

    def __len__(self) -> int:
        return len(self._hits)

    def add(self, subject: str, hit: Hit, high: float) -> list[Hit] | None:
        """Add ``hit``; the hits of the first full window it belongs to (then the subject starts afresh)."""
        hits = self._hits.pop(subject, None)
        if hits is None:
            hits = [hit]
        else:
            cutoff = high - self.window - self.lateness
            if hits[0].at < cutoff:
                hits = [h for h in hits if h.at >= cutoff]
            insort(hits, hit)
        count = self.count
        if len(hits) >= count:
            i = hits.index(hit)
            for j in range(max(0, i - count + 1), min(i, len(hits) - count) + 1):
                if hits[j + count - 1].at - hits[j].at <= self.window:
                    end = bisect_right(hits, (hits[j].at + self.window, "\U0010ffff"))
                    return hits[j:end]
            if len(hits) > 4 * count:  # spread-out hits of a long, slow series: keep the newest
                hits = hits[-2 * count:]
        self._hits[subject] = hits
        return None

    def discard(self, subject: str) -> None:
        self._hits.pop(subject, None)

    def sweep(self, high: float) -> int:
        """Forget subjects whose newest hit can no longer share a window with an event still accepted."""
        cutoff = high - self.window - self.lateness
        return evict_idle(self._hits, lambda hits: hits[-1].at < cutoff)


def evict_idle(table: dict[K, V], idle: Callable[[V], bool]) -> int:
    """Delete entries from the front of an insertion-ordered ``table`` while ``idle(value)``; how many."""
    gone = []
    for key, value in table.items():
        if not idle(value):
            break
        gone.append(key)
    for key in gone:
        del table[key]
    return len(gone)
