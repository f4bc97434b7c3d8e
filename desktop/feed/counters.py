"""The feed's counters: signups, logins and failures in the last hour and today, each beside a swatch in its
badge's colour (so the red of failures reads the same in the counters, the chart and the list)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QWidget

from desktop.feed.delegate import badge_colors
from desktop.feed.stats import Counts
from desktop.ui.text import plain

__all__ = ["FeedCounters", "quiet"]

ROWS = (("signup", "Sign ups"), ("login", "Log ins"), ("failure", "Failures"))


def quiet(label: QLabel) -> QLabel:
    """Secondary text: the palette's placeholder colour (follows light/dark palettes, stays readable)."""
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


class _Swatch(QWidget):
    """A small square in a badge's colour (follows the palette, like the badges)."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind = kind
        side = max(8, self.fontMetrics().height() // 2 + 2)
        self.setFixedSize(QSize(side, side))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(badge_colors(self._kind, self.palette())[0])
        painter.drawRoundedRect(self.rect(), 2, 2)
        painter.end()


class FeedCounters(QFrame):
    """``labels["<kind>_hour"|"<kind>_today"]`` for kinds signup, login, failure; :meth:`show_counts` fills them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("feedCounters")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(2)
        for column, title in ((2, "Last hour"), (3, "Today")):
            grid.addWidget(quiet(plain(QLabel(title))), 0, column, Qt.AlignmentFlag.AlignRight)
        self.labels: dict[str, QLabel] = {}
        for row, (kind, title) in enumerate(ROWS, start=1):
            grid.addWidget(_Swatch(kind), row, 0, Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(plain(QLabel(title)), row, 1)
            for column, span in ((2, "hour"), (3, "today")):
                value = plain(QLabel("0"))
                value.setObjectName(f"{kind}_{span}")
                value.setAccessibleName(f"{title} {'in the last hour' if span == 'hour' else 'today'}")
                font = value.font()
                font.setBold(True)
                font.setPointSizeF(font.pointSizeF() * 1.25 if font.pointSizeF() > 0 else 12)
                value.setFont(font)
                value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                grid.addWidget(value, row, column)
                self.labels[f"{kind}_{span}"] = value
        grid.setRowStretch(len(ROWS) + 1, 1)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)

    def show_counts(self, counts: Counts) -> None:
        values = {"signup_hour": counts.signups_hour, "login_hour": counts.logins_hour,
                  "failure_hour": counts.failures_hour, "signup_today": counts.signups_today,
                  "login_today": counts.logins_today, "failure_today": counts.failures_today}
        for key, value in values.items():
            self.labels[key].setText(f"{value:,}")
