"""Run blocking work (keyring, HTTP, disk) off the GUI thread and get the result back on it.

``run_in_background(fn, on_done, on_error)`` runs ``fn`` on a worker thread; the callbacks run on the GUI
thread through a queued signal, because the relay object lives there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger("desktop.ui")


class _Relay(QObject):
    done = Signal(object, object)  # (callback, value)

    @Slot(object, object)
    def _deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        callback(value)


_relay: _Relay | None = None


def _get_relay() -> _Relay:
    global _relay
    if _relay is None:
        _relay = _Relay()
        _relay.done.connect(_relay._deliver)
    return _relay


def gui_caller() -> Callable[[Callable[[Any], None], Any], None]:
    """Call on the GUI thread; returns ``post(callback, value)``, which any thread may call to have
    ``callback(value)`` run on the GUI thread (for listeners that other threads call, e.g. the history's)."""
    return _get_relay().done.emit


def run_in_background(fn: Callable[[], Any], on_done: Callable[[Any], None],
                      on_error: Callable[[BaseException], None] | None = None, *, name: str = "task") -> None:
    """Call ``fn()`` on a daemon thread; ``on_done(result)`` or ``on_error(exc)`` then run on the GUI thread."""
    relay = _get_relay()  # created on the GUI thread, before the worker starts

    def work() -> None:
        try:
            value = fn()
        except Exception as exc:
            if on_error is None:
                log.exception("background %s failed", name)
            else:
                relay.done.emit(on_error, exc)
            return
        relay.done.emit(on_done, value)

    threading.Thread(target=work, name=f"login-feed-{name}", daemon=True).start()
