"""One user's story: their recent events in a time-ordered list with the feed's colours, so "seven wrong passwords,
then blocked, then a reset" reads at once. Opened by a double-click or Enter on a row (or the detail pane's button).

The events come from the server's ``GET /users/{id}/events`` (remote mode), fetched off the GUI thread through the
window's one task relay (:func:`desktop.util.tasks.run_task`); the dialog owns the task, so an answer that comes
after it closed is dropped. Where there is no server to ask (local mode), or while it answers, the rows the window
already lists for that user are shown, and the status line says which it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.feed.events import LOG_EVENT_NAME, FeedEvent, normalise
from desktop.feed.links import user_link
from desktop.feed.model import FeedModel, plain_line, who
from desktop.feed.view import FeedView
from desktop.util.tasks import run_task

__all__ = ["UserStoryDialog"]

Fetch = Callable[[], Sequence[Mapping[str, Any]]]


class UserStoryDialog(QDialog):
    """Non-modal; ``fetch`` (blocking, run on a worker) returns the server's events v2, or None for "no server"."""

    def __init__(self, ev: FeedEvent, known: Sequence[FeedEvent], fetch: Fetch | None, *, channel: str,
                 domain: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("userStory")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.user_id = ev.user_id or ""
        self._channel = channel
        name = plain_line(who(ev), 120)
        self.setWindowTitle(f"Recent events of {name}")
        self.title = QLabel(f"{name} — {plain_line(self.user_id, 200)}")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.status = QLabel()
        self.status.setObjectName("userStoryStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.model = FeedModel(parent=self)
        self.view = FeedView(max_rows=self.model.max_rows)
        self.view.setModel(self.model)
        self.view.setAccessibleName(f"Recent events of {name}")
        self.open_user = QPushButton("Open user in Auth0")
        self.open_user.setEnabled(bool(self.user_id))
        link = user_link(domain, self.user_id) if self.user_id else None
        self.open_user.clicked.connect(lambda: link and QDesktopServices.openUrl(QUrl(link)))
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)

        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.open_user)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self.resize(760, 520)

        mine = [row for row in known if row.user_id == self.user_id]
        self.model.add_events(list(reversed(mine)))  # known: newest first
        if fetch is None:
            self.status.setText(f"{len(mine):,} event(s) listed in this window. Local mode has no server to ask "
                                "for more.")
        else:
            self.status.setText("Asking the server for this user's recent events…")
            run_task(fetch, self._fetched, self._failed, name="user-events", owner=self)
        self.view.setFocus()

    def _fetched(self, payloads: Sequence[Mapping[str, Any]]) -> None:
        now = time.time()
        events = [normalise(LOG_EVENT_NAME, self._channel, data, now) for data in payloads]
        listed = {ev.log_id for ev in self.model.events() if ev.log_id}
        fresh = [ev for ev in events if ev.log_id not in listed]
        self.model.add_events(fresh)
        self.status.setText(f"{len(events):,} recent event(s) from the tenant log, newest on top.")
        if self.model.rowCount():
            self.view.setCurrentIndex(self.model.index(0, 0))

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"Could not ask the server: {exc}. Showing the events listed in this window.")

    def events(self) -> list[FeedEvent]:
        return self.model.events()
