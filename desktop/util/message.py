"""Telling the person at the window something, from any part and any thread (qutebrowser's ``message``).

``message.error(text)``, ``message.warning(text)`` and ``message.info(text)`` may be called from any thread
(the history's writer, a keyring worker, the engine, a slot): they log the text and emit the one
:class:`MessageBridge`'s ``shown`` signal. The main window connects that signal to its status bar once
(``desktop.app``); Qt queues an emission from another thread to the GUI thread, so no part touches a widget
from the wrong thread and no part needs to know where messages are shown. Without a window (the command
line, a test that does not connect the bridge) a message still reaches the log.

What keeps the feed from being live is not a message but a state: the status bar's problem (and the red bar
above the feed) shows it for as long as it lasts (``ConnectionStatus.set_stopped``/``set_feed_problem``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import QObject, Signal

from desktop.util.tasks import gui_singleton

log = logging.getLogger("desktop.message")

Level = Literal["error", "warning", "info"]

#: How long a message stays in the status bar by default, by level (ms); 0 keeps it until the next one.
TIMEOUT_MS: dict[Level, int] = {"error": 30_000, "warning": 15_000, "info": 10_000}
_LOG_LEVEL = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO}


@dataclass(frozen=True)
class Message:
    """One thing to tell: its level, the sentence (plain text, for a person), and how long to show it."""

    level: Level
    text: str
    timeout_ms: int


class MessageBridge(QObject):
    """The one place messages pass through; lives on the GUI thread (see the module)."""

    #: :class:`Message`
    shown = Signal(object)


#: The bridge, created on first use and living on the application's (GUI) thread.
global_bridge = gui_singleton(MessageBridge)


def show(level: Level, text: str, *, timeout_ms: int | None = None, lasting: bool = False) -> None:
    """Tell ``text`` at ``level``: for ``timeout_ms`` (the level's default), or until the next message."""
    log.log(_LOG_LEVEL[level], "told the user: %s", text)
    timeout = 0 if lasting else TIMEOUT_MS[level] if timeout_ms is None else timeout_ms
    global_bridge().shown.emit(Message(level, text, timeout))


def error(text: str, *, timeout_ms: int | None = None, lasting: bool = False) -> None:
    """Something failed that the person should know about (their data, their sign-in, a bug)."""
    show("error", text, timeout_ms=timeout_ms, lasting=lasting)


def warning(text: str, *, timeout_ms: int | None = None, lasting: bool = False) -> None:
    """Something works less well than it should (e.g. the keyring: the sign-in lasts this session only)."""
    show("warning", text, timeout_ms=timeout_ms, lasting=lasting)


def info(text: str, *, timeout_ms: int | None = None, lasting: bool = False) -> None:
    """News: signed out, the history works again."""
    show("info", text, timeout_ms=timeout_ms, lasting=lasting)
