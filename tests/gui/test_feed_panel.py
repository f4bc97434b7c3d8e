"""FeedPanel: pause/resume, the public-channel warning, CSV export, the detail pane, counters, Ctrl+F, speed."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QLabel

from desktop.feed.detail import EMPTY_TEXT, EventDetail, detail_text
from desktop.feed.events import FeedEvent, format_utc, normalise
from desktop.feed.model import FeedModel
from desktop.feed.panel import FeedPanel
from desktop.feed.serialise import CSV_COLUMNS, spreadsheet_safe
from desktop.feed.stats import parse_utc
from desktop.simulate.people import SampleEvents

RECEIVED = "2026-11-21T13:30:20.000Z"
NOW = parse_utc(RECEIVED) + 30


def ev(n: int, kind: str = "login", **fields: object) -> FeedEvent:
    values: dict = {"user_id": f"auth0|{n}", "email": f"user{n}@example.com", "name": f"User {n}",
                    "country": "FR", "city": "Paris", "connection": "Username-Password-Authentication",
                    "client_name": "Console", "at": RECEIVED}
    data = fields.pop("data", {"n": n})
    values.update(fields)
    return FeedEvent(event="user-loggedIn", channel="private-login-feed", type=kind, received_at=RECEIVED,
                     data=data, **values)


def sample(count: int, *, seed: int = 1, now: float = NOW) -> list[FeedEvent]:
    source = SampleEvents(seed=seed, clock=lambda: now)
    return [normalise(name, "private-login-feed", payload, now) for name, payload in source.take(count)]


@pytest.fixture
def panel(qtbot) -> FeedPanel:
    panel = FeedPanel(clock=lambda: NOW, max_rows=500)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    return panel


def field(text: str, label: str) -> str:
    """The value on the detail pane's line for ``label``."""
    for line in text.splitlines():
        if line.startswith(f"{label}:"):
            return line[len(label) + 1:].strip()
    raise AssertionError(f"no {label!r} line in {text!r}")


def listed(panel: FeedPanel) -> list[FeedEvent]:
    return panel.model.events()


# -- pause -------------------------------------------------------------------------------------------------------
def test_pause_buffers_and_resume_delivers_everything_in_order(panel: FeedPanel) -> None:
    panel.add_events([ev(0)])
    panel.set_paused(True)
    assert panel.paused and panel.pause_button.isChecked() and panel.pause_button.text() == "Resume"
    for start in (1, 11, 21):
        panel.add_events([ev(n) for n in range(start, start + 10)])
    assert [e.data["n"] for e in listed(panel)] == [0]  # the list does not move
    assert panel.paused_label.text() == "Paused — 30 new"
    assert not panel.paused_label.isHidden()
    assert panel.stats.counts(NOW).logins_hour == 31  # counters keep counting
    panel.pause_button.click()  # resume from the button
    assert not panel.paused
    assert [e.data["n"] for e in listed(panel)] == list(range(30, -1, -1))
    assert panel.paused_label.isHidden()
    assert panel.buffered_count == 0


def test_resume_with_more_than_the_cap_waiting_keeps_the_newest(panel: FeedPanel) -> None:
    panel.set_paused(True)
    panel.add_events([ev(n) for n in range(1200)])
    assert panel.paused_label.text() == "Paused — 1,200 new"
    panel.set_paused(False)
    assert [e.data["n"] for e in listed(panel)] == list(range(1199, 699, -1))  # what the cap keeps anyway


# -- warning, labels, detail -------------------------------------------------------------------------------------
def test_public_channel_warning(panel: FeedPanel) -> None:
    assert panel.warning.isHidden()
    panel.set_public_channel_warning("auth0")
    assert not panel.warning.isHidden()
    assert panel.warning_label.text() == "Anyone who has the app key can read auth0: it is a public channel."
    assert panel.warning_label.textFormat() == Qt.TextFormat.PlainText
    panel.set_public_channel_warning("<b>x</b>")
    assert panel.warning_label.text() == "Anyone who has the app key can read <b>x</b>: it is a public channel."
    panel.set_public_channel_warning(None)
    assert panel.warning.isHidden()


def test_every_label_is_plain_text(panel: FeedPanel) -> None:
    panel.set_paused(True)
    panel.set_public_channel_warning("public")
    labels = panel.findChildren(QLabel)
    assert labels
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in labels)


def test_hostile_names_are_shown_literally(panel: FeedPanel, qtbot) -> None:
    img, bold = "<img src=x onerror=alert(1)>", "<b>bold</b>"
    panel.add_events([ev(1, "signup", name=img, data={"name": img}),
                      ev(2, name=bold, email="x@example.com\nName: forged")])
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.proxy.index(1, 0).data().startswith(f"Sign up · {img} · ")
    assert panel.proxy.index(0, 0).data().startswith(f"Log in · {bold} · ")
    selections: list = []
    panel.selection_changed.connect(selections.append)
    panel.view.setCurrentIndex(panel.proxy.index(1, 0))
    assert selections[-1].name == img
    text = panel.detail.text.toPlainText()
    assert field(text, "Name") == img
    assert '"name": "<img src=x onerror=alert(1)>"' in text
    panel.view.setCurrentIndex(panel.proxy.index(0, 0))
    text = panel.detail.text.toPlainText()
    assert field(text, "Name") == bold
    assert field(text, "Email") == "x@example.com Name: forged"  # the line break cannot forge a field
    panel.grab()  # paints every visible row through the delegate


def test_detail_pane(qtbot) -> None:
    detail = EventDetail()
    qtbot.addWidget(detail)
    assert detail.text.toPlainText() == ""
    assert detail.text.placeholderText() == EMPTY_TEXT
    assert not detail.copy_button.isEnabled()
    event = ev(7, "signup", logins_count=1, picture="https://example.com/p.png", ip="192.0.2.7")
    detail.set_event(event)
    text = detail.text.toPlainText()
    for label in ("Type:", "Name:", "Nickname:", "Email:", "User ID:", "Connection:", "Application:", "Country:",
                  "City:", "IP address:", "Logins:", "Time (UTC):", "Time (local):", "Received (UTC):", "Picture:",
                  "Event:", "Channel:", "Payload:"):
        assert f"\n{label}" in f"\n{text}", label
    assert field(text, "Type") == "Sign up"
    assert field(text, "Nickname") == "—"  # a missing field says so
    assert field(text, "Logins") == "1"
    assert field(text, "Time (UTC)") == RECEIVED
    assert text.endswith('{\n  "n": 7\n}')
    assert detail.text.isReadOnly()
    detail.copy_button.click()
    assert QGuiApplication.clipboard().text() == text
    assert detail.copy_button.text() == "Copied"
    qtbot.waitUntil(lambda: detail.copy_button.text() == "Copy", timeout=10_000)
    detail.set_event(None)
    assert detail.text.toPlainText() == ""


def test_unrecognised_events_show_their_reason() -> None:
    odd = normalise("user-loggedIn", "auth0", ["not", "an", "object"], NOW)
    text = detail_text(odd)
    assert field(text, "Type") == "Unrecognised"
    assert field(text, "Reason") == "payload is a list, not an object"
    assert text.endswith('[\n  "not",\n  "an",\n  "object"\n]')
    assert "\u202e" not in detail_text(ev(1, name="a\u202eb", city="x"))
    assert "\\u202e" in detail_text(FeedEvent(event="e", channel="c", type="login", received_at=RECEIVED,
                                              data={"name": "a\u202eb"}))


# -- export --------------------------------------------------------------------------------------------------------
def test_export_visible_rows_as_csv(panel: FeedPanel, tmp_path: Path) -> None:
    panel.add_events([
        ev(1, "signup", name="=HYPERLINK(\"http://evil.example\")", country="DE"),
        ev(2, name="+1 555", country="FR"),
        ev(3, name="-2", country="FR", city="@SUM(A1)"),
        ev(4, name="Zoë Müller", country="FR", email="zoe@example.com"),
    ])
    panel.country_combo.setCurrentIndex(panel.country_combo.findData("FR"))
    assert panel.proxy.rowCount() == 3
    path = tmp_path / "feed.csv"
    assert panel.export_visible_csv(path) == 3
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["name"] for r in rows] == ["Zoë Müller", "'-2", "'+1 555"]  # newest first, as shown
    assert rows[1]["city"] == "'@SUM(A1)"
    assert rows[0]["logins_count"] == ""
    assert rows[0]["at"] == RECEIVED
    assert panel.export_status.text() == "Exported 3 rows to feed.csv"
    assert spreadsheet_safe("=1+1") == "'=1+1"
    assert spreadsheet_safe("\tx") == "'\tx"
    assert spreadsheet_safe(5) == 5
    assert spreadsheet_safe(None) == ""


def test_export_failure_is_reported_not_raised(panel: FeedPanel, tmp_path: Path) -> None:
    messages: list[str] = []
    panel.export_finished.connect(messages.append)
    assert panel.export_visible_csv(tmp_path / "missing-dir" / "feed.csv") is None
    assert messages[0].startswith("Could not export to feed.csv")


def test_export_button_asks_for_a_path(panel: FeedPanel, tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "chosen.csv"
    monkeypatch.setattr("desktop.feed.csv_export.QFileDialog.getSaveFileName",
                        lambda *args, **kwargs: (str(target), "CSV files (*.csv)"))
    panel.add_events([ev(1)])
    panel.export_button.click()
    assert target.read_text(encoding="utf-8-sig").count("\n") == 2


# -- filters, counters, shortcut ---------------------------------------------------------------------------------
def test_toolbar_filters(panel: FeedPanel) -> None:
    panel.add_events([ev(1, "signup", country="DE"), ev(2, country="FR"), ev(3, country="FR", name="Zoë"),
                      ev(4, "signup", country="<script>" * 20)])
    combo = panel.country_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["All countries", "DE", "FR"]
    panel.type_combo.setCurrentIndex(panel.type_combo.findData("login"))
    assert panel.footer.text() == "Showing 2 of 4 events"
    panel.search.setText("zoë")
    assert [e.name for e in panel.proxy.visible_events()] == ["Zoë"]
    panel.search.clear()
    combo.setCurrentIndex(combo.findData("DE"))
    assert panel.proxy.rowCount() == 0  # DE has only a signup
    panel.type_combo.setCurrentIndex(0)
    assert [e.name for e in panel.proxy.visible_events()] == ["User 1"]
    panel.add_events([ev(5, country="AT")])  # a new country appears; the selection stays
    assert [combo.itemText(i) for i in range(combo.count())] == ["All countries", "AT", "DE", "FR"]
    assert combo.currentData() == "DE"


def test_counters_follow_the_stats(panel: FeedPanel, qtbot) -> None:
    panel.add_events([ev(1, "signup"), ev(2), ev(3), ev(4, at=format_utc(NOW - 7200))])
    qtbot.waitUntil(lambda: panel.counter_labels["login_hour"].text() == "2", timeout=10_000)
    assert panel.counter_labels["signup_hour"].text() == "1"
    assert panel.counter_labels["login_today"].text() == "3"
    assert panel.counter_labels["signup_today"].text() == "1"


def test_ctrl_f_focuses_the_search(panel: FeedPanel, qtbot) -> None:
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel)  # shortcuts need an active window
    panel.view.setFocus()
    panel.search.setText("something")
    qtbot.keyClick(panel.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert panel.search.hasFocus()
    assert panel.search.selectedText() == "something"
    qtbot.keyClick(panel.search, Qt.Key.Key_Escape)
    assert panel.search.text() == ""


def test_selecting_a_row_fills_the_detail_pane(panel: FeedPanel, qtbot) -> None:
    panel.add_events(sample(20))
    with qtbot.waitSignal(panel.selection_changed) as blocker:
        panel.view.setCurrentIndex(panel.proxy.index(2, 0))
    assert blocker.args[0] is panel.proxy.index(2, 0).data(FeedModel.EventRole)
    assert panel.selected_event() is blocker.args[0]
    with qtbot.waitSignal(panel.selection_changed) as blocker:
        panel.view.clearSelection()
    assert blocker.args == [None]


def test_add_events_speed_with_filters_active(panel: FeedPanel, qtbot) -> None:
    """Measured, not asserted: the figure depends on the machine. The budget is well under 50 ms."""
    panel = FeedPanel(clock=lambda: NOW)  # the default cap (5,000 rows)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    qtbot.waitExposed(panel)
    events = sample(24_000, seed=5)
    panel.add_events(events[:5000])
    panel.type_combo.setCurrentIndex(panel.type_combo.findData("login"))
    panel.search.setText("a")
    timings = []
    for start in range(5000, 24_000, 2000):
        began = time.perf_counter()
        panel.add_events(events[start:start + 2000])
        timings.append((time.perf_counter() - began) * 1000)
        qtbot.wait(1)
    assert panel.model.rowCount() == 5000
    print(f"\nadd_events(2,000) with type+text filters on a full 5,000-row model: "
          f"median {sorted(timings)[len(timings) // 2]:.1f} ms, max {max(timings):.1f} ms "
          f"({', '.join(f'{t:.1f}' for t in timings)})")
