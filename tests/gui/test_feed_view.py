"""FeedView follows the top unless the user scrolled away; FeedDelegate paints hostile text literally."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionViewItem

from desktop.feed.delegate import FeedDelegate, badge_colors, clock_time, fit, relative_time
from desktop.feed.events import FeedEvent
from desktop.feed.filters import FeedFilterProxy
from desktop.feed.model import FeedModel
from desktop.feed.stats import parse_utc
from desktop.feed.view import FeedView

RECEIVED = "2026-11-21T13:30:20.000Z"
NOW = parse_utc(RECEIVED) + 125

pytestmark = pytest.mark.usefixtures("qapp")


def ev(n: int, kind: str = "login", **fields: object) -> FeedEvent:
    values: dict = {"user_id": f"auth0|{n}", "email": f"user{n}@example.com", "name": f"User {n}",
                    "country": "FR", "city": "Paris", "connection": "Username-Password-Authentication",
                    "client_name": "Console", "at": RECEIVED}
    values.update(fields)
    return FeedEvent(event="user-loggedIn", channel="private-login-feed", type=kind, received_at=RECEIVED,
                     data={}, **values)


@pytest.fixture
def feed(qtbot):
    model = FeedModel(max_rows=1000)
    proxy = FeedFilterProxy()
    proxy.setSourceModel(model)
    view = FeedView(clock=lambda: NOW, max_rows=1000)
    view.setModel(proxy)
    view.resize(500, 400)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    model.add_events([ev(n) for n in range(300)])
    qtbot.wait(10)
    return model, proxy, view


def top_event(view: FeedView) -> tuple[str, int]:
    """The name of the row at the top of the viewport and where that row starts."""
    index = view.indexAt(QPoint(10, 1))
    return index.data(FeedModel.EventRole).name, view.visualRect(index).top()


def test_at_the_top_new_rows_come_into_view(feed, qtbot) -> None:
    model, _proxy, view = feed
    assert view.is_at_top()
    assert top_event(view) == ("User 299", 0)
    model.add_events([ev(n) for n in range(300, 305)])
    qtbot.wait(10)
    assert view.is_at_top()
    assert top_event(view) == ("User 304", 0)
    assert view.jump_button.isHidden()
    assert view.new_rows_above == 0


def test_scrolled_away_the_rows_in_view_stay_put(feed, qtbot) -> None:
    model, _proxy, view = feed
    scroll = view.verticalScrollBar()
    # down 200 rows, and a bit: past the first layout batch Qt would use by default (100 rows)
    scroll.setValue(200 * view.row_height() + 7)
    qtbot.wait(10)
    before = top_event(view)
    assert before[0] == "User 99"
    for batch in range(3):
        model.add_events([ev(n) for n in range(1000 + 10 * batch, 1010 + 10 * batch)])
        qtbot.wait(10)
        assert top_event(view) == before
    assert view.new_rows_above == 30
    assert view.jump_button.isVisible()
    assert view.jump_button.text() == "↑ 30 new events"
    # and back to the top on request
    qtbot.mouseClick(view.jump_button, Qt.MouseButton.LeftButton)
    assert view.is_at_top()
    assert top_event(view) == ("User 1029", 0)
    assert view.jump_button.isHidden()
    assert view.new_rows_above == 0


def test_scrolling_back_to_the_top_hides_the_button(feed, qtbot) -> None:
    model, _proxy, view = feed
    view.verticalScrollBar().setValue(500)
    model.add_events([ev(2000)])
    qtbot.wait(10)
    assert view.jump_button.text() == "↑ 1 new event"
    view.verticalScrollBar().setValue(0)
    assert view.jump_button.isHidden()
    assert view.new_rows_above == 0


def test_filter_changes_are_not_new_events(feed, qtbot) -> None:
    _model, proxy, view = feed
    view.verticalScrollBar().setValue(600)
    proxy.set_search_text("user 1")
    proxy.set_search_text("")
    assert view.new_rows_above == 0
    assert view.jump_button.isHidden()


# -- the delegate ---------------------------------------------------------------------------------------------
def paint_row(event: FeedEvent, *, selected: bool = False, width: int = 640, palette: QPalette | None = None,
              font: QFont | None = None) -> QImage:
    model = FeedModel()
    model.add_events([event])
    delegate = FeedDelegate(clock=lambda: NOW)
    option = QStyleOptionViewItem()
    option.font = font or QApplication.font()
    option.palette = palette or QApplication.palette()
    option.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Active
    if selected:
        option.state |= QStyle.StateFlag.State_Selected
    height = delegate.sizeHint(option, model.index(0, 0)).height()
    option.rect = QRect(0, 0, width, height)
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(option.palette.color(QPalette.ColorRole.Base))
    painter = QPainter(image)
    try:
        delegate.paint(painter, option, model.index(0, 0))
    finally:
        painter.end()
    return image


def colours(image: QImage) -> set[int]:
    return {image.pixel(x, y) for x in range(0, image.width(), 2) for y in range(image.height())}


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", "<b>bold</b>", "x\n\u202eevil\x00", "é" * 1000])
@pytest.mark.parametrize("selected", [False, True])
def test_the_delegate_paints_hostile_text_without_errors(name: str, selected: bool) -> None:
    image = paint_row(ev(1, name=name, email=f"{name}@example.com", city=name), selected=selected)
    assert len(colours(image)) > 10  # a badge, text, antialiasing: something was painted


def test_every_type_has_a_badge_with_readable_colours() -> None:
    light = QPalette(QColor("#efefef"))
    dark = QPalette(QColor("#2b2b2b"))
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    for palette in (light, dark):
        for kind in ("signup", "login", "unrecognised"):
            fill, ink = badge_colors(kind, palette)
            assert contrast(fill, ink) >= 4.5
            image = paint_row(ev(1, kind), palette=palette)
            assert fill.rgb() in colours(image)


def contrast(a: QColor, b: QColor) -> float:
    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
        return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_row_height_is_two_lines_and_scales_with_the_font() -> None:
    delegate = FeedDelegate()
    option = QStyleOptionViewItem()
    option.font = QApplication.font()
    normal = delegate.sizeHint(option, FeedModel().index(0, 0)).height()
    line = QFontMetrics(option.font).height()
    assert 2 * line < normal <= 4 * line
    big = QFont(option.font)
    big.setPointSizeF(option.font.pointSizeF() * 2)
    option.font = big
    assert delegate.sizeHint(option, FeedModel().index(0, 0)).height() > 1.6 * normal


def test_relative_and_clock_times() -> None:
    assert relative_time(NOW - 5, NOW) == "just now"
    assert relative_time(NOW + 30, NOW) == "just now"  # a clock a little ahead
    assert relative_time(NOW - 125, NOW) == "2 min ago"
    assert relative_time(NOW - 3 * 3600 - 5, NOW) == "3 h ago"
    assert relative_time(NOW - 2 * 86_400, NOW) == "2 d ago"
    assert len(clock_time(NOW - 60, NOW)) == 8  # HH:MM:SS today
    assert clock_time(NOW - 3 * 86_400, NOW).count(":") == 1  # "18 Nov 13:30" on other days


def test_fit_keeps_text_that_fits_and_elides_the_rest() -> None:
    metrics = QFontMetrics(QApplication.font())
    text = "Chloe Fitzgerald"
    assert fit(metrics, text, metrics.horizontalAdvance(text)) == text
    assert fit(metrics, text, metrics.horizontalAdvance(text) // 2).endswith("…")
