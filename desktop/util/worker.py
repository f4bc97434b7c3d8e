"""The one background loop that other threads can nudge: a daemon thread running ``_run`` until :meth:`stop`.

:meth:`Worker.wake` (something was committed: look now) cuts the loop's ordinary wait (``self._wake.wait``)
short; :meth:`Worker._sleep` waits out a backoff that wake-ups must not shorten, but not a stop. The tenant log's
publisher and its alert follower are the two.
"""

from __future__ import annotations

import threading
import time

__all__ = ["Worker"]


class Worker:
    """Subclasses write ``_run`` as ``while not self._stopping: ...``, waiting with ``self._wake``."""

    def __init__(self, name: str) -> None:
        self._thread_name = name
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """Look soon (something was committed). Never blocks."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the loop to end and wait up to ``timeout`` for it (after what it is doing now)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError

    def _sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a backoff): a wake-up does not cut it short, a stop does."""
        deadline = time.monotonic() + seconds
        while not self._stopping and (left := deadline - time.monotonic()) > 0:
            self._wake.wait(left)
            self._wake.clear()
