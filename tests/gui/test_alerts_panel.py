"""The Alerts panel (issue 15): one row per alert that updates in place, newest first, plain text, severity,
acknowledgement per person kept across restarts and re-opened by an update, the status-bar count."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QPalette
from support.alert_events import breached, brute_force
from support.alert_timelines import T0
from support.contrast import contrast

from desktop.alerts.delegate import severity_colors
from desktop.alerts.model import AlertsModel
from desktop.alerts.panel import AlertsCountButton, AlertsPanel
from desktop.alerts.record import SEVERITIES, alert_record
from desktop.feed.events import FeedEvent, normalise

CHANNEL = "private-login-feed"


def feed_event(payload: dict) -> FeedEvent:
    return normalise("log-event", CHANNEL, payload, T0 + 600)


def titles(panel: AlertsPanel) -> list[str]:
    return [panel.model.record_at(row).title for row in range(panel.model.rowCount())]


def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)


def test_an_update_replaces_the_row_in_place(qtbot, tmp_path: Path) -> None:
    _, alerts = brute_force(failures=14)
    assert [a["updates"] for a in alerts] == [0, 1, 2] and len({a["log_id"] for a in alerts}) == 1
    panel = AlertsPanel(settings(tmp_path), clock=lambda: T0 + 600)
    qtbot.addWidget(panel)
    assert len(panel.add_events([feed_event(alerts[0])])) == 1
    assert panel.add_events([feed_event(alerts[1])]) == []  # an update: not new
    assert panel.model.rowCount() == 1
    record = panel.model.record_at(0)
    assert (record.updates, record.count, len(record.log_ids)) == (1, 11, 11)
    panel.add_events([feed_event(alerts[2]), feed_event(alerts[0])])  # an older version after: ignored
    assert panel.model.rowCount() == 1 and panel.model.record_at(0).updates == 2


def test_newest_first_by_last_at(qtbot, tmp_path: Path) -> None:
    _, bob = brute_force("bob@example.com", failures=10, start=T0 + 100)
    _, carol = breached("carol@example.com", at=T0 + 50)
    _, alice = brute_force("alice@example.com", failures=14)  # its last update (T0 + 480) is the newest
    panel = AlertsPanel(settings(tmp_path), clock=lambda: T0 + 600)
    qtbot.addWidget(panel)
    panel.add_events([feed_event(a) for a in (alice[0], bob[0], carol)])
    assert [t.split(": ")[1] for t in titles(panel)] == ["bob@example.com", "carol@example.com", "alice@example.com"]
    panel.add_events([feed_event(alice[2])])
    assert [t.split(": ")[1] for t in titles(panel)] == ["alice@example.com", "bob@example.com", "carol@example.com"]


def test_remote_text_is_plain(qtbot, tmp_path: Path) -> None:
    _, alert = breached("<img src=x>")
    panel = AlertsPanel(settings(tmp_path), clock=lambda: T0 + 600)
    qtbot.addWidget(panel)
    panel.add_events([feed_event(alert)])
    panel.view.setCurrentIndex(panel.model.index(0))
    assert panel.detail.textFormat() == Qt.TextFormat.PlainText
    assert "<img src=x> tried to log in" in panel.detail.text()
    assert panel.model.record_at(0).severity == "medium"
    panel.resize(500, 400)
    panel.show()
    qtbot.waitExposed(panel)
    panel.grab()  # the delegate paints the row (drawText) without error


def test_acknowledgement_is_per_person_kept_and_reopened_by_an_update(qtbot, tmp_path: Path) -> None:
    _, alerts = brute_force(failures=14)
    panel = AlertsPanel(settings(tmp_path), clock=lambda: T0 + 600)
    qtbot.addWidget(panel)
    button = AlertsCountButton(panel.model)
    qtbot.addWidget(button)
    panel.set_person("auth0|alice")
    panel.add_events([feed_event(alerts[0])])
    assert panel.model.open_count == 1 and button.text() == "⚠ 1 alert" and not button.isHidden()
    panel.view.setFocus()
    panel.view.setCurrentIndex(panel.model.index(0))
    qtbot.keyClick(panel.view, Qt.Key.Key_Space)
    assert panel.model.open_count == 0 and button.isHidden()
    assert panel.model.index(0).data(AlertsModel.OpenRole) is False

    again = AlertsPanel(settings(tmp_path))  # a restart: the same person's acknowledgement is kept
    qtbot.addWidget(again)
    again.set_person("auth0|alice")
    again.add_events([feed_event(alerts[0])])
    assert again.model.open_count == 0
    again.set_person("auth0|bob")  # someone else has not seen it
    assert again.model.open_count == 1
    again.set_person("auth0|alice")
    again.add_events([feed_event(alerts[1])])  # the attack goes on: open again
    assert again.model.open_count == 1
    again.view.setCurrentIndex(again.model.index(0))
    again.ack_button.click()
    assert again.model.open_count == 0


def test_a_click_asks_for_the_events_behind_the_alert(qtbot, tmp_path: Path) -> None:
    events, alerts = brute_force(failures=10)
    panel = AlertsPanel(settings(tmp_path), clock=lambda: T0 + 600)
    qtbot.addWidget(panel)
    panel.resize(500, 400)
    panel.show()
    qtbot.waitExposed(panel)
    panel.add_events([feed_event(alerts[0])])
    with qtbot.waitSignal(panel.show_events) as signal:
        qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton,
                         pos=panel.view.visualRect(panel.model.index(0)).center())
    assert signal.args[0].log_ids == tuple(ev["log_id"] for ev in events)


def test_garbage_is_not_an_alert() -> None:
    assert alert_record({"kind": "alert"}) is None
    assert alert_record({"kind": "login", "log_id": "x"}) is None
    record = alert_record({"kind": "alert", "log_id": "a", "severity": "<b>", "log_ids": ["1", 2, None],
                           "updates": "7", "last_at": "not a time", "reason": "x\ny"})
    assert record is not None
    assert (record.severity, record.log_ids, record.updates, record.last_at, record.reason) == (
        "low", ("1",), 0, 0.0, "x y")


def test_severity_badges_read_on_light_and_dark_palettes_and_differ() -> None:
    for base in ("#ffffff", "#1e1e1e"):
        palette = QPalette()
        palette.setColor(QPalette.ColorRole.Base, QColor(base))
        fills = set()
        for severity in SEVERITIES:
            fill, ink = severity_colors(severity, palette)
            assert contrast(fill, ink) >= 4.5, (base, severity)  # WCAG AA for the badge's small text
            fills.add(fill.name())
        assert len(fills) == len(SEVERITIES)


def test_enter_on_an_alert_asks_for_its_events(qtbot, tmp_path: Path) -> None:
    _, alerts = brute_force(failures=10)
    panel = AlertsPanel(settings(tmp_path), clock=lambda: T0 + 600)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.add_events([feed_event(alerts[0])])
    panel.view.setFocus()
    panel.view.setCurrentIndex(panel.model.index(0))
    with qtbot.waitSignal(panel.show_events) as signal:
        qtbot.keyClick(panel.view, Qt.Key.Key_Return)
    assert signal.args[0].log_id == alerts[0]["log_id"]
