"""Signups, logins and failures per minute over the last hour, painted with QPainter (no QtCharts). Failures are
red bars, so a surge of failed logins stands out at a glance.

Repaints are coalesced: :meth:`MinuteChart.schedule_update` may be called for every batch; the chart reads
the stats and repaints at most every 500 ms, plus every 15 s so the window keeps moving when all is quiet.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import timedelta

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFontMetrics, QHelpEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QToolTip, QWidget

from desktop.feed.delegate import badge_colors
from desktop.feed.stats import FeedStats, MinuteCount

COALESCE_MS = 500
ROLL_MS = 15_000
MINUTES = 60


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is >= value (at least 1)."""
    if value <= 1:
        return 1
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * exponent >= value:
            return step * exponent
    return 10 * exponent


class MinuteChart(QWidget):
    """Three bars per minute (signups, logins, failures) in the badges' colours; a tooltip per minute."""

    #: emitted after each (coalesced) read of the stats, so counters elsewhere can follow the same rhythm
    refreshed = Signal()

    def __init__(self, stats: FeedStats, parent: QWidget | None = None, *,
                 clock: Callable[[], float] = time.time, minutes: int = MINUTES) -> None:
        super().__init__(parent)
        self._stats = stats
        self._clock = clock
        self._minutes = minutes
        self._data: list[MinuteCount] = []
        self._slots: tuple[int, float] = (0, 1.0)  # plot left, width of one minute: for tooltips
        self.setObjectName("minuteChart")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)
        self._coalesce = QTimer(self)
        self._coalesce.setSingleShot(True)
        self._coalesce.setInterval(COALESCE_MS)
        self._coalesce.timeout.connect(self.refresh)
        self._roll = QTimer(self)
        self._roll.setInterval(ROLL_MS)
        self._roll.timeout.connect(self.schedule_update)
        self._roll.start()
        self.refresh()

    def sizeHint(self) -> QSize:
        return QSize(480, QFontMetrics(self.font()).height() * 7)

    def minimumSizeHint(self) -> QSize:
        return QSize(180, QFontMetrics(self.font()).height() * 5)

    @property
    def data(self) -> list[MinuteCount]:
        """What is drawn: ``minutes`` buckets, oldest first."""
        return self._data

    @Slot()
    def schedule_update(self) -> None:
        """Ask for a repaint soon; any number of calls within 500 ms make one repaint."""
        if not self._coalesce.isActive():
            self._coalesce.start()

    @Slot()
    def refresh(self) -> None:
        """Read the stats and repaint now."""
        self._coalesce.stop()
        self._data = self._stats.per_minute(self._clock(), self._minutes)
        self.update()
        self.refreshed.emit()

    # -- painting ---------------------------------------------------------------------------------------
    def _plot_rect(self, fm: QFontMetrics) -> QRect:
        line = fm.height()
        label_w = fm.horizontalAdvance(f"{self._y_max():,}") + 8
        return self.rect().adjusted(label_w + 4, line + 6, -6, -(line + 4))

    def _y_max(self) -> int:
        return nice_ceiling(max((max(c.signups, c.logins, c.failures) for c in self._data), default=0))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QPainter) -> None:
        palette = self.palette()
        fm = QFontMetrics(self.font())
        line = fm.height()
        plot = self._plot_rect(fm)
        text = palette.color(QPalette.ColorRole.WindowText)
        quiet = QColor(text)
        quiet.setAlphaF(0.65)
        grid = QColor(text)
        grid.setAlphaF(0.12)
        signup_fill = badge_colors("signup", palette)[0]
        login_fill = badge_colors("login", palette)[0]
        failure_fill = badge_colors("failure", palette)[0]
        y_max = self._y_max()

        painter.setFont(self.font())
        # title and legend
        painter.setPen(quiet)
        painter.drawText(QRect(plot.left(), 0, plot.width(), line + 2),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, "Per minute, last hour")
        x = plot.right()
        for label, color in (("Failures", failure_fill), ("Log ins", login_fill), ("Sign ups", signup_fill)):
            width = fm.horizontalAdvance(label)
            x -= width
            painter.setPen(quiet)
            painter.drawText(QRect(x, 0, width, line + 2), Qt.AlignmentFlag.AlignVCenter, label)
            swatch = line // 2 + 2
            x -= swatch + 5
            painter.fillRect(QRect(x, (line + 2 - swatch) // 2, swatch, swatch), color)
            x -= 14

        # grid and y labels: 0, half, max
        right_flags = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for fraction in (0.0, 0.5, 1.0):
            y = plot.bottom() - round(fraction * plot.height())
            painter.setPen(grid if fraction else quiet)
            painter.drawLine(plot.left(), y, plot.right(), y)
            value = y_max * fraction
            if fraction == 0.5 and not float(value).is_integer():
                continue
            painter.setPen(quiet)
            painter.drawText(QRect(0, y - line // 2, plot.left() - 6, line), right_flags, f"{int(value):,}")

        self._paint_bars(painter, plot, y_max, (signup_fill, login_fill, failure_fill))

        # x labels: the clock time at the start, the middle, and "now"
        if self._data:
            bottom = QRect(plot.left(), plot.bottom() + 3, plot.width(), line)
            painter.setPen(quiet)
            first = self._data[0].minute_start.strftime("%H:%M")
            middle = self._data[len(self._data) // 2].minute_start.strftime("%H:%M")
            painter.drawText(bottom, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, first)
            painter.drawText(bottom, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, middle)
            painter.drawText(bottom, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, "now")

    def _paint_bars(self, painter: QPainter, plot: QRect, y_max: int, fills: tuple[QColor, ...]) -> None:
        count = max(1, len(self._data))
        slot = plot.width() / count
        self._slots = (plot.left(), slot)
        bar = max(1.0, (slot - max(1.0, slot * 0.25)) / 3)
        for i, minute in enumerate(self._data):
            left = plot.left() + i * slot + (slot - 3 * bar) / 2
            for j, (value, color) in enumerate(zip((minute.signups, minute.logins, minute.failures), fills,
                                                   strict=True)):
                if value <= 0:
                    continue
                height = max(1, round(value / y_max * plot.height()))
                painter.fillRect(QRect(round(left + j * bar), plot.bottom() - height, max(1, round(bar)), height),
                                 color)

    # -- tooltips ---------------------------------------------------------------------------------------
    def minute_at(self, pos: QPoint) -> MinuteCount | None:
        left, slot = self._slots
        if not self._data or slot <= 0:
            return None
        index = math.floor((pos.x() - left) / slot)
        return self._data[index] if 0 <= index < len(self._data) else None

    @staticmethod
    def tooltip_text(minute: MinuteCount) -> str:
        end = minute.minute_start + timedelta(minutes=1)
        return (f"{minute.minute_start:%H:%M} to {end:%H:%M}\n"
                f"Sign ups: {minute.signups:,}\nLog ins: {minute.logins:,}\nFailures: {minute.failures:,}")

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            minute = self.minute_at(event.pos())
            if minute is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(event.globalPos(), self.tooltip_text(minute), self)
            return True
        return super().event(event)
