"""Offscreen grabs of the whole Feed tab with ~200 sample events, in a light and a dark palette.

The files (/tmp/feed_panel.png, /tmp/feed_panel_dark.png) are for a person to look at; the asserts only
check that the parts are where they should be.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from desktop.feed.events import FeedEvent, normalise
from desktop.feed.panel import FeedPanel
from desktop.simulate.people import SampleEvents

CHANNEL = "private-login-feed"


def sample_hour(now: float) -> list[FeedEvent]:
    """About 200 realistic events over the last hour, oldest first, plus three hostile ones on top."""
    moment = [now - 3600.0]
    source = SampleEvents(seed=7, clock=lambda: moment[0], signup_ratio=0.15)
    events = []
    for i in range(200):
        moment[0] = now - 3600 + i * 18
        name, payload = next(source)
        events.append(normalise(name, CHANNEL, payload, moment[0] + 0.3))
    events.append(normalise("user-signedUp", CHANNEL, {
        "v": 1, "type": "signup", "user_id": "auth0|1", "email": "img@example.com",
        "name": "<img src=x onerror=alert(1)>", "country": "FR", "city": "Paris",
        "connection": "Username-Password-Authentication", "client_name": "Console"}, now - 6))
    events.append(normalise("user-loggedIn", CHANNEL, {
        "v": 1, "type": "login", "user_id": "auth0|2", "email": "bold@example.com", "name": "<b>bold</b>",
        "country": "DE", "city": "Berlin", "connection": "github", "client_name": "Support Portal"}, now - 4))
    events.append(normalise("client-typing", CHANNEL, {"user": "x"}, now - 2))
    return events


def dark_palette() -> QPalette:
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#2b2b2b", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1e1e", QPalette.ColorRole.AlternateBase: "#262626",
        QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#353535",
        QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.Highlight: "#2f65ca",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2b2b2b",
        QPalette.ColorRole.ToolTipText: "#e6e6e6", QPalette.ColorRole.PlaceholderText: "#8c8c8c",
        QPalette.ColorRole.Mid: "#444444", QPalette.ColorRole.Dark: "#1a1a1a", QPalette.ColorRole.Light: "#505050",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#8c8c8c"))
    return palette


@pytest.fixture
def dark(qapp) -> Iterator[None]:
    saved = QApplication.palette()
    qapp.setPalette(dark_palette())
    try:
        yield
    finally:
        qapp.setPalette(saved)


def grab_panel(qtbot, path: str) -> FeedPanel:
    now = time.time()
    panel = FeedPanel(clock=lambda: now)
    qtbot.addWidget(panel)
    panel.resize(1280, 760)
    panel.add_events(sample_hour(now))
    panel.set_public_channel_warning("auth0")
    panel.show()
    qtbot.waitExposed(panel)
    panel.view.setCurrentIndex(panel.proxy.index(3, 0))
    panel.chart.refresh()
    qtbot.wait(20)
    assert panel.grab().save(path)
    return panel


def check_layout(panel: FeedPanel) -> None:
    assert panel.model.rowCount() == 203
    assert not panel.warning.isHidden()
    assert panel.detail.text.toPlainText().startswith("Type:")
    view, detail = panel.view.geometry(), panel.detail.geometry()
    assert view.width() > 2 * detail.width() > 400
    assert panel.chart.height() >= 60
    assert int(panel.counter_labels["login_today"].text().replace(",", "")) > 100


def test_grab_light(qtbot) -> None:
    check_layout(grab_panel(qtbot, "/tmp/feed_panel.png"))


def test_grab_dark(qtbot, dark) -> None:
    panel = grab_panel(qtbot, "/tmp/feed_panel_dark.png")
    check_layout(panel)
    assert panel.view.palette().color(QPalette.ColorRole.Base).lightness() < 64
