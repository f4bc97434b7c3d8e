"""Alerts in the whole window (issue 15), through a real soketi: the panel gets each alert once and updates it,
the feed lists each alert once, one notification per new alert (escaped), the status-bar count opens the panel,
a click shows the events behind the alert, and after a restart the alerts and the acknowledgement are back
without notifying again."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSystemTrayIcon
from support.alert_events import breached, brute_force
from support.alert_timelines import T0
from support.soketi import Soketi
from support.window_app import FEED_CHANNEL, WAIT_MS, soketi_config, wait_connected

from desktop.app import LoginFeedApp

IMG = "<img src=x>"



def alert_notes(notes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [note for note in notes if note[0].startswith("Alert")]


def open_app(make_app, soketi: Soketi, tmp_path: Path, monkeypatch) -> tuple[LoginFeedApp, list[tuple[str, str]]]:
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    app = make_app(soketi_config(soketi, tmp_path), tmp_path / "data")
    assert app.tray is not None
    notes: list[tuple[str, str]] = []
    monkeypatch.setattr(app.tray, "showMessage", lambda title, body, *args: notes.append((title, body)))
    return app, notes


@pytest.mark.qt_log_ignore("No such signal QPlatformNativeInterface::systemTrayWindowChanged")
def test_alerts_reach_the_panel_the_feed_and_the_tray_once(qtbot, tmp_path: Path, soketi: Soketi, make_app,
                                                           monkeypatch) -> None:
    app, notes = open_app(make_app, soketi, tmp_path, monkeypatch)
    wait_connected(qtbot, app)
    assert app.alerts.count_button.isHidden() and app.alerts.panel.model.rowCount() == 0  # no alerts: no count
    events, versions = brute_force("alice@example.com", failures=14)
    leak, leak_alert = breached(IMG, at=T0 + 30)
    batch = [{"channel": FEED_CHANNEL, "name": "log-event", "data": p} for p in (*events, leak)]
    for start in range(0, len(batch), 10):
        soketi.trigger_batch(batch[start:start + 10])
    for payload in (versions[0], leak_alert, versions[1], versions[2]):  # an ongoing attack: the same log_id
        soketi.trigger(FEED_CHANNEL, "log-event", payload)

    model = app.alerts.panel.model
    qtbot.waitUntil(lambda: model.rowCount() == 2 and model.record_at(0).updates == 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: len(app.feed.model.events()) == 17, timeout=WAIT_MS)  # 15 events, 2 alerts once each
    (row,) = [ev for ev in app.feed.model.events() if ev.log_id == versions[0]["log_id"]]  # listed once,
    assert row.reason == versions[2]["reason"] and row.data["updates"] == 2  # as last told
    assert model.record_at(0).count == 13 and model.record_at(1).who == IMG
    # One notification per new alert; the breached password's was told by the feed (the pwd_leak event) already.
    assert alert_notes(notes) == [("Alert: Brute force on one account: alice@example.com",
                                   html.escape(versions[0]["reason"]))]
    assert not app.alerts.dock.isVisible()
    app.alerts.open_last_notified()  # a click on the notification: the panel, and the events behind it
    assert app.alerts.dock.isVisible()
    assert {ev.log_id for ev in app.feed.proxy.visible_events()} == set(versions[2]["log_ids"])
    app.feed.show_all()
    assert ("Breached password", html.escape(f"Breached password on login: {IMG}")) in notes

    button = app.alerts.count_button
    assert button.isVisible() and button.text() == "⚠ 2 alerts"
    app.alerts.dock.hide()
    button.click()
    qtbot.waitUntil(app.alerts.dock.isVisible, timeout=WAIT_MS)
    view = app.alerts.panel.view
    qtbot.waitUntil(lambda: view.visualRect(model.index(0)).height() > 0, timeout=WAIT_MS)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(model.index(0)).center())
    assert {ev.log_id for ev in app.feed.proxy.visible_events()} == set(versions[2]["log_ids"])
    assert app.feed.focus_bar.isVisible()
    assert app.alerts.dock.windowTitle() == "Alerts (2 open)"
    qtbot.keyClick(view, Qt.Key.Key_Space)  # acknowledged by this person
    assert button.text() == "⚠ 1 alert" and app.alerts.dock.windowTitle() == "Alerts (1 open)"
    make_app.close(app)

    again, notes_again = open_app(make_app, soketi, tmp_path, monkeypatch)  # the history brings them back
    model = again.alerts.panel.model
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=WAIT_MS)
    wait_connected(qtbot, again)
    assert model.open_count == 1  # the acknowledgement is kept
    restored = model.record_at(model.row_of(versions[0]["log_id"]))  # as last told, not as first raised
    assert (restored.updates, restored.count) == (2, 13)
    assert alert_notes(notes_again) == []
