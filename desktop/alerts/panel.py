"""The Alerts panel (a dock of the main window) and its count in the status bar.

Newest alert first; an ongoing attack is one row that updates. A click (or Enter) asks the window to show the
events behind the alert in the feed (``show_events``); Space or the button acknowledges it for the signed-in
person (dimmed, and open again when the alert is updated). "Acknowledge all" (its button, the list's context menu,
or Shift+Space anywhere in the panel: a shortcut of the panel, so it never acts on alerts out of sight) does the same
for every alert listed, after a night of them. The selected alert's whole explanation and figures are below the
list, as plain text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QItemSelection, QModelIndex, QObject, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QFontMetrics, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.alerts.delegate import AlertDelegate, figures
from desktop.alerts.episodes import more
from desktop.alerts.model import AlertsModel
from desktop.alerts.record import AlertRecord, records_of
from desktop.ui.text import plain

__all__ = ["ACK_ALL_SHORTCUT", "AlertsCountButton", "AlertsPanel"]

ACK_ALL_SHORTCUT = "Shift+Space"
"""Space acknowledges the selected alert; with Shift, all of them (no other shortcut of the window uses it)."""


class AlertsPanel(QWidget):
    """The list of alerts, what the selected one says, and its two actions."""

    #: AlertRecord: show the events behind it in the feed
    show_events = Signal(object)

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self.setObjectName("alertsPanel")
        self.model = AlertsModel(settings, self)
        self.view = QListView()
        self.view.setObjectName("alertsList")
        self.view.setAccessibleName("Alerts, newest first")
        self.view.setModel(self.model)
        self.view.setItemDelegate(AlertDelegate(self.view, clock=clock))
        self.view.setUniformItemSizes(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.installEventFilter(self)
        self.summary = plain(QLabel())
        self.summary.setObjectName("alertsSummary")
        self.empty = plain(QLabel("No alerts. Credential stuffing, brute force, impossible travel, blocks, breached "
                                  "passwords and signup bursts will be listed here as the server raises them."))
        self.empty.setWordWrap(True)
        self.detail = plain(QLabel())
        self.detail.setObjectName("alertsDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_button = QPushButton("Show &events")
        self.show_button.setObjectName("alertsShowEvents")
        self.show_button.setToolTip("Show the events behind this alert in the feed (Enter or a click)")
        self.ack_button = QPushButton("&Acknowledge")
        self.ack_button.setObjectName("alertsAcknowledge")
        self.ack_button.setToolTip("Mark this alert as seen by you (Space); an update opens it again")
        self.ack_all_action, self.ack_all_button = self._acknowledge_all_controls()
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_button)
        buttons.addWidget(self.ack_button)
        buttons.addWidget(self.ack_all_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.summary)
        layout.addWidget(self.empty)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)
        self.view.clicked.connect(self._show_row)
        self.view.activated.connect(self._show_row)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.show_button.clicked.connect(lambda: self._show_row(self.view.currentIndex()))
        self.ack_button.clicked.connect(self.acknowledge_current)
        self.model.open_count_changed.connect(self._update_summary)
        self.model.rowsInserted.connect(self._update_summary)
        self.model.dataChanged.connect(self._refresh_detail)
        self._update_summary()
        self._on_selection()

    def _acknowledge_all_controls(self) -> tuple[QAction, QPushButton]:
        """The action (the panel's shortcut, the list's context menu) and its button."""
        action = QAction("Acknowledge a&ll", self)
        action.setObjectName("alertsAcknowledgeAllAction")
        action.setShortcut(QKeySequence(ACK_ALL_SHORTCUT))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setToolTip(f"Mark every alert listed as seen by you ({ACK_ALL_SHORTCUT}); an update opens an "
                          "alert again")
        action.triggered.connect(self.acknowledge_all)
        self.addAction(action)  # the shortcut works wherever the focus is in the panel
        self.view.addAction(action)  # and the list's context menu offers it
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        button = QPushButton(action.text())
        button.setObjectName("alertsAcknowledgeAll")
        button.setAccessibleName("Acknowledge all alerts")
        button.setToolTip(action.toolTip())
        button.clicked.connect(action.trigger)
        enabled = self.model.open_count > 0  # nothing to acknowledge: greyed out (and the shortcut does nothing)
        action.setEnabled(enabled)
        button.setEnabled(enabled)
        self.model.open_count_changed.connect(self._update_ack_all)
        return action, button

    # -- input ------------------------------------------------------------------------------------------
    def add_events(self, events: Iterable[object]) -> list[AlertRecord]:
        """Take the alerts among feed events (live, caught up or restored); returns the ones new here."""
        records = records_of(events)
        return self.model.upsert(records) if records else []

    def set_person(self, person: str) -> None:
        self.model.set_person(person)

    # -- actions ----------------------------------------------------------------------------------------
    def current_record(self) -> AlertRecord | None:
        index = self.view.currentIndex()
        return self.model.record_at(index.row()) if index.isValid() else None

    def acknowledge_current(self) -> None:
        index = self.view.currentIndex()
        if index.isValid():
            self.model.acknowledge(index.row())

    def acknowledge_all(self) -> int:
        """Every alert listed is seen by the signed-in person, as it is now; how many were open."""
        return self.model.acknowledge_all()

    def select(self, log_id: str) -> None:
        row = self.model.row_of(log_id)
        if row is not None:
            self.view.setCurrentIndex(self.model.index(row))

    def _show_row(self, index: QModelIndex) -> None:
        if index.isValid():
            self.show_events.emit(self.model.record_at(index.row()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.view and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Space and not event.modifiers()):
            self.acknowledge_current()
            return True
        return super().eventFilter(watched, event)

    # -- display ----------------------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        """Tall enough for three alerts and the selected one's explanation: the dock shares its side with the
        chat, and the main window splits that height by the docks' hints (the list's own hint gave one row)."""
        hint = super().sizeHint()
        line = QFontMetrics(self.font()).height()
        rows = 3 * (line * 3 + line // 2 * 2 + 4)  # the delegate's row height
        return QSize(hint.width(), max(hint.height(), rows + 8 * line))

    def _update_summary(self, *_args: object) -> None:
        total, open_ = self.model.rowCount(), self.model.open_count
        self.summary.setText(f"{open_} open of {total} alert{'s' if total != 1 else ''}" if total else "")
        self.summary.setVisible(bool(total))
        self.empty.setVisible(not total)

    def _update_ack_all(self, count: int) -> None:
        self.ack_all_action.setEnabled(count > 0)
        self.ack_all_button.setEnabled(count > 0)

    def _on_selection(self, *_args: QItemSelection) -> None:
        self._refresh_detail()

    def _refresh_detail(self, *_args: object) -> None:
        record = self.current_record()
        self.show_button.setEnabled(record is not None and bool(record.log_ids))
        self.ack_button.setEnabled(record is not None)
        if record is None:
            self.detail.setText("")
            self.detail.hide()
            return
        lines = [record.title, record.reason, figures(record)]
        if len(record.users) > 1:
            lines.append("Accounts: " + _some(record.users))
        if len(record.ips) > 3:
            lines.append("IPs: " + _some(record.ips))
        self.detail.setText("\n".join(line for line in lines if line))
        self.detail.show()


def _some(items: tuple[str, ...], shown: int = 4) -> str:
    return ", ".join(items[:shown]) + more(items, shown)


class AlertsCountButton(QPushButton):
    """``3 alerts`` in the status bar while any is open; a click opens the panel (``clicked``)."""

    def __init__(self, model: AlertsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusAlertsButton")
        self.setFlat(True)
        self.setToolTip("Open alerts: show the Alerts panel")
        self._model = model
        model.open_count_changed.connect(self._update)
        self._update(model.open_count)

    def _update(self, count: int) -> None:
        self.setText(f"⚠ {count} alert{'s' if count != 1 else ''}")
        self.setAccessibleName(self.text().lstrip("⚠ "))
        self.setVisible(count > 0)
