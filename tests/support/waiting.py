"""Wait for something another thread does, with a deadline: the tests' only way to wait.

Callbacks of the Pusher engine run on its own thread; a test records what they see and polls the record
here (every 10 ms) instead of sleeping a fixed time and hoping.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEFAULT_TIMEOUT = 30.0  # generous: only a test that fails waits this long, and CI machines are loaded
POLL_INTERVAL = 0.01


def wait_until(
    predicate: Callable[[], object],
    timeout: float = DEFAULT_TIMEOUT,
    *,
    message: str | Callable[[], str] = "",
    interval: float = POLL_INTERVAL,
) -> None:
    """Return as soon as ``predicate()`` is truthy; fail the test after ``timeout`` seconds.

    ``message`` (or a callable building it, evaluated only on failure) explains what did not happen.
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"not true within {timeout:g} s: {text or predicate}")
        time.sleep(interval)
