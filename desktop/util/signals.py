"""The one way the commands and the window react to SIGINT and SIGTERM: a clean stop, not a traceback.

Every long-running part (the window, ``tail``, ``simulate``, ``login``, the server) ends the same way when asked:
it finishes what it holds (history flushed, requests in flight answered) and exits 0. Each one passes a
``handler(signal_name)`` that only *asks* for that stop (sets an event, posts to a queue or the Qt loop): Python
runs handlers between bytecodes on the main thread, where anything longer could interrupt the code it stops.
Handlers are installed only on the main thread (elsewhere, e.g. in tests, Python refuses and nothing changes)
and the previous ones come back when the block ends.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import Any

__all__ = ["STOP_SIGNALS", "install_stop_handler", "keep_python_awake", "stop_signals"]

STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)


def install_stop_handler(handler: Callable[[str], None],
                         signals: Sequence[signal.Signals] = STOP_SIGNALS) -> Callable[[], None]:
    """Call ``handler(name)`` (``"SIGINT"``, ``"SIGTERM"``) on each of ``signals``; returns ``restore()``."""

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        handler(signal.Signals(signum).name)

    previous: dict[signal.Signals, Any] = {}
    for sig in signals:
        with contextlib.suppress(ValueError):  # not the main thread: Python (and Qt) keep their own handling
            previous[sig] = signal.signal(sig, on_signal)

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


@contextlib.contextmanager
def stop_signals(handler: Callable[[str], None], signals: Sequence[signal.Signals] = STOP_SIGNALS) -> Iterator[None]:
    """``with stop_signals(handler):`` :func:`install_stop_handler` for the block only."""
    restore = install_stop_handler(handler, signals)
    try:
        yield
    finally:
        restore()


def keep_python_awake(parent: Any, interval_ms: int = 250) -> None:
    """While Qt's event loop runs, Python code runs only when Qt calls it, so a signal's handler would wait for
    the next event: a timer on ``parent`` (a QObject) lets Python in every ``interval_ms``."""
    from PySide6.QtCore import QTimer  # noqa: PLC0415 - Qt only for the callers that run its loop

    wake = QTimer(parent)
    wake.timeout.connect(lambda: None)
    wake.start(interval_ms)
