"""Background work for the window, and the way back to the GUI thread (Picard's ``run_task``/``to_main``).

The one way the window's parts get blocking work (keyring, HTTP, disk, a device flow) off the GUI thread:

- ``run_task(fn, on_done, on_error)`` runs ``fn`` on a daemon thread; ``on_done(result)`` or
  ``on_error(exc)`` then run on the GUI thread.
- ``to_main(fn, *args)`` runs ``fn(*args)`` on the GUI thread, called from any thread (a worker's progress,
  a listener that another thread calls, an engine future's callback).
- ``follow(future, on_done, on_error)`` is ``run_task`` for work another thread already does (the history
  writer's reads): nobody blocks on the future, its outcome is delivered like a task's.

Stale results are dropped, never delivered: pass ``owner`` (a QObject: dropped once it is deleted, e.g. the
window closed while the task ran) and/or ``current`` (called on the GUI thread before delivery: False drops
it, e.g. a connection generation that is no longer current). Both are checked on the GUI thread, where Qt
objects are deleted, so there is no race between the check and the call.

Delivery goes through one relay object living on the GUI thread, by a queued signal: always later, never
inside the caller's own stack.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal, Slot

log = logging.getLogger("desktop.tasks")

T = TypeVar("T")
Q = TypeVar("Q", bound=QObject)
Current = Callable[[], bool]


def gui_singleton(factory: Callable[[], Q]) -> Callable[[], Q]:
    """``get()`` for one ``factory()`` object, made on first use (from any thread) and moved to the
    application's GUI thread, so queued signals to it run there (the relay below, the message bridge)."""
    lock = threading.Lock()
    made: list[Q] = []

    def get() -> Q:
        with lock:
            if not made:
                obj = factory()
                app = QCoreApplication.instance()
                if app is not None and obj.thread() is not app.thread():
                    obj.moveToThread(app.thread())  # allowed: it is still on the thread that created it
                made.append(obj)
            return made[0]

    return get


class _Relay(QObject):
    call = Signal(object, object, object, object)  # (fn, args, owner, current)

    @Slot(object, object, object, object)
    def _deliver(self, fn: Callable[..., Any], args: tuple[Any, ...], owner: QObject | None,
                 current: Current | None) -> None:
        if owner is not None and not shiboken6.isValid(owner):
            log.debug("dropped a result for a deleted %s", type(owner).__name__)
            return
        if current is not None and not current():
            log.debug("dropped a stale result")
            return
        fn(*args)


def _make_relay() -> _Relay:
    relay = _Relay()
    relay.call.connect(relay._deliver, Qt.ConnectionType.QueuedConnection)
    return relay


_get_relay = gui_singleton(_make_relay)


def to_main(fn: Callable[..., Any], *args: Any, owner: QObject | None = None, current: Current | None = None) -> None:
    """Run ``fn(*args)`` on the GUI thread, later, unless it is stale by then (see the module)."""
    _get_relay().call.emit(fn, args, owner, current)


def run_task(fn: Callable[[], T], on_done: Callable[[T], Any],
             on_error: Callable[[BaseException], Any] | None = None, *, name: str = "task",
             owner: QObject | None = None, current: Current | None = None) -> threading.Thread:
    """Call ``fn()`` on a daemon thread; ``on_done(result)`` or ``on_error(exc)`` then run on the GUI thread
    (a failure without ``on_error`` is logged). Returns the thread (for tests and shutdown to join)."""
    _get_relay()  # created before the worker starts

    def work() -> None:
        try:
            value = fn()
        except Exception as exc:
            if on_error is None:
                log.exception("background %s failed", name)
            else:
                to_main(on_error, exc, owner=owner, current=current)
            return
        to_main(on_done, value, owner=owner, current=current)

    thread = threading.Thread(target=work, name=f"login-feed-{name}", daemon=True)
    thread.start()
    return thread


def follow(future: Future[T], on_done: Callable[[T], Any], on_error: Callable[[BaseException], Any], *,
           timeout_ms: int, owner: QObject | None = None, current: Current | None = None) -> None:
    """Deliver ``future``'s outcome on the GUI thread; ``on_error(TimeoutError)`` when it has none after
    ``timeout_ms`` (call on the GUI thread; whichever comes first is delivered, once)."""
    settled = False

    def settle(done: Future[T] | None) -> None:
        nonlocal settled
        if settled:
            return
        settled = True
        if done is None:
            on_error(TimeoutError(f"no answer within {timeout_ms / 1000:g} s"))
        elif (exc := done.exception()) is not None:
            on_error(exc)
        else:
            on_done(done.result())

    future.add_done_callback(lambda done: to_main(settle, done, owner=owner, current=current))
    timer_owner = owner if owner is not None else _get_relay()
    QTimer.singleShot(timeout_ms, timer_owner, lambda: to_main(settle, None, owner=owner, current=current))
