"""Paints one chat message as a bubble: sender in bold, time, wrapped text, and how sending went.

Plain text only: every string is laid out with ``QTextLayout``/``drawText``, never as markup. Own messages
sit on the right in a tint of the highlight colour; pending ones are dim; failed ones carry the reason in
red and a "Retry" link (a click on it emits ``retry_requested``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QMouseEvent, QPainter, QPalette, QTextLayout, QTextOption
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from desktop.chat.messages import ChatMessage
from desktop.chat.model import ChatRole

_Index = QModelIndex | QPersistentModelIndex

ROW_MARGIN_X = 8
ROW_MARGIN_Y = 3
PAD_X = 10
PAD_Y = 6
GAP = 3
BUBBLE_SHARE = 0.82  #: widest a bubble gets, as a share of the row
MIN_BUBBLE_WIDTH = 120
RADIUS = 8
RETRY = "Retry"
SENDING = "Sending…"
_SIZE_CACHE_MAX = 5000


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightnessF() < 0.5


def error_color(palette: QPalette) -> QColor:
    return QColor("#ff7b72") if is_dark(palette) else QColor("#c62828")


def warning_color(palette: QPalette) -> QColor:
    return QColor("#e3b341") if is_dark(palette) else QColor("#9a6700")


def _mix(a: QColor, b: QColor, share_b: float) -> QColor:
    share_a = 1.0 - share_b
    return QColor.fromRgbF(a.redF() * share_a + b.redF() * share_b, a.greenF() * share_a + b.greenF() * share_b,
                           a.blueF() * share_a + b.blueF() * share_b)


def format_time(at: float, now: float | None = None) -> str:
    """``14:05`` today, ``3 Mar 14:05`` on other days."""
    local = time.localtime(at)
    today = time.localtime(time.time() if now is None else now)
    if local[:3] == today[:3]:
        return time.strftime("%H:%M", local)
    return f"{local.tm_mday} {time.strftime('%b %H:%M', local)}"


def _text_layout(text: str, font: QFont, width: float) -> tuple[QTextLayout, float, float]:
    """``text`` wrapped at word boundaries (or anywhere, for long words) to ``width``: layout, height, widest."""
    layout = QTextLayout(text.replace("\n", "\u2028"), font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    layout.setTextOption(option)
    height = widest = 0.0
    layout.beginLayout()
    while True:
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        line.setPosition(QPointF(0, height))
        height += line.height()
        widest = max(widest, line.naturalTextWidth())
    layout.endLayout()
    return layout, height, widest


@dataclass(slots=True)
class _Geometry:
    bubble: QRectF
    name: str
    name_pos: QPointF
    time_text: str
    time_pos: QPointF
    body: QTextLayout
    body_pos: QPointF
    footer: QTextLayout | None
    footer_pos: QPointF
    retry: QRectF | None
    height: int


class ChatDelegate(QStyledItemDelegate):
    """Bubbles for :class:`desktop.chat.model.ChatModel` rows in a ``QListView``."""

    #: message id of a failed own message whose "Retry" was clicked
    retry_requested = Signal(str)

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self._view = view
        self._sizes: dict[tuple[Any, ...], int] = {}

    # -- fonts ------------------------------------------------------------------------------------
    @staticmethod
    def _fonts(base: QFont) -> tuple[QFont, QFont, QFont]:
        name = QFont(base)
        name.setBold(True)
        small = QFont(base)
        if base.pointSizeF() > 0:
            small.setPointSizeF(max(6.0, base.pointSizeF() * 0.85))
        elif base.pixelSize() > 0:
            small.setPixelSize(max(8, round(base.pixelSize() * 0.85)))
        return name, QFont(base), small

    @staticmethod
    def _link_font(small: QFont) -> QFont:
        link = QFont(small)
        link.setUnderline(True)
        link.setBold(True)
        return link

    def _row_width(self, option_width: int) -> int:
        """Rows are as wide as the viewport (the option's rect carries no width when Qt asks for a size)."""
        viewport = self._view.viewport().width()
        return max(MIN_BUBBLE_WIDTH + 2 * ROW_MARGIN_X, viewport if viewport > 0 else option_width)

    # -- geometry ---------------------------------------------------------------------------------
    def _geometry(self, message: ChatMessage, rect: QRect, font: QFont) -> _Geometry:
        name_font, body_font, small_font = self._fonts(font)
        name_fm, small_fm = QFontMetrics(name_font), QFontMetrics(small_font)
        retry_advance = QFontMetrics(self._link_font(small_font)).horizontalAdvance(RETRY)
        row_width = rect.width() - 2 * ROW_MARGIN_X
        max_bubble = max(MIN_BUBBLE_WIDTH, int(row_width * BUBBLE_SHARE))
        inner_max = max_bubble - 2 * PAD_X

        time_text = format_time(message.at)
        time_width = small_fm.horizontalAdvance(time_text)
        name = name_fm.elidedText(message.name, Qt.TextElideMode.ElideRight, max(20, inner_max - time_width - 8))
        header_width = name_fm.horizontalAdvance(name) + 8 + time_width
        header_height = max(name_fm.height(), small_fm.height())

        body, body_height, body_width = _text_layout(message.display, body_font, inner_max)
        footer = None
        footer_height = footer_width = 0.0
        retry_width = 0
        if message.failed:
            retry_width = retry_advance + 10 if message.own else 0
            footer, footer_height, footer_width = _text_layout(message.failed, small_font, inner_max - retry_width)
        elif message.pending:
            footer, footer_height, footer_width = _text_layout(SENDING, small_font, inner_max)

        inner_width = max(header_width, body_width, footer_width + retry_width)
        bubble_width = min(max_bubble, int(inner_width) + 2 * PAD_X + 1)
        bubble_height = (PAD_Y + header_height + GAP + body_height
                         + (GAP + footer_height if footer is not None else 0) + PAD_Y)
        left = (rect.right() - ROW_MARGIN_X - bubble_width + 1) if message.own else rect.left() + ROW_MARGIN_X
        top = rect.top() + ROW_MARGIN_Y
        bubble = QRectF(left, top, bubble_width, bubble_height)
        x = left + PAD_X
        y = top + PAD_Y
        name_pos = QPointF(x, y + name_fm.ascent())
        time_pos = QPointF(x + name_fm.horizontalAdvance(name) + 8, y + name_fm.ascent())
        body_pos = QPointF(x, y + header_height + GAP)
        footer_pos = QPointF(x, body_pos.y() + body_height + GAP)
        retry = None
        if message.failed and message.own:
            retry = QRectF(bubble.right() - PAD_X - retry_advance, footer_pos.y(), retry_advance + 1,
                           small_fm.height())
        height = int(bubble_height + 2 * ROW_MARGIN_Y + 0.999)
        return _Geometry(bubble, name, name_pos, time_text, time_pos, body, body_pos, footer, footer_pos, retry,
                         height)

    # -- Qt ---------------------------------------------------------------------------------------
    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        message: ChatMessage | None = index.data(ChatRole.MESSAGE)
        width = self._row_width(option.rect.width())
        if message is None:
            return QSize(width, QFontMetrics(option.font).height())
        key = (message.id, message.pending, message.failed, width, option.font.key())
        height = self._sizes.get(key)
        if height is None:
            if len(self._sizes) >= _SIZE_CACHE_MAX:
                self._sizes.clear()
            height = self._geometry(message, QRect(0, 0, width, 0), option.font).height
            self._sizes[key] = height
        return QSize(width, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        message: ChatMessage | None = index.data(ChatRole.MESSAGE)
        if message is None:
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget: QWidget | None = opt.widget
        style = widget.style() if widget is not None else None
        painter.save()
        try:
            if style is not None and opt.state & QStyle.StateFlag.State_Selected:
                style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, widget)
            self._paint_message(painter, opt, message)
        finally:
            painter.restore()

    def _paint_message(self, painter: QPainter, opt: QStyleOptionViewItem, message: ChatMessage) -> None:
        palette = opt.palette
        geometry = self._geometry(message, opt.rect, opt.font)
        name_font, _body, small_font = self._fonts(opt.font)
        base, text = palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)
        if message.own:
            fill = _mix(base, palette.color(QPalette.ColorRole.Highlight), 0.30 if is_dark(palette) else 0.18)
        else:
            fill = _mix(base, text, 0.10 if is_dark(palette) else 0.06)
        secondary = _mix(base, text, 0.60)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        if message.pending:
            painter.setOpacity(0.55)
        painter.setPen(Qt.PenStyle.NoPen if not message.failed else error_color(palette))
        painter.setBrush(fill)
        painter.drawRoundedRect(geometry.bubble.adjusted(0.5, 0.5, -0.5, -0.5), RADIUS, RADIUS)

        painter.setPen(text)
        painter.setFont(name_font)
        painter.drawText(geometry.name_pos, geometry.name)
        painter.setPen(secondary)
        painter.setFont(small_font)
        painter.drawText(geometry.time_pos, geometry.time_text)
        painter.setPen(text)
        geometry.body.draw(painter, geometry.body_pos)
        if geometry.footer is not None:
            painter.setPen(error_color(palette) if message.failed else secondary)
            geometry.footer.draw(painter, geometry.footer_pos)
        if geometry.retry is not None:
            painter.setFont(self._link_font(small_font))
            painter.setPen(palette.color(QPalette.ColorRole.Link))
            painter.drawText(geometry.retry, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, RETRY)

    def editorEvent(self, event: QEvent, model: Any, option: QStyleOptionViewItem, index: _Index) -> bool:
        if (event.type() == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent)
                and event.button() == Qt.MouseButton.LeftButton):
            message: ChatMessage | None = index.data(ChatRole.MESSAGE)
            if message is not None and message.failed and message.own:
                geometry = self._geometry(message, option.rect, option.font)
                if geometry.retry is not None and geometry.retry.adjusted(-4, -4, 4, 4).contains(event.position()):
                    self.retry_requested.emit(message.id)
                    return True
        return super().editorEvent(event, model, option, index)

    def retry_rect(self, option: QStyleOptionViewItem, index: _Index) -> QRectF | None:
        """Where "Retry" is drawn for ``index`` (for tests and accessibility helpers)."""
        message: ChatMessage | None = index.data(ChatRole.MESSAGE)
        if message is None:
            return None
        return self._geometry(message, option.rect, option.font).retry
