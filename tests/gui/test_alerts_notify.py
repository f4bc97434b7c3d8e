"""Desktop notifications for alerts (issue 15): one per new alert, never per update, a summary for many at once,
none when switched off in Settings or for what the feed already told; a click on one shows its events."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow, QSystemTrayIcon
from support.alert_events import breached, brute_force
from support.alert_timelines import T0

from desktop.alerts.record import alert_record
from desktop.alerts.wiring import AlertsWiring, notifications_for
from desktop.chat.panel import ChatPanel
from desktop.config_schema import ChatConfig
from desktop.feed.events import normalise
from desktop.feed.panel import FeedPanel
from desktop.ui.main_window import MainWindow
from desktop.ui.status import ConnectionStatus

pytestmark = pytest.mark.qt_log_ignore("No such signal QPlatformNativeInterface::systemTrayWindowChanged")


class RecordingTray(QSystemTrayIcon):
    """Offscreen there is no tray to show a message on: what would be shown is kept instead."""

    def __init__(self, notes: list[tuple[str, str]], parent: QMainWindow) -> None:
        super().__init__(parent)
        self.notes = notes

    def showMessage(self, title: str, body: str, *args: object) -> None:  # type: ignore[override]
        self.notes.append((title, body))


def rows(*payloads: dict) -> list:
    return [normalise("log-event", "private-login-feed", p, T0 + 600) for p in payloads]


def build(qtbot, tmp_path: Path, monkeypatch) -> tuple[AlertsWiring, FeedPanel, list[tuple[str, str]], QSettings]:
    feed = FeedPanel(clock=lambda: T0 + 600)
    status = ConnectionStatus()
    prefs = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(feed, ChatPanel(ChatConfig()), status, prefs)
    qtbot.addWidget(window)
    notes: list[tuple[str, str]] = []
    tray = RecordingTray(notes, window)
    wiring = AlertsWiring(window, feed, status, prefs, tray=tray, beside=window.chat_dock)
    wiring.set_person("auth0|sam")
    return wiring, feed, notes, prefs


def test_one_notification_per_new_alert_and_a_click_shows_its_events(qtbot, tmp_path: Path, monkeypatch) -> None:
    wiring, feed, notes, _ = build(qtbot, tmp_path, monkeypatch)
    events, versions = brute_force(failures=14)
    feed.add_events(wiring.take(rows(*events)))
    for version in versions:
        feed.add_events(wiring.take(rows(version)))
    assert notes == [("Alert: Brute force on one account: alice@example.com", versions[0]["reason"])]
    (row,) = [ev for ev in feed.model.events() if ev.kind == "alert"]  # one row, replaced by each update
    assert row.data["updates"] == 2 and row.reason == versions[2]["reason"]
    wiring.show_last_notified()  # what a click on it does (the whole window: test_window_alerts)
    assert {ev.log_id for ev in feed.proxy.visible_events()} == set(versions[-1]["log_ids"])  # as it is now
    assert wiring.panel.current_record() is not None and wiring.panel.current_record().log_id == versions[0]["log_id"]


def test_markup_is_escaped_and_settings_turn_it_off(qtbot, tmp_path: Path, monkeypatch) -> None:
    wiring, _, notes, prefs = build(qtbot, tmp_path, monkeypatch)
    prefs.setValue("notifications/blocks", False)  # the feed does not tell the breached password: the alert does
    _, alert = breached("<img src=x>")
    wiring.take(rows(alert))
    assert notes == [("Alert: Breached password: &lt;img src=x&gt;",
                      "&lt;img src=x&gt; tried to log in with a password found in a data breach (from 198.51.100.7)"
                      " — Auth0 stopped it; ask them to reset their password")]
    prefs.setValue("notifications/alerts", False)
    wiring.take(rows(brute_force("bob@example.com")[1][0]))
    assert len(notes) == 1 and wiring.panel.model.rowCount() == 2


def test_many_new_alerts_at_once_are_one_summary() -> None:
    records = [alert_record(brute_force(f"user{n}@example.com", start=T0 + n)[1][0]) for n in range(5)]
    told = notifications_for([r for r in records if r is not None], blocks_told=True)
    assert [(title, record) for title, _, record in told] == [("5 new alerts", None)]
    assert told[0][1].startswith("Brute force on one account: user0@example.com; ")
    leak = alert_record(breached("carol@example.com")[1])
    assert leak is not None
    assert notifications_for([leak], blocks_told=True) == []  # the feed's own notification told it
    titles = [title for title, _, _ in notifications_for([leak], blocks_told=False)]
    assert titles == ["Alert: Breached password: carol@example.com"]
