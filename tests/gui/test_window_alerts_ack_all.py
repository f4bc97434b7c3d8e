"""Acknowledge all in the whole window, with alerts arriving through a real soketi: Shift+Space in the Alerts
dock acknowledges every alert listed, the status bar's "⚠ N alerts" and the dock's title follow, a later update
opens its alert again, the shortcut is no other action's, and pressed in the feed it acknowledges nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from support.alert_events import breached, brute_force
from support.alert_timelines import T0
from support.soketi import Soketi
from support.window_app import FEED_CHANNEL, WAIT_MS, soketi_config, wait_connected

from desktop.alerts.panel import ACK_ALL_SHORTCUT


def test_shift_space_in_the_dock_acknowledges_every_alert_and_the_status_bar_follows(
        qtbot, tmp_path: Path, soketi: Soketi, make_app) -> None:
    app = make_app(soketi_config(soketi, tmp_path), tmp_path / "data")
    wait_connected(qtbot, app)
    _, alice = brute_force("alice@example.com", failures=14)
    _, bob = brute_force("bob@example.com", failures=10, start=T0 + 100)
    _, carol = breached("carol@example.com", at=T0 + 50)
    for payload in (alice[0], bob[0], carol):
        soketi.trigger(FEED_CHANNEL, "log-event", payload)
    model, button, dock = app.alerts.panel.model, app.alerts.count_button, app.alerts.dock
    qtbot.waitUntil(lambda: model.rowCount() == 3 and button.text() == "⚠ 3 alerts", timeout=WAIT_MS)

    shortcuts = [a.shortcut() for a in app.window.findChildren(QAction) if not a.shortcut().isEmpty()]
    assert shortcuts.count(QKeySequence(ACK_ALL_SHORTCUT)) == 1, [s.toString() for s in shortcuts]

    with qtbot.waitActive(app.window):
        app.window.activateWindow()
    button.click()  # the status-bar count opens the dock, the list focused
    qtbot.waitUntil(lambda: dock.isVisible() and app.alerts.panel.view.hasFocus(), timeout=WAIT_MS)
    assert dock.windowTitle() == "Alerts (3 open)"
    view = app.alerts.panel.view  # opened beside the chat, the dock makes room for three alerts, not one
    qtbot.waitUntil(lambda: view.visualRect(model.index(2)).bottom() < view.viewport().height(), timeout=WAIT_MS)
    app.feed.view.setFocus()  # in the feed, Shift+Space is not the panel's
    qtbot.waitUntil(app.feed.view.hasFocus, timeout=WAIT_MS)
    qtbot.keyClick(app.feed.view, Qt.Key.Key_Space, Qt.KeyboardModifier.ShiftModifier)
    assert model.open_count == 3
    app.alerts.panel.view.setFocus()
    qtbot.waitUntil(app.alerts.panel.view.hasFocus, timeout=WAIT_MS)
    with qtbot.waitSignal(model.open_count_changed, timeout=WAIT_MS):
        qtbot.keyClick(app.alerts.panel.view, Qt.Key.Key_Space, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: button.isHidden() and dock.windowTitle() == "Alerts", timeout=WAIT_MS)
    assert model.open_count == 0 and model.rowCount() == 3

    soketi.trigger(FEED_CHANNEL, "log-event", alice[1])  # alice's attack goes on: her alert opens again
    qtbot.waitUntil(lambda: button.text() == "⚠ 1 alert" and button.isVisible(), timeout=WAIT_MS)
    assert dock.windowTitle() == "Alerts (1 open)"
