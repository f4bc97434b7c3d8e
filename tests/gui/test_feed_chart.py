"""MinuteChart: paints two series per minute, coalesces repaints, tooltips per bar."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage, QPalette

from desktop.feed.chart import COALESCE_MS, MinuteChart, nice_ceiling
from desktop.feed.delegate import badge_colors
from desktop.feed.events import FeedEvent, format_utc
from desktop.feed.stats import FeedStats

NOW = 1_795_267_820.0  # 2026-11-21 13:30:20 UTC
TZ = timezone(timedelta(hours=2))


def ev(kind: str, at: float) -> FeedEvent:
    return FeedEvent(event="user-loggedIn", channel="c", type=kind, user_id="u", at=format_utc(at),
                     received_at=format_utc(at), data={})


@pytest.fixture
def chart(qtbot) -> MinuteChart:
    stats = FeedStats(lambda: NOW, tz=TZ)
    stats.add([ev("signup", NOW - 5), ev("login", NOW - 5), ev("login", NOW - 6), ev("login", NOW - 30 * 60)])
    chart = MinuteChart(stats, clock=lambda: NOW)
    qtbot.addWidget(chart)
    chart.resize(600, 140)
    return chart


def render(chart: MinuteChart) -> QImage:
    image = QImage(chart.size(), QImage.Format.Format_ARGB32)
    image.fill(chart.palette().color(QPalette.ColorRole.Window))
    chart.render(image)
    return image


def test_the_chart_paints_both_series(chart: MinuteChart) -> None:
    image = render(chart)
    pixels = {image.pixel(x, y) for x in range(image.width()) for y in range(image.height())}
    for kind in ("signup", "login"):
        assert badge_colors(kind, chart.palette())[0].rgb() in pixels
    assert len(chart.data) == 60
    assert (chart.data[-1].signups, chart.data[-1].logins) == (1, 2)


def test_tooltips_name_the_minute_and_its_counts(chart: MinuteChart) -> None:
    render(chart)  # lays out the bars
    last = chart.minute_at(QPoint(chart.width() - 8, 60))
    assert last is chart.data[-1]
    assert MinuteChart.tooltip_text(last) == "15:30 to 15:31\nSign ups: 1\nLog ins: 2\nFailures: 0"
    assert chart.minute_at(QPoint(2, 60)) is None  # over the axis labels


def test_repaints_are_coalesced(chart: MinuteChart, qtbot) -> None:
    refreshes: list[int] = []
    chart.refreshed.connect(lambda: refreshes.append(1))
    for _ in range(100):
        chart.schedule_update()
    qtbot.waitUntil(lambda: bool(refreshes), timeout=10_000)  # a loaded machine may fire the timer late
    qtbot.wait(COALESCE_MS + 300)  # a second repaint for the same requests would have come by now
    assert refreshes == [1]


def test_an_empty_chart_paints(qtbot) -> None:
    chart = MinuteChart(FeedStats(lambda: NOW), clock=lambda: NOW)
    qtbot.addWidget(chart)
    chart.resize(200, 90)
    render(chart)
    assert chart.minute_at(QPoint(100, 40)).signups == 0


def test_nice_ceiling() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 2, 3, 7, 10, 11, 45, 51, 100, 1234)] == [1, 1, 2, 5, 10, 10, 20, 50,
                                                                                      100, 100, 2000]
