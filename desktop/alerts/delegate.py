"""Paints one alert row: a severity stripe and badge, the label and who, the explanation, the figures.

Everything is drawn with ``drawText`` (plain text: a name like ``<img src=x>`` is shown as typed). Severity
colours are fill/text pairs chosen per palette so they read on light and dark themes; the rest of the text uses
the palette. An acknowledged alert is dimmed (the placeholder colour, a faded badge) but stays listed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from desktop.alerts.episodes import MAX_LISTED, counted
from desktop.alerts.model import AlertsModel
from desktop.alerts.record import AlertRecord
from desktop.feed.delegate import clock_time, fit, is_dark, relative_time

__all__ = ["AlertDelegate", "figures", "severity_colors"]

_LIGHT = {"high": ("#b3261e", "#ffffff"), "medium": ("#9a5b00", "#ffffff"), "low": ("#1f5fa8", "#ffffff")}
_DARK = {"high": ("#ff8a80", "#1a0000"), "medium": ("#ffc266", "#1f1300"), "low": ("#8ab4f8", "#001a33")}
Index = QModelIndex | QPersistentModelIndex


def severity_colors(severity: str, palette: QPalette) -> tuple[QColor, QColor]:
    """(fill, text) for a severity badge on ``palette`` (contrast at least 4.5:1 on both themes)."""
    fill, text = (_DARK if is_dark(palette) else _LIGHT).get(severity, _LIGHT["low"])
    return QColor(fill), QColor(text)


def figures(record: AlertRecord) -> str:
    """``37 events · IPs 203.0.113.9, 198.51.100.4 · 12 accounts · updated 4 times``."""
    events = record.log_ids_count or record.count
    parts = [f"{events:,} event{'s' if events != 1 else ''}"]
    if record.ips:
        rest = len(record.ips) - 3  # "+7 or more": the server lists ten at most
        shown = ", ".join(record.ips[:3]) + (
            f" +{rest}{' or more' if len(record.ips) >= MAX_LISTED else ''}" if rest > 0 else "")
        parts.append(f"IP{'s' if len(record.ips) > 1 else ''} {shown}")
    if len(record.users) > 1:
        parts.append(counted(record.users, "account"))
    if record.updates:  # 0 on the first emission
        parts.append(f"updated {record.updates} time{'s' if record.updates != 1 else ''}")
    return " · ".join(parts)


class AlertDelegate(QStyledItemDelegate):
    """Three lines per alert; the time on the right (relative, the clock time in the row's tooltip)."""

    def __init__(self, parent: QWidget | None = None, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(parent)
        self._clock = clock

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        fm = QFontMetrics(option.font)  # type: ignore[attr-defined]
        return QSize(320, fm.height() * 3 + fm.height() // 2 * 2 + 4)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        record = index.data(AlertsModel.RecordRole)
        if not isinstance(record, AlertRecord):
            return
        open_ = bool(index.data(AlertsModel.OpenRole))
        painter.save()
        try:
            self._paint(painter, option, record, open_)
        finally:
            painter.restore()

    @staticmethod
    def _paint_badge(painter: QPainter, rect: QRect, severity: str, palette: QPalette, font: QFont, *,
                     faded: bool) -> QRect:
        """The stripe down the left edge and the ``HIGH`` badge; returns the badge's rectangle."""
        fm = QFontMetrics(font)
        pad = max(4, fm.height() // 3)
        fill, on_fill = severity_colors(severity, palette)
        painter.setOpacity(0.45 if faded else 1.0)
        painter.fillRect(QRect(rect.left(), rect.top() + 2, 4, rect.height() - 4), fill)
        text = severity.upper()
        badge = QRect(rect.left() + 4 + pad, rect.top() + pad, fm.horizontalAdvance(text) + pad * 2, fm.height())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(badge, 3, 3)
        painter.setPen(on_fill)
        painter.setFont(font)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        painter.setOpacity(1.0)
        return badge

    def _paint(self, painter: QPainter, option: QStyleOptionViewItem, record: AlertRecord, open_: bool) -> None:
        rect: QRect = option.rect  # type: ignore[attr-defined]
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        state = option.state  # type: ignore[attr-defined]
        selected = bool(state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Highlight))
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        text = palette.color(text_role)
        quiet = QColor(text)
        quiet.setAlphaF(0.72 if open_ else 0.5)
        if not open_:
            text = QColor(text)
            text.setAlphaF(0.55)
        font = QFont(option.font)  # type: ignore[attr-defined]
        bold = QFont(font)
        bold.setBold(open_)
        fm, bold_fm = QFontMetrics(font), QFontMetrics(bold)
        line_h, pad = fm.height(), max(4, fm.height() // 3)
        badge = self._paint_badge(painter, rect, record.severity, palette, font, faded=not open_)
        now = self._clock()
        when = relative_time(record.last_at, now) if record.last_at else ""
        when_text = when if open_ else f"✓ {when}"
        when_w = fm.horizontalAdvance(when_text) + pad
        left = badge.right() + pad
        right = rect.right() - pad
        top = rect.top() + pad
        painter.setPen(quiet)
        painter.drawText(QRect(right - when_w, top, when_w, line_h),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, when_text)
        painter.setPen(text)
        painter.setFont(bold)
        head_w = max(0, right - when_w - left - pad)
        painter.drawText(QRect(left, top, head_w, line_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fit(bold_fm, record.title, head_w))
        painter.setFont(font)
        body_left = rect.left() + 4 + pad
        body_w = max(0, right - body_left)
        painter.drawText(QRect(body_left, top + line_h + 2, body_w, line_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, fit(fm, record.reason, body_w))
        painter.setPen(quiet)
        painter.drawText(QRect(body_left, top + 2 * (line_h + 2), body_w, line_h),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         fit(fm, f"{figures(record)} · {clock_time(record.last_at, now)}", body_w))
        separator = QColor(palette.color(QPalette.ColorRole.Text))
        separator.setAlphaF(0.12)
        painter.setPen(separator)
        painter.drawLine(rect.left(), rect.bottom(), rect.right(), rect.bottom())
