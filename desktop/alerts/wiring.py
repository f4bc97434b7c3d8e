"""The Alerts panel in the window: a dock beside the chat, a count in the status bar, a notification per new
alert, and the way from an alert (or its notification) to the events behind it in the feed.

The window's feed rows (live, caught up, restored from the history) pass through :meth:`AlertsWiring.take`
first: alerts go to the panel; an alert's later versions (same ``log_id``, more ``updates``) update the panel's
row and stay out of the feed, which lists each alert once. ``desktop.app`` calls this; nothing else does.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QStatusBar, QSystemTrayIcon

from desktop.alerts.panel import AlertsCountButton, AlertsPanel
from desktop.alerts.record import AlertRecord, is_open, notification
from desktop.feed.events import FeedEvent
from desktop.feed.panel import FeedPanel

__all__ = ["MAX_NOTIFIED", "AlertsWiring", "notifications_for"]

MAX_NOTIFIED = 3
"""New alerts in one delivery told one by one at most; more (a catch-up after a night offline) in one summary."""
LISTED_KEPT = 2_000
"""Alerts whose feed row is remembered, to replace it with their updates (the feed keeps 5,000 rows of all kinds)."""
TOLD_BY_THE_FEED = frozenset({"account_blocked", "ip_blocked", "breached_password"})
"""Rules whose one triggering event the feed already notifies (the Settings' blocks switch): told once."""


def notifications_for(new: Sequence[AlertRecord], *, blocks_told: bool) -> list[tuple[str, str, AlertRecord | None]]:
    """``(title, body, the alert)`` for the new alerts worth a notification, plain text (escaped when shown);
    the alert is None for a summary of many."""
    told = [r for r in new if not (blocks_told and r.rule in TOLD_BY_THE_FEED)]
    if len(told) > MAX_NOTIFIED:
        names = "; ".join(r.title for r in told[:5]) + ("…" if len(told) > 5 else "")
        return [(f"{len(told)} new alerts", names, None)]
    return [(*notification(r), r) for r in told]


class AlertsWiring(QObject):
    """Builds the panel, its dock and its status-bar count; routes alerts in and the person's clicks out."""

    def __init__(self, window: QMainWindow, feed: FeedPanel, status: QStatusBar, prefs: QSettings, *,
                 tray: QSystemTrayIcon | None, beside: QDockWidget | None = None) -> None:
        super().__init__(window)
        self._window, self._feed, self._prefs, self._tray = window, feed, prefs, tray
        self._beside, self._roomy = beside, False
        self.panel = AlertsPanel(prefs)
        self.dock = QDockWidget("Alerts", window)
        self.dock.setObjectName("alertsDock")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                              | QDockWidget.DockWidgetFeature.DockWidgetMovable)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        if beside is not None:  # above the chat, not tabbed with it: both stay in sight (and the chat's unread
            window.splitDockWidget(self.dock, beside, Qt.Orientation.Vertical)  # count keeps meaning "hidden")
        self.dock.hide()  # until asked for (the status-bar count, View > Alerts, a notification); then remembered
        action = self.dock.toggleViewAction()
        action.setShortcut(QKeySequence("Ctrl+Shift+A"))
        action.triggered.connect(lambda checked: checked and self._make_room())
        menu = getattr(window, "view_menu", None)
        if menu is not None:
            menu.addAction(action)
        self.count_button = AlertsCountButton(self.panel.model)
        status.addPermanentWidget(self.count_button)
        self.count_button.clicked.connect(self.show_panel)
        self.panel.show_events.connect(self.show_events)
        self.panel.model.open_count_changed.connect(self._retitle)
        self._last_told: AlertRecord | None = None
        self._listed: dict[str, FeedEvent] = {}  # log_id -> the feed's row of that alert
        if tray is not None:
            tray.messageClicked.connect(self.open_last_notified)

    # -- in ---------------------------------------------------------------------------------------------
    def take(self, rows: Sequence[FeedEvent], *, notify: bool = True) -> list[FeedEvent]:
        """Give the panel the alerts among ``rows``; returns the rows for the feed (without alert updates).
        ``notify``: tell the new ones on the desktop (not for what the history restores)."""
        if not any(ev.kind == "alert" for ev in rows):
            return list(rows)
        new = self.panel.add_events(rows)
        last = {ev.log_id: i for i, ev in enumerate(rows) if ev.kind == "alert"}  # each alert's latest version
        new_ids = {r.log_id for r in new}
        kept = [ev for i, ev in enumerate(rows)
                if ev.kind != "alert" or (ev.log_id in new_ids and last[ev.log_id] == i)]
        for log_id, i in last.items():
            self._relist(rows[i], new=log_id in new_ids)
        if notify:
            self._notify(new)
        return kept

    def _relist(self, event: FeedEvent, *, new: bool) -> None:
        """Remember the feed's row of each alert; an update the panel took also replaces that row in place."""
        log_id = event.log_id
        listed = self._listed.get(log_id) if log_id is not None else None
        if log_id is None or (not new and listed is None):
            return
        if not new:
            row = self.panel.model.row_of(log_id)
            data = event.data if isinstance(event.data, dict) else {}
            if row is None or self.panel.model.record_at(row).updates != data.get("updates"):
                return  # an older version than the panel's
            if listed is not None and not self._feed.model.replace_event(listed, event):
                return  # no longer listed (trimmed, or waiting while the feed is paused)
        self._listed[log_id] = event
        if len(self._listed) > LISTED_KEPT:
            del self._listed[next(iter(self._listed))]

    def set_person(self, person: str) -> None:
        """Whose acknowledgements the panel shows (the signed-in user, or the local identity)."""
        self.panel.set_person(person)

    # -- out --------------------------------------------------------------------------------------------
    def show_panel(self) -> None:
        opening = self.dock.isHidden()
        self.dock.show()
        self.dock.raise_()
        if opening:
            self._make_room()
        self.panel.view.setFocus()

    def _make_room(self) -> None:
        """The first opening in a session makes the dock at least as tall as the panel asks (three alerts and
        the selected one's explanation): split with the chat by the two docks' hints, it showed one alert. Once
        laid out (its height is known then); a dock the person made taller stays so."""
        if self._roomy or self._beside is None or not self._beside.isVisible():
            return
        self._roomy = True
        QTimer.singleShot(0, self, self._grow)

    def _grow(self) -> None:
        wanted = self.panel.sizeHint().height()
        if self.dock.isVisible() and self.dock.height() < wanted:
            self._window.resizeDocks([self.dock], [wanted], Qt.Orientation.Vertical)

    def show_events(self, record: AlertRecord) -> None:
        """The feed shows only the events behind ``record``."""
        self._feed.show_only(record.log_ids, record.title, record.log_ids_count)

    def _notify(self, new: list[AlertRecord]) -> None:
        tray = self._tray
        if tray is None or not new or not self._prefs.value("notifications/alerts", True, type=bool):
            return
        unseen = [r for r in new if is_open(r, self.panel.model.acks.seen)]
        told = notifications_for(unseen, blocks_told=self._prefs.value("notifications/blocks", True, type=bool))
        for title, body, record in told:
            # Notification servers may read the body as markup: escaped, a hostile name is shown as typed.
            tray.showMessage(html.escape(title), html.escape(body), QSystemTrayIcon.MessageIcon.Warning, 10_000)
            self._last_told = record  # what a click on the notification on screen opens

    def open_last_notified(self) -> None:
        """One click from the notification to the events behind the alert (or to the panel, for a summary)."""
        self._window.showNormal()
        self._window.activateWindow()
        self.show_last_notified()

    def show_last_notified(self) -> None:
        """The panel, with the alert last notified selected and its events in the feed."""
        self.show_panel()
        told = self._last_told
        row = None if told is None else self.panel.model.row_of(told.log_id)
        if row is not None:  # as it is now: the attack may have gone on since the notification
            self.panel.select(self.panel.model.record_at(row).log_id)
            self.show_events(self.panel.model.record_at(row))

    def _retitle(self, count: int) -> None:
        self.dock.setWindowTitle(f"Alerts ({count} open)" if count else "Alerts")
