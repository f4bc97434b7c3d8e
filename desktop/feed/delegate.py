"""Paints one feed row with QPainter only: no widgets, no rich text, no QTextDocument.

::

    [Sign up]  Ada Lovelace  ada@example.com                              2 min ago
               FR · Paris  ·  Username-Password-Authentication / Console   14:03:12

Every string comes from the network: it goes through :func:`desktop.feed.model.plain_line` (control and
bidi characters neutralised) and is elided to its column with ``QFontMetrics.elidedText``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from desktop.feed.events import FeedEvent
from desktop.feed.kinds import TYPE_LABELS, colour_key
from desktop.feed.model import FeedModel, place, plain_line, via, who
from desktop.feed.stats import event_time

Index = QModelIndex | QPersistentModelIndex

# Badge fills with the text drawn on them: dark fills with white text on a light palette, light fills with
# near-black text on a dark one. Every pair has a contrast ratio above 4.5:1 (WCAG AA for small text).
# Keys are :func:`desktop.feed.kinds.colour_key`'s: failures red, warnings and blocks amber, other successes neutral.
_LIGHT = {
    "signup": (QColor("#1a7f37"), QColor("#ffffff")),
    "login": (QColor("#0b5cc7"), QColor("#ffffff")),
    "failure": (QColor("#c62828"), QColor("#ffffff")),
    "warning": (QColor("#8f5b00"), QColor("#ffffff")),
    "neutral": (QColor("#3d6270"), QColor("#ffffff")),
    "unrecognised": (QColor("#5f6872"), QColor("#ffffff")),
}
_DARK = {
    "signup": (QColor("#3fb950"), QColor("#0d1117")),
    "login": (QColor("#58a6ff"), QColor("#0d1117")),
    "failure": (QColor("#ff7b72"), QColor("#0d1117")),
    "warning": (QColor("#d29922"), QColor("#0d1117")),
    "neutral": (QColor("#8fb8c8"), QColor("#0d1117")),
    "unrecognised": (QColor("#9aa4ae"), QColor("#0d1117")),
}


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def badge_colors(kind: str, palette: QPalette) -> tuple[QColor, QColor]:
    """(fill, text) of the badge for colour family ``kind`` (:func:`~desktop.feed.kinds.colour_key`) on
    ``palette``; the chart and the counters use the same fills."""
    table = _DARK if is_dark(palette) else _LIGHT
    return table.get(kind, table["unrecognised"])


def relative_time(then: float, now: float) -> str:
    """``just now``, ``2 min ago``, ``3 h ago``, ``4 d ago`` (a clock a little ahead still reads "just now")."""
    seconds = now - then
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86_400:
        return f"{int(seconds // 3600)} h ago"
    return f"{int(seconds // 86_400)} d ago"


def clock_time(then: float, now: float) -> str:
    """Local time of day; with the date when it was not today."""
    try:
        moment = datetime.fromtimestamp(then).astimezone()
        today = datetime.fromtimestamp(now).astimezone().date()
    except (OverflowError, OSError, ValueError):
        return ""
    return moment.strftime("%H:%M:%S") if moment.date() == today else moment.strftime("%d %b %H:%M")


def fit(fm: QFontMetrics, text: str, width: int) -> str:
    """``text`` if it fits in ``width`` pixels, else elided with "…" (elidedText alone cuts text that fits)."""
    if fm.horizontalAdvance(text) <= width:
        return text
    return fm.elidedText(text, Qt.TextElideMode.ElideRight, width)


@dataclass(frozen=True, slots=True)
class _Metrics:
    """Everything that depends only on the font, computed once per font."""

    font: QFont
    bold: QFont
    badge_font: QFont
    fm: QFontMetrics
    bold_fm: QFontMetrics
    badge_fm: QFontMetrics
    pad: int  # outer padding, left/right
    vpad: int  # top/bottom padding
    gap: int  # between the two lines
    badge_w: int
    badge_h: int
    time_w: int
    height: int


def _metrics_for(option_font: QFont) -> _Metrics:
    font = QFont(option_font)  # a copy: the option (and its font) is gone after paint()
    fm = QFontMetrics(font)
    bold = QFont(font)
    bold.setBold(True)
    badge_font = QFont(font)
    badge_font.setBold(True)
    if badge_font.pointSizeF() > 0:
        badge_font.setPointSizeF(max(6.0, badge_font.pointSizeF() * 0.85))
    else:
        badge_font.setPixelSize(max(8, round(badge_font.pixelSize() * 0.85)))
    badge_fm = QFontMetrics(badge_font)
    line = fm.height()
    vpad = max(4, round(line * 0.4))
    gap = max(2, round(line * 0.15))
    pad = max(6, round(line * 0.6))
    badge_w = max(badge_fm.horizontalAdvance(t) for t in TYPE_LABELS.values()) + 2 * max(6, line // 2)
    badge_h = badge_fm.height() + 4
    time_w = max(fm.horizontalAdvance(t) for t in ("just now", "59 min ago", "23 h ago", "00:00:00", "28 Nov 23:59"))
    return _Metrics(font, bold, badge_font, fm, QFontMetrics(bold), badge_fm, pad, vpad, gap, badge_w, badge_h,
                    time_w, 2 * vpad + 2 * line + gap)


class FeedDelegate(QStyledItemDelegate):
    """Two-line rows of a fixed height (scaled with the font); ``clock`` (epoch seconds) for relative times."""

    def __init__(self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self._clock = clock
        self._metrics: dict[str, _Metrics] = {}

    def _m(self, font: QFont) -> _Metrics:
        key = font.key()
        metrics = self._metrics.get(key)
        if metrics is None:
            if len(self._metrics) > 8:
                self._metrics.clear()
            metrics = self._metrics[key] = _metrics_for(font)
        return metrics

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        m = self._m(option.font)
        return QSize(m.pad * 3 + m.badge_w + m.time_w + 200, m.height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        ev = index.data(FeedModel.EventRole)
        if not isinstance(ev, FeedEvent):
            super().paint(painter, option, index)
            return
        m = self._m(option.font)
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        painter.save()
        try:
            panel = QStyleOptionViewItem(option)
            panel.showDecorationSelected = True
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, panel, painter, widget)
            self._paint_row(painter, option, ev, m)
        finally:
            painter.restore()

    # -- drawing ----------------------------------------------------------------------------------------
    def _paint_row(self, painter: QPainter, option: QStyleOptionViewItem, ev: FeedEvent, m: _Metrics) -> None:
        rect: QRect = option.rect
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorGroup.Normal
        if not option.state & QStyle.StateFlag.State_Enabled:
            group = QPalette.ColorGroup.Disabled
        elif not option.state & QStyle.StateFlag.State_Active:
            group = QPalette.ColorGroup.Inactive
        text = palette.color(group, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        secondary = QColor(text)
        secondary.setAlphaF(0.82 if selected else 0.68)

        separator = QColor(palette.color(group, QPalette.ColorRole.Text))  # a hairline, quieter than the text
        separator.setAlphaF(0.08)
        painter.setPen(separator)
        painter.drawLine(rect.left(), rect.bottom(), rect.right(), rect.bottom())

        badge = QRect(rect.left() + m.pad, rect.top() + (rect.height() - m.badge_h) // 2, m.badge_w, m.badge_h)
        self._paint_badge(painter, badge, ev, palette, m)
        if selected:  # keep the badge's edge visible on the highlight, whatever colour it is
            outline = QColor(text)
            outline.setAlphaF(0.7)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(outline)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(badge.toRectF().adjusted(0.5, 0.5, -0.5, -0.5), m.badge_h / 2.0, m.badge_h / 2.0)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        left = badge.right() + 1 + m.pad
        time_left = rect.right() - m.pad - m.time_w
        lines = (QRect(left, rect.top() + m.vpad, max(0, time_left - m.pad - left), m.fm.height()),)
        lines += (lines[0].translated(0, m.fm.height() + m.gap),)
        self._paint_text(painter, lines, ev, m, text=text, secondary=secondary)
        cells = [QRect(time_left, r.top(), m.time_w, r.height()) for r in lines]
        self._paint_time(painter, cells, ev, m, text=text, secondary=secondary)

    @staticmethod
    def _paint_badge(painter: QPainter, badge: QRect, ev: FeedEvent, palette: QPalette, m: _Metrics) -> None:
        fill, ink = badge_colors(colour_key(ev), palette)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        radius = m.badge_h / 2.0
        painter.drawRoundedRect(badge, radius, radius)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setFont(m.badge_font)
        painter.setPen(ink)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, TYPE_LABELS.get(ev.type, "?"))

    @staticmethod
    def _paint_text(painter: QPainter, lines: tuple[QRect, ...], ev: FeedEvent, m: _Metrics, *, text: QColor,
                    secondary: QColor) -> None:
        first, second_line = lines
        width = first.width()
        # line 1: the name in bold, then the email (for unrecognised events: the event name and the channel)
        headline = plain_line(who(ev))
        if ev.type == "unrecognised":
            second = f"on {plain_line(ev.channel)}" if ev.channel else ""
        elif ev.log_id is not None:  # the tenant log: what happened, and why
            second = plain_line(f"{ev.label} — {ev.reason}" if ev.reason else ev.label)
        else:
            second = plain_line(ev.email) if ev.email and ev.email != who(ev) else ""
        spacing = m.fm.horizontalAdvance("  ")
        head_w = m.bold_fm.horizontalAdvance(headline)
        if second:  # the name gets what the email leaves, but at least 60% of the line (a third before a reason)
            least = width // 3 if ev.log_id is not None else width * 3 // 5
            head_w = min(head_w, max(least, width - m.fm.horizontalAdvance(second) - spacing))
        head_w = min(head_w, width)
        head = fit(m.bold_fm, headline, head_w)
        painter.setFont(m.bold)
        painter.setPen(text)
        painter.drawText(QRect(first.left(), first.top(), head_w + 4, first.height()), _LEFT, head)
        painter.setFont(m.font)
        painter.setPen(secondary)
        if second:
            x = first.left() + m.bold_fm.horizontalAdvance(head) + spacing
            rest = first.right() + 1 - x
            if rest > m.fm.horizontalAdvance("…") * 2:
                painter.drawText(QRect(x, first.top(), rest + 4, first.height()), _LEFT, fit(m.fm, second, rest))
        # line 2: where, and through which connection and application (or why it was not recognised)
        if ev.type == "unrecognised":
            details = plain_line(ev.reason) or "unrecognised payload"
        elif ev.log_id is not None:  # the device and where the IP is, then the connection and application
            where = "  ".join(p for p in (plain_line(ev.ip, 64), place(ev)) if p)
            details = "  ·  ".join(p for p in (plain_line(ev.device, 80), where, via(ev)) if p) or "—"
        else:
            details = "  ·  ".join(p for p in (place(ev), via(ev)) if p) or "—"
        painter.drawText(second_line.adjusted(0, 0, 4, 0), _LEFT, fit(m.fm, details, width))

    def _paint_time(self, painter: QPainter, cells: list[QRect], ev: FeedEvent, m: _Metrics, *, text: QColor,
                    secondary: QColor) -> None:
        now = self._clock()
        when = event_time(ev)
        painter.setFont(m.font)
        painter.setPen(text)
        painter.drawText(cells[0], _RIGHT, relative_time(when, now))
        painter.setPen(secondary)
        painter.drawText(cells[1], _RIGHT, clock_time(when, now))


_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextSingleLine
