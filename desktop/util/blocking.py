"""Run a call that may hang (a keyring waiting on D-Bus or an unlock prompt) with a deadline.

The call runs on a daemon thread; if it has not answered in time we stop waiting and raise
``TimeoutError``. The thread may linger until the backend gives up, but nobody waits on it, and it
never blocks shutdown (daemon).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def call_with_timeout(fn: Callable[[], T], timeout: float, what: str) -> T:
    """Return ``fn()``, re-raise its exception, or raise ``TimeoutError`` naming ``what`` after ``timeout`` s."""
    done = threading.Event()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"login-feed-{what.replace(' ', '-')}", daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError(f"{what} did not answer within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
