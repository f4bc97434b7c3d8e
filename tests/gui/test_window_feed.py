"""The whole window against a real soketi: feed rows, status bar, public-channel warning, reconnecting on new
settings, pause, markup names, Qt model checks, history across a restart, remembered layout, no tray.

Each test builds ``LoginFeedApp`` exactly as ``login-feed`` does (local signing with the app secret from
``LOGIN_FEED_PUSHER_SECRET``), publishes through soketi's HTTP API, and closes the window at the end.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import threading
from concurrent.futures import Future
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, QSize, Qt
from PySide6.QtWidgets import QSystemTrayIcon
from support.soketi import Soketi
from support.window_app import (
    FEED_CHANNEL,
    WAIT_MS,
    soketi_config,
    trigger_many,
    trigger_v1,
    user_ids,
    wait_connected,
)

from desktop.app import LoginFeedApp
from desktop.config_schema import FeedConfig
from desktop.engine import local_identity
from desktop.feed.events import FeedEvent, format_utc, normalise
from desktop.feed.model import FeedModel
from desktop.history import HistoryWriter, history_path

pytestmark = pytest.mark.integration

IMG = "<img src=x onerror=alert(1)>"
BOLD = "<b>bold</b>"
DISPLAY = Qt.ItemDataRole.DisplayRole



def rows(app: LoginFeedApp) -> list[FeedEvent]:
    return app.feed.model.events()


def shown(app: LoginFeedApp) -> list[FeedEvent]:
    return app.feed.proxy.visible_events()


def wait_rows(qtbot, app: LoginFeedApp, count: int) -> list[FeedEvent]:
    qtbot.waitUntil(lambda: len(rows(app)) >= count, timeout=WAIT_MS)
    return rows(app)


def display(model, row: int) -> str:
    return model.index(row, 0).data(DISPLAY)


# -- rows, status bar, filters, model checks -------------------------------------------------------------
def test_v1_legacy_and_garbage_events_become_rows_newest_first(qtbot, qtmodeltester, tmp_path: Path,
                                                               soketi: Soketi, make_app) -> None:
    config = soketi_config(soketi, tmp_path)
    app = make_app(config, tmp_path / "data")
    wait_connected(qtbot, app, app.chat.channels())

    assert app.status.state_label.text() == "Connected"
    assert app.status.channel_label.text() == FEED_CHANNEL
    assert local_identity()["user_info"]["name"] in app.status.user_label.text()
    assert app.feed.warning.isHidden()

    trigger_v1(soketi, FEED_CHANNEL, 1, "signup", name="Ada Lovelace", country="GB", city="London")
    trigger_v1(soketi, FEED_CHANNEL, 2, "login", name="Grace Hopper", country="US", city="Arlington")
    wait_rows(qtbot, app, 2)
    legacy = {"user_id": "auth0|legacy", "email": "old@example.com", "name": "Old Rule",
              "identities": [{"connection": "google-oauth2"}], "logins_count": 1, "country": "DE",
              "created_at": "2026-11-21T05:01:02.000Z"}
    soketi.trigger(FEED_CHANNEL, "user-signedUp", legacy)
    # Listed before the next ones are sent: a batch holding a weeks-old event is placed by time as a whole, and
    # the garbage rows' time is their arrival, which a loaded machine may put after Linus's `at`.
    wait_rows(qtbot, app, 3)
    soketi.trigger(FEED_CHANNEL, "user-loggedIn", "this is {not JSON")
    soketi.trigger(FEED_CHANNEL, "something-else", {"hello": "world"})
    trigger_v1(soketi, FEED_CHANNEL, 3, "login", name="Linus", country="FI", city="Helsinki")

    listed = wait_rows(qtbot, app, 6)
    assert [(ev.type, ev.user_id or ev.event) for ev in listed] == [
        ("login", "auth0|3"),
        ("unrecognised", "something-else"),
        ("unrecognised", "user-loggedIn"),
        ("login", "auth0|2"),
        ("signup", "auth0|1"),
        ("signup", "auth0|legacy"),  # rows in time order: the legacy profile's created_at is weeks old
    ]
    legacy_row = listed[5]
    assert (legacy_row.name, legacy_row.connection, legacy_row.country) == ("Old Rule", "google-oauth2", "DE")
    assert listed[2].reason == "payload is a string, not an object"
    assert display(app.feed.model, 0).startswith("Log in · Linus · user3@example.com · FI · Helsinki")
    assert display(app.feed.model, 4).startswith("Sign up · Ada Lovelace")
    assert app.feed.footer.text() == "6 events"

    # Filters and search, through the panel's own widgets.
    feed = app.feed
    feed.type_combo.setCurrentIndex(feed.type_combo.findData("signup"))
    assert user_ids(shown(app)) == ["auth0|1", "auth0|legacy"]
    assert feed.footer.text() == "Showing 2 of 6 events"
    feed.country_combo.setCurrentIndex(feed.country_combo.findData("GB"))
    assert user_ids(shown(app)) == ["auth0|1"]
    feed.type_combo.setCurrentIndex(feed.type_combo.findData(None))
    feed.country_combo.setCurrentIndex(feed.country_combo.findData(None))
    qtbot.keyClicks(feed.search, "HOPPER")
    assert user_ids(shown(app)) == ["auth0|2"]
    feed.search.clear()
    feed.type_combo.setCurrentIndex(feed.type_combo.findData("unrecognised"))
    assert [ev.event for ev in shown(app)] == ["something-else", "user-loggedIn"]
    feed.type_combo.setCurrentIndex(0)
    assert len(shown(app)) == 6

    qtmodeltester.check(app.feed.model)
    qtmodeltester.check(app.feed.proxy)
    qtmodeltester.check(app.chat.model)
    qtmodeltester.check(app.chat.presence_model)


# -- the public-channel warning and new settings without a restart --------------------------------------
def test_a_public_channel_warns_and_a_new_channel_reconnects_without_a_restart(qtbot, tmp_path: Path,
                                                                               soketi: Soketi, make_app) -> None:
    config = soketi_config(soketi, tmp_path)
    app = make_app(config, tmp_path / "data")
    first = wait_connected(qtbot, app)
    assert not app.feed.warning.isVisible()

    app.apply_config(dataclasses.replace(config, feed=FeedConfig(channel="auth0")))
    assert app.feed.warning.isVisible()
    assert "auth0" in app.feed.warning_label.text() and "public channel" in app.feed.warning_label.text()
    assert app.status.channel_label.text() == "auth0 · public"
    second = wait_connected(qtbot, app)
    assert second is not first

    trigger_v1(soketi, FEED_CHANNEL, 1)  # the old channel: nobody listens any more
    trigger_v1(soketi, "auth0", 2)
    qtbot.waitUntil(lambda: user_ids(rows(app)) == ["auth0|2"], timeout=WAIT_MS)

    other = "private-login-feed-eu"
    app.apply_config(dataclasses.replace(config, feed=FeedConfig(channel=other)))
    assert not app.feed.warning.isVisible()
    assert app.status.channel_label.text() == other
    wait_connected(qtbot, app)
    trigger_v1(soketi, "auth0", 3)
    trigger_v1(soketi, FEED_CHANNEL, 4)
    trigger_v1(soketi, other, 5)
    qtbot.waitUntil(lambda: user_ids(rows(app)) == ["auth0|5", "auth0|2"], timeout=WAIT_MS)
    assert app.config.feed.channel == other
    assert all(ev.channel in ("auth0", other) for ev in rows(app))


# -- pause ------------------------------------------------------------------------------------------------
def test_pause_holds_300_events_and_resume_shows_every_one_in_order(qtbot, tmp_path: Path, soketi: Soketi,
                                                                     make_app) -> None:
    app = make_app(soketi_config(soketi, tmp_path), tmp_path / "data")
    wait_connected(qtbot, app)
    trigger_v1(soketi, FEED_CHANNEL, 0)
    wait_rows(qtbot, app, 1)

    app.feed.set_paused(True)
    assert app.feed.pause_button.text() == "Resume"
    trigger_many(soketi, FEED_CHANNEL, range(1, 301))
    qtbot.waitUntil(lambda: app.feed.buffered_count == 300, timeout=WAIT_MS)
    assert user_ids(rows(app)) == ["auth0|0"]  # the list did not move
    assert app.feed.paused_label.text() == "Paused — 300 new"
    assert app.feed.stats.counts().logins_today == 301  # the counters kept counting

    app.feed.pause_button.click()  # Resume
    assert not app.feed.paused
    assert user_ids(rows(app)) == [f"auth0|{n}" for n in range(300, -1, -1)]
    assert app.feed.footer.text() == "301 events"


# -- markup stays literal -----------------------------------------------------------------------------------
@pytest.mark.qt_log_ignore("No such signal QPlatformNativeInterface::systemTrayWindowChanged")
def test_markup_names_are_literal_in_rows_and_details_and_escaped_for_the_notification_server(
        qtbot, tmp_path: Path, soketi: Soketi, make_app, monkeypatch) -> None:
    # The offscreen platform has no tray: pretend it has one, and capture what would be shown.
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    app = make_app(soketi_config(soketi, tmp_path), tmp_path / "data")
    assert app.tray is not None
    notes: list[tuple[str, str]] = []
    monkeypatch.setattr(app.tray, "showMessage", lambda title, body, *args: notes.append((title, body)))
    wait_connected(qtbot, app)

    trigger_v1(soketi, FEED_CHANNEL, 1, "signup", name=IMG, country="<i>FR</i>")
    qtbot.waitUntil(lambda: len(notes) == 1, timeout=WAIT_MS)
    trigger_v1(soketi, FEED_CHANNEL, 2, "login", name=BOLD, email="<b>bold</b>@example.com")
    wait_rows(qtbot, app, 2)

    model = app.feed.model
    assert display(model, 0).startswith(f"Log in · {BOLD} · <b>bold</b>@example.com · FR")  # plain_line
    assert display(model, 1).startswith(f"Sign up · {IMG} · user1@example.com · <i>FR</i>")
    assert app.feed.proxy.index(1, 0).data(DISPLAY) == display(model, 1)

    for row, name in ((1, IMG), (0, BOLD)):
        app.feed.view.selectionModel().setCurrentIndex(
            app.feed.proxy.index(row, 0),
            QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        detail = app.feed.detail.text.toPlainText()
        assert any(line.startswith("Name:") and line.endswith(f" {name}") for line in detail.splitlines())
        assert app.feed.detail.current_event is not None and app.feed.detail.current_event.name == name

    # The notification server may read markup: the body is escaped so that it shows the name as typed.
    assert notes == [("New signup", html.escape(f"{IMG} signed up (<i>FR</i>)"))]
    assert "<img" not in notes[0][1]
    assert model.index(0, 0).data(FeedModel.EventRole).name == BOLD


# -- history across a restart, and the remembered layout ----------------------------------------------------
def test_closing_flushes_the_history_and_the_next_start_restores_rows_and_layout(qtbot, tmp_path: Path,
                                                                                  soketi: Soketi,
                                                                                  make_app) -> None:
    config = soketi_config(soketi, tmp_path)
    data_dir = tmp_path / "data"
    app = make_app(config, data_dir)
    wait_connected(qtbot, app)
    for n in range(1, 6):
        trigger_v1(soketi, FEED_CHANNEL, n, "signup" if n % 2 else "login", name=IMG if n == 3 else f"User {n}")
    listed = wait_rows(qtbot, app, 5)
    expected = [f"auth0|{n}" for n in range(5, 0, -1)]
    assert user_ids(listed) == expected

    # The offscreen screen is 800x800 and restoreGeometry() keeps a window on its screen: a size that fits
    # (the chat dock hidden, so that the window's minimum width fits too).
    app.window.chat_dock.hide()
    qtbot.waitUntil(lambda: app.window.minimumSize().width() < 720, timeout=WAIT_MS)
    app.window.resize(720, 560)
    qtbot.waitUntil(lambda: app.window.size() == QSize(720, 560), timeout=WAIT_MS)
    total = sum(app.feed.splitter.sizes())
    app.feed.splitter.setSizes([total - 420, 420])
    sizes = app.feed.splitter.sizes()
    assert sizes[1] == 420
    make_app.close(app)  # File > Quit does the same: window.close()

    reader = HistoryWriter.for_path(history_path(data_dir))
    try:
        stored = reader.recent(100).result(timeout=10)
    finally:
        assert reader.close(timeout=10)
    assert user_ids(stored) == expected
    assert stored[2].name == IMG

    again = make_app(config, data_dir)
    qtbot.waitUntil(lambda: len(rows(again)) == 5, timeout=WAIT_MS)
    assert user_ids(rows(again)) == expected
    assert rows(again)[2].name == IMG
    assert again.window.size() == QSize(720, 560)
    assert again.window.chat_dock.isHidden()
    assert again.feed.splitter.sizes() == sizes
    wait_connected(qtbot, again)
    trigger_v1(soketi, FEED_CHANNEL, 6)
    qtbot.waitUntil(lambda: len(rows(again)) == 6, timeout=WAIT_MS)
    assert user_ids(rows(again)) == ["auth0|6", *expected]  # the live event goes on top of the restored ones


# -- no system tray ----------------------------------------------------------------------------------------
def test_without_a_system_tray_the_window_works_the_same(qtbot, tmp_path: Path, soketi: Soketi, make_app,
                                                         monkeypatch, caplog) -> None:
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: False))
    caplog.set_level(logging.INFO)
    app = make_app(soketi_config(soketi, tmp_path), tmp_path / "data")
    assert app.tray is None
    assert "no system tray: signup notifications are off" in caplog.messages
    wait_connected(qtbot, app)
    trigger_v1(soketi, FEED_CHANNEL, 1, "signup", name="Tray-less Tom")
    trigger_v1(soketi, FEED_CHANNEL, 2, "signup", name="Tray-less Tina")
    qtbot.waitUntil(lambda: len(rows(app)) == 2, timeout=WAIT_MS)
    assert [ev.name for ev in rows(app)] == ["Tray-less Tina", "Tray-less Tom"]
    make_app.close(app)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_history_restored_after_a_live_event_still_goes_below_it(qtbot, tmp_path: Path, soketi: Soketi,
                                                                 make_app, monkeypatch) -> None:
    """A slow history read (a big history, a slow disk) must not put yesterday's rows above a live event:
    the app connects only after the restore, so newest stays on top."""
    config = soketi_config(soketi, tmp_path)
    data_dir = tmp_path / "data"
    writer = HistoryWriter.for_path(history_path(data_dir))
    try:
        writer.submit([normalise("user-loggedIn", FEED_CHANNEL, {"v": 1, "type": "login", "user_id": f"old|{n}"},
                                 1_795_237_262.0 + n) for n in range(3)])
    finally:
        assert writer.close(timeout=10)

    app = make_app(config, data_dir, start=False)
    release = threading.Event()
    real_recent = app.history.recent

    def slow_recent(limit: int) -> Future:
        read = real_recent(limit)  # queued first, as in the app: it cannot see the live event
        future: Future = Future()

        def later() -> None:  # ... but its answer takes a while
            release.wait(WAIT_MS / 1000)
            future.set_result(read.result(timeout=10))

        threading.Thread(target=later, daemon=True).start()
        return future

    monkeypatch.setattr(app.history, "recent", slow_recent)
    app.start()
    qtbot.wait(300)
    assert app.client is None  # the app connects only once the history is in: nothing live can go below it
    release.set()  # the history read finishes now
    wait_connected(qtbot, app)
    trigger_v1(soketi, FEED_CHANNEL, 99)
    qtbot.waitUntil(lambda: len(rows(app)) == 4, timeout=WAIT_MS)
    assert user_ids(rows(app)) == ["auth0|99", "old|2", "old|1", "old|0"]


def test_the_restore_shows_the_newest_by_event_time_not_the_last_to_arrive(qtbot, tmp_path: Path, soketi: Soketi,
                                                                            make_app) -> None:
    """After a catch-up or backfill, the history's last arrivals are old events: the window (5,000 rows) restores
    the 5,000 newest by when they happened, in the feed's order, and none of the old ones."""
    start = 1_795_237_262.0

    def login(n: int, at: float) -> FeedEvent:
        data = {"v": 1, "type": "login", "user_id": f"auth0|{n}", "at": format_utc(at)}
        return normalise("user-loggedIn", FEED_CHANNEL, data, start + 6000 + n)

    data_dir = tmp_path / "data"
    writer = HistoryWriter.for_path(history_path(data_dir))
    try:
        writer.submit([login(n, start + n) for n in range(5000)])
        writer.submit([login(n, start - 86_400 + n) for n in range(5000, 6000)])  # a day older, arrived last
    finally:
        assert writer.close(timeout=10)
    app = make_app(soketi_config(soketi, tmp_path), data_dir)
    assert app.feed.model.max_rows == 5000
    qtbot.waitUntil(lambda: len(rows(app)) == 5000, timeout=WAIT_MS)
    assert user_ids(rows(app)) == [f"auth0|{n}" for n in range(4999, -1, -1)]
