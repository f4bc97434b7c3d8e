"""A click on an alert shows exactly the events behind it in the feed (issue 15), with a bar and Show all."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from support.alert_events import brute_force
from support.alert_timelines import T0, event

from desktop.alerts.panel import AlertsPanel
from desktop.feed.events import format_utc, normalise
from desktop.feed.panel import FeedPanel

CHANNEL = "private-login-feed"


def rows(payloads: list[dict]) -> list:
    return [normalise("log-event", CHANNEL, p, T0 + 600) for p in payloads]


def test_a_click_on_an_alert_filters_the_feed_to_its_events(qtbot, tmp_path: Path) -> None:
    events, alerts = brute_force("alice@example.com", failures=10)
    others = [event("fp", T0 + i, user="bob@example.com") for i in range(5)]
    others += [event("s", T0 + 3, user="<img src=x>")]
    for ev in others:
        ev["at"] = format_utc(ev["at"])
    feed = FeedPanel(clock=lambda: T0 + 600)
    qtbot.addWidget(feed)
    feed.add_events(rows([*others, *events, alerts[0]]))
    feed.search.setText("bob")
    assert feed.proxy.rowCount() == 5

    alerts_panel = AlertsPanel(QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(alerts_panel)
    alerts_panel.add_events(rows([alerts[0]]))
    alerts_panel.show_events.connect(lambda r: feed.show_only(r.log_ids, r.title, r.log_ids_count))
    alerts_panel.resize(500, 400)
    alerts_panel.show()
    qtbot.waitExposed(alerts_panel)
    qtbot.mouseClick(alerts_panel.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=alerts_panel.view.visualRect(alerts_panel.model.index(0)).center())

    assert [ev.log_id for ev in feed.proxy.visible_events()] == [ev["log_id"] for ev in reversed(events)]
    assert not feed.focus_bar.isHidden()
    assert feed.focus_bar.label.text() == (
        "Showing the 10 events behind: Brute force on one account: alice@example.com")
    assert feed.footer.text() == f"Showing 10 of {feed.model.rowCount()} events"
    feed.focus_bar.button.click()
    assert feed.focus_bar.isHidden()
    assert feed.proxy.rowCount() == 5  # the search is back


def test_events_the_feed_no_longer_holds_are_told(qtbot) -> None:
    events, _ = brute_force("alice@example.com", failures=10)
    feed = FeedPanel(clock=lambda: T0 + 600)
    qtbot.addWidget(feed)
    feed.add_events(rows(events[5:]))
    feed.show_only([ev["log_id"] for ev in events], "Brute force: <b>x</b>", 10)
    assert feed.proxy.rowCount() == 5
    assert feed.focus_bar.label.textFormat() == Qt.TextFormat.PlainText
    assert feed.focus_bar.label.text().startswith("Showing 5 of the 10 events behind: Brute force: <b>x</b>")
    feed.add_events(rows(events[:1]))  # one comes back (a catch-up): the bar counts it
    assert feed.focus_bar.label.text().startswith("Showing 6 of the 10 events")


def test_filtering_again_leaves_the_alerts_events(qtbot) -> None:
    events, _ = brute_force("alice@example.com", failures=10)
    feed = FeedPanel(clock=lambda: T0 + 600)
    qtbot.addWidget(feed)
    feed.add_events(rows(events))
    feed.show_only([ev["log_id"] for ev in events[:3]], "Brute force", 10)
    assert feed.proxy.rowCount() == 3
    qtbot.keyClicks(feed.search, "alice")  # the person types a search: their filters, over the whole feed
    assert feed.focus_bar.isHidden() and not feed.proxy.showing_only
    assert feed.proxy.rowCount() == 10
