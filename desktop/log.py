"""Logging set-up: everything on stderr, so stdout stays machine-readable; the window's hooks into it.

``setup_logging`` is Qt-free on purpose (the command line). The window adds ``install_window_hooks``: Qt's
own warnings (``qWarning``, a failed ``connect``, a missing font) go to the ``qt`` logger instead of straight
to stderr, and an exception nothing caught (in a slot, a timer, a thread) is logged with its traceback and
told to the person through ``desktop.util.message`` instead of ending the app silently (PySide6 would
print it and carry on, or abort, depending on where it happened).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from types import TracebackType


def setup_logging(verbosity: int) -> None:
    """0: warnings and errors · 1 (-v): what the engine does · 2 (-vv): every detail."""
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # urllib3 logs whole URLs at DEBUG; ours never carry secrets, but keep third parties quieter anyway.
    logging.getLogger("urllib3").setLevel(max(level, logging.INFO))
    logging.getLogger("websocket").setLevel(max(level, logging.WARNING))


def status(message: str) -> None:
    """A line for the person at the terminal (not a log record), shown at every verbosity."""
    print(message, file=sys.stderr, flush=True)


_QT_LEVELS = {"QtDebugMsg": logging.DEBUG, "QtInfoMsg": logging.INFO, "QtWarningMsg": logging.WARNING,
              "QtCriticalMsg": logging.ERROR, "QtFatalMsg": logging.CRITICAL}


def qt_message_handler(mode: object, context: object, text: str) -> None:
    """Qt's messages as log records of the ``qt`` logger, at the matching level."""
    name = getattr(mode, "name", str(mode))
    logging.getLogger("qt").log(_QT_LEVELS.get(name, logging.WARNING), "%s", text)


def uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """``sys.excepthook`` for the window: log the traceback, tell the person, keep running."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    from desktop.util import message  # noqa: PLC0415 - Qt only when the window installs this hook

    logging.getLogger("desktop").error("uncaught exception", exc_info=(kind, exc, tb))
    text = " ".join(str(exc).split())[:200]
    message.error(f"Internal error ({kind.__name__}{': ' + text if text else ''}; details in the log). The app "
                  "keeps running; if something looks wrong, Reconnect or restart it.")


def _uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        uncaught(args.exc_type, args.exc_value, args.exc_traceback)


def install_window_hooks() -> Callable[[], None]:
    """Install the Qt message handler and the exception hooks (main and other threads); returns a function
    that puts back what was there before (for tests)."""
    from PySide6.QtCore import qInstallMessageHandler  # noqa: PLC0415 - log.py stays Qt-free otherwise

    previous_qt = qInstallMessageHandler(qt_message_handler)
    previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook
    sys.excepthook = uncaught
    threading.excepthook = _uncaught_in_thread

    def uninstall() -> None:
        qInstallMessageHandler(previous_qt)
        sys.excepthook, threading.excepthook = previous_hook, previous_thread_hook

    return uninstall
