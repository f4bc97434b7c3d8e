"""A total deadline for blocking socket IO: a watchdog shuts the socket down when the time is up.

Socket timeouts bound each ``recv``, not a whole exchange: an answer dripped one byte a second never trips a 2 s
timeout. :func:`deadline` opens a window on the calling thread; every socket given to :func:`watch_socket` on
that thread while the window is open is shut down (``SHUT_RDWR``) by one watchdog thread when the deadline
passes, which wakes the blocked ``recv`` with an end of stream. The caller then asks :attr:`Deadline.expired`
to tell that from a peer that closed on its own.

A socket handed from one window to another (a pooled keep-alive connection reused by the next request)
belongs to the newer window only, so a late deadline never cuts someone else's request. Name resolution
(``getaddrinfo``) cannot be interrupted this way; it has its own resolver timeouts.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Deadline", "current", "deadline", "watch_socket"]


class Deadline:
    """One open window: when it ends (``time.monotonic()``) and whether the watchdog has cut it."""

    __slots__ = ("_sockets", "at", "done", "expired")

    def __init__(self, at: float) -> None:
        self.at = at
        self.expired = False
        self.done = False
        self._sockets: list[socket.socket] = []

    def remaining(self) -> float:
        return max(0.0, self.at - time.monotonic())


class _Watchdog:
    """One daemon thread for the whole process, sleeping until the earliest open deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._seq = itertools.count()
        self._owner: dict[int, Deadline] = {}  # id(socket) -> the window it belongs to now
        self._thread: threading.Thread | None = None

    def open(self, window: Deadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (window.at, next(self._seq), window))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="login-feed-deadline", daemon=True)
                self._thread.start()
            self._cond.notify()

    def close(self, window: Deadline) -> None:
        with self._cond:
            window.done = True
            for sock in window._sockets:
                if self._owner.get(id(sock)) is window:
                    del self._owner[id(sock)]
            window._sockets.clear()

    def watch(self, window: Deadline, sock: socket.socket) -> None:
        with self._cond:
            if window.done:
                return
            window._sockets.append(sock)
            self._owner[id(sock)] = window
            if window.expired:
                _shut(sock)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                at, _, window = self._heap[0]
                wait = at - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                if window.done:
                    continue
                window.expired = True
                for sock in window._sockets:
                    if self._owner.get(id(sock)) is window:
                        _shut(sock)


def _shut(sock: socket.socket) -> None:
    """Shut the connection down under any TLS layer (``SSLSocket.shutdown`` would drop its state first)."""
    with contextlib.suppress(OSError):  # already closed, or not connected yet (the connect timeout covers that)
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()
_current = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[Deadline]:
    """``with deadline(5) as d:`` sockets watched on this thread inside the block are cut after 5 s."""
    window = Deadline(time.monotonic() + seconds)
    outer = getattr(_current, "window", None)
    _current.window = window
    _WATCHDOG.open(window)
    try:
        yield window
    finally:
        _WATCHDOG.close(window)
        _current.window = outer


def current() -> Deadline | None:
    """The calling thread's open window, if any."""
    return getattr(_current, "window", None)


def watch_socket(sock: socket.socket) -> None:
    """Put ``sock`` under the calling thread's open deadline, if there is one (else nothing happens)."""
    window = getattr(_current, "window", None)
    if window is not None:
        _WATCHDOG.watch(window, sock)
