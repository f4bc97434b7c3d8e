"""The feed panel with the tenant log's events (issue 12): one login shown once, failures first (colours, labels,
filters, search), counters and chart with failures."""

from __future__ import annotations

from PySide6.QtCore import Qt
from support.v2_events import v2_payload

from desktop.feed.events import FeedEvent, normalise
from desktop.feed.panel import FeedPanel

CHANNEL = "private-login-feed"
NOW = 1_795_237_500.0  # 2026-11-21T05:05:00Z
USER = "auth0|618223a4e3f49e006948565c"


def v1(second: int) -> FeedEvent:
    return normalise("user-loggedIn", CHANNEL, {"v": 1, "type": "login", "user_id": USER, "name": "Dev",
                                                "at": f"2026-11-21T05:01:{second:02d}.000Z"}, NOW)


def v2(code: str, n: int, second: int = 0, **changes: object) -> FeedEvent:
    sample = "s" if code in ("s", "ss") else None
    payload = v2_payload(code, n, at=f"2026-11-21T05:01:{second:02d}.000Z", sample=sample, **changes)
    return normalise("log-event", CHANNEL, payload, NOW)


def test_a_login_from_the_action_and_the_tenant_log_is_listed_once(qtbot) -> None:
    panel = FeedPanel(clock=lambda: NOW)
    qtbot.addWidget(panel)
    action = v1(1)
    assert panel.add_events([action]) == [action]
    logged = v2("s", 1, 2)
    assert panel.add_events([logged]) == []  # it took the v1 row's place
    assert panel.model.events() == [logged]
    assert panel.stats.counts(NOW).logins_hour == 1
    again = v1(3)  # a second Action event: a second login (each event folds with one other at most)
    assert panel.add_events([again]) == [again]


def contrast(a, b) -> float:
    def luminance(colour) -> float:
        def channel(c: float) -> float:
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_failures_red_warnings_and_blocks_amber_successes_as_before_readable_in_light_and_dark() -> None:
    from PySide6.QtGui import QColor, QPalette

    from desktop.feed.delegate import badge_colors
    from desktop.feed.kinds import COLOUR_KEYS, colour_key

    assert colour_key(v2("fp", 1)) == "failure"
    assert colour_key(v2("limit_wc", 2)) == "warning"  # a block: amber, though its outcome is a failure
    assert colour_key(v2("mfar", 3)) == "warning"
    assert colour_key(v2("s", 4)) == "login" and colour_key(v2("ss", 5)) == "signup"
    assert colour_key(v2("slo", 6)) == "neutral" and colour_key(v1(1)) == "login"
    for base in ("#ffffff", "#1e1e1e"):
        palette = QPalette()
        palette.setColor(QPalette.ColorRole.Base, QColor(base))
        fills = set()
        for key in COLOUR_KEYS:
            fill, ink = badge_colors(key, palette)
            assert contrast(fill, ink) >= 4.5, (base, key)  # WCAG AA for the badge's small text
            fills.add(fill.name())
        assert len(fills) == len(COLOUR_KEYS)
        red, amber = badge_colors("failure", palette)[0], badge_colors("warning", palette)[0]
        assert red.hue() < 15 or (red.hue() > 345 and 30 <= amber.hue() <= 50)


def test_rows_say_what_happened_and_why_filters_and_search_find_failures(qtbot) -> None:
    panel = FeedPanel(clock=lambda: NOW)
    qtbot.addWidget(panel)
    panel.resize(1100, 600)
    panel.show()
    qtbot.waitExposed(panel)
    events = [v1(1), v2("fp", 1, 2), v2("limit_wc", 2, 3), v2("s", 3, 4, user_id="auth0|other"),
              v2("mfar", 4, 5), v2("quantum", 5, 6)]
    panel.add_events(events)
    assert len(panel.model) == 6  # the unknown code is shown too (kind other)
    row = panel.model.index(0, 0)
    panel.view.grab()  # paints every visible row: no kind makes the delegate fail
    assert "Other" in panel.model.index(0, 0).data() and row.isValid()

    qtbot.mouseClick(panel.failures_button, Qt.MouseButton.LeftButton)
    shown = panel.proxy.visible_events()
    assert {ev.code for ev in shown} == {"fp", "limit_wc"}
    assert panel.outcome_combo.currentData() == "failure"
    panel.failures_button.click()
    assert len(panel.proxy.visible_events()) == 6

    panel.type_combo.setCurrentIndex(panel.type_combo.findData("blocked"))
    assert [ev.code for ev in panel.proxy.visible_events()] == ["limit_wc"]
    panel.type_combo.setCurrentIndex(0)
    qtbot.keyClicks(panel.search, "(wrong password")  # the label is searched (the reason too, below)
    assert {ev.code for ev in panel.proxy.visible_events()} == {"fp"}
    panel.search.clear()
    qtbot.keyClicks(panel.search, "email or password")  # the reason
    assert "fp" in {ev.code for ev in panel.proxy.visible_events()}
    panel.search.clear()
    qtbot.keyClicks(panel.search, "macos")  # the device
    assert "fp" in {ev.code for ev in panel.proxy.visible_events()}
    panel.search.clear()
    qtbot.keyClicks(panel.search, "81.2.69")  # the IP
    assert len(panel.proxy.visible_events()) >= 2

    panel.chart.refresh()
    counts = panel.stats.counts(NOW)
    assert (counts.failures_hour, counts.logins_hour) == (2, 2)
    assert panel.counter_labels["failure_hour"].text() == "2"


def test_accessible_names_on_the_feed_filters_detail_pane_and_chat(qtbot) -> None:
    from desktop.chat.panel import ChatPanel
    from desktop.config_schema import ChatConfig

    panel = FeedPanel(clock=lambda: NOW)
    chat = ChatPanel(ChatConfig())
    qtbot.addWidget(panel)
    qtbot.addWidget(chat)
    named = {w.accessibleName() for w in (panel.view, panel.search, panel.type_combo, panel.outcome_combo,
                                          panel.country_combo, panel.detail.text, chat.input)}
    assert named == {"Feed", "Search the feed", "Filter by kind", "Filter by outcome", "Filter by country",
                     "Event details", "Chat message"}
    assert panel.failures_button.text() == "Failures &only"  # Alt+O: one key away


def test_the_pipe_lists_and_stores_an_event_caught_up_and_received_live_once(qtbot) -> None:
    from desktop.feed.catchup import SeenLogIds
    from desktop.feed.pipe import FeedPipe
    from desktop.pusher.types import ChannelEvent

    stored: list[FeedEvent] = []
    delivered: list[FeedEvent] = []
    seen = SeenLogIds()
    pipe = FeedPipe(CHANNEL, persist=stored.extend, dedupe=seen)
    pipe.feed_events.connect(delivered.extend)
    live = [v2_payload("fp", n) for n in (3, 4)]
    pipe.on_batch([ChannelEvent(CHANNEL, "log-event", payload, None, NOW) for payload in live])
    pipe.on_batch([ChannelEvent(CHANNEL, "user-loggedIn", {"v": 1, "type": "login", "user_id": "u"}, None, NOW)])
    assert pipe.on_caught_up([v2_payload("fp", n) for n in (1, 2, 3, 4, 4)]) == 2  # 3 and 4 came live; 4 twice
    qtbot.waitUntil(lambda: len(delivered) == 5)
    assert sorted(ev.log_id or "v1" for ev in delivered) == ["log-1", "log-2", "log-3", "log-4", "v1"]
    assert [ev.log_id for ev in stored] == [ev.log_id for ev in delivered]  # stored first, the same rows
    pipe.close()
    assert pipe.on_caught_up([v2_payload("fp", 9)]) == 0  # closed: the next connection catches up instead


def test_catch_up_starts_from_the_kept_cursor_of_that_server_else_the_historys(qtbot, tmp_path) -> None:
    from PySide6.QtCore import QSettings

    from desktop.feed.catchup_qt import CatchUpController

    url = "https://feed.example.com/events"
    prefs = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    first = CatchUpController(prefs=prefs)
    first.set_start_cursor(None)
    first.configure(url)
    first._in_sync = True  # a catch-up finished; live rows move the kept cursor
    first.note_live([normalise("log-event", CHANNEL, v2_payload("fp", 7), NOW)])
    assert prefs.value("catch_up/cursor") == "7"

    again = CatchUpController(prefs=prefs)  # the next start: the history's newest is later (live rows of a
    again.set_start_cursor("12")            # catch-up that did not finish), the kept one is where to go on
    again.configure(url)
    assert again.cursor == "7"
    elsewhere = CatchUpController(prefs=prefs)
    elsewhere.set_start_cursor("12")
    elsewhere.configure("https://other.example.com/events")
    assert elsewhere.cursor == "12"
    for controller in (first, again, elsewhere):
        controller.close()
