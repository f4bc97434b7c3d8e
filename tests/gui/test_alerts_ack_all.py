"""Acknowledge all: every alert listed is seen by the person signed in, as the single acknowledgement records it
(per person, kept in the settings file, re-opened by a later update); the button, the list's context menu and
Shift+Space (a shortcut of the panel only) do it, and the status-bar count follows."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence
from support.alert_events import breached, brute_force
from support.alert_timelines import T0

from desktop.alerts.model import AlertsModel
from desktop.alerts.panel import ACK_ALL_SHORTCUT, AlertsCountButton, AlertsPanel
from desktop.feed.events import FeedEvent, normalise

CHANNEL = "private-login-feed"


def feed_event(payload: dict) -> FeedEvent:
    return normalise("log-event", CHANNEL, payload, T0 + 600)


def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)


def three_alerts() -> tuple[list[dict], list[dict]]:
    """(alice's brute-force versions, the first version of each of three alerts)."""
    _, alice = brute_force("alice@example.com", failures=14)
    _, bob = brute_force("bob@example.com", failures=10, start=T0 + 100)
    _, carol = breached("carol@example.com", at=T0 + 50)
    return alice, [alice[0], bob[0], carol]


def opened(panel: AlertsPanel) -> list[bool]:
    return [bool(panel.model.index(row).data(AlertsModel.OpenRole)) for row in range(panel.model.rowCount())]


def make_panel(qtbot, tmp_path: Path, person: str = "auth0|alice") -> tuple[AlertsPanel, AlertsCountButton]:
    panel = AlertsPanel(settings(tmp_path), clock=lambda: T0 + 600)
    qtbot.addWidget(panel)
    button = AlertsCountButton(panel.model)
    qtbot.addWidget(button)
    panel.set_person(person)
    return panel, button


def test_the_shortcut_acknowledges_every_alert_and_the_count_follows(qtbot, tmp_path: Path) -> None:
    alice, first = three_alerts()
    panel, count = make_panel(qtbot, tmp_path)
    assert not panel.ack_all_button.isEnabled()  # nothing to acknowledge yet
    panel.add_events([feed_event(a) for a in first])
    assert panel.model.open_count == 3 and count.text() == "⚠ 3 alerts" and not count.isHidden()
    assert panel.ack_all_button.isEnabled() and panel.ack_all_button.accessibleName() == "Acknowledge all alerts"
    panel.resize(500, 400)
    with qtbot.waitActive(panel):  # a shortcut acts in the active window only
        panel.show()
        panel.activateWindow()
    panel.view.setFocus()
    panel.view.setCurrentIndex(panel.model.index(1))  # one selected: all of them are acknowledged all the same
    with qtbot.waitSignal(panel.model.open_count_changed) as changed:
        qtbot.keyClick(panel.view, Qt.Key.Key_Space, Qt.KeyboardModifier.ShiftModifier)
    assert changed.args == [0]
    assert opened(panel) == [False, False, False] and count.isHidden()
    assert not panel.ack_all_button.isEnabled() and not panel.ack_all_action.isEnabled()
    assert panel.model.rowCount() == 3  # acknowledged alerts stay listed, dimmed

    panel.add_events([feed_event(alice[1])])  # alice's attack goes on: her alert opens again, the others stay seen
    qtbot.waitUntil(lambda: count.text() == "⚠ 1 alert" and not count.isHidden())
    reopened = panel.model.row_of(alice[0]["log_id"])
    assert [row for row, is_open in enumerate(opened(panel)) if is_open] == [reopened]
    assert panel.ack_all_button.isEnabled()


def test_the_button_and_the_context_menu_acknowledge_per_person_kept_across_restarts(qtbot, tmp_path: Path) -> None:
    _, first = three_alerts()
    panel, count = make_panel(qtbot, tmp_path)
    panel.add_events([feed_event(a) for a in first])
    assert panel.ack_all_action in panel.view.actions()  # the list's context menu offers it
    assert panel.view.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    assert panel.ack_all_action.shortcut() == QKeySequence(ACK_ALL_SHORTCUT)
    qtbot.mouseClick(panel.ack_all_button, Qt.MouseButton.LeftButton)
    assert panel.model.open_count == 0 and count.isHidden()

    again, again_count = make_panel(qtbot, tmp_path)  # a restart: alice's acknowledgements are in the file
    again.add_events([feed_event(a) for a in first])
    assert again.model.open_count == 0 and again_count.isHidden()
    again.set_person("auth0|bob")  # bob has seen none of them
    assert again.model.open_count == 3 and again_count.text() == "⚠ 3 alerts"
    again.ack_all_action.trigger()  # the context menu's entry
    assert again.model.open_count == 0
    again.set_person("auth0|alice")
    assert again.model.open_count == 0


def test_the_shortcut_belongs_to_the_panel(qtbot, tmp_path: Path) -> None:
    """Shift+Space elsewhere (a widget beside the panel) acknowledges nothing: no alert is acknowledged unseen."""
    _, first = three_alerts()
    panel, _ = make_panel(qtbot, tmp_path)
    panel.add_events([feed_event(a) for a in first])
    other = AlertsPanel(None)  # any other focusable widget of the same kind, outside the panel
    qtbot.addWidget(other)
    with qtbot.waitActive(other):
        other.show()
        other.activateWindow()
    other.view.setFocus()
    qtbot.keyClick(other.view, Qt.Key.Key_Space, Qt.KeyboardModifier.ShiftModifier)
    assert panel.model.open_count == 3
