"""The chat's two custom widgets: the input (Enter sends, Shift+Enter a new line) and the message list (copy gives
a message's whole text; a failed message of one's own offers a retry)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QContextMenuEvent, QFontMetrics, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QFrame, QListView, QMenu, QPlainTextEdit, QWidget

from desktop.chat.messages import ChatMessage
from desktop.chat.model import ChatRole

__all__ = ["ChatInput", "ChatView"]


class ChatInput(QPlainTextEdit):
    """Enter sends (``submitted``); Shift+Enter starts a new line. Plain text only, also when pasting."""

    submitted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        lines = QFontMetrics(self.font()).lineSpacing()
        self.setFixedHeight(lines * 3 + 2 * int(self.document().documentMargin()) + 2 * self.frameWidth() + 4)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if modifiers == Qt.KeyboardModifier.ShiftModifier:
                self.textCursor().insertText("\n")
                self.ensureCursorVisible()
                return
            if modifiers == Qt.KeyboardModifier.NoModifier:
                self.submitted.emit()
                return
        super().keyPressEvent(event)


class ChatView(QListView):
    """The message list: copy (Ctrl+C or the context menu) gives the whole text of a message."""

    retry_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setWordWrap(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAccessibleName("Chat messages")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self._copy(self.currentIndex(), ChatRole.TEXT)
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        index = self.indexAt(event.pos())
        if not index.isValid():
            return
        menu = QMenu(self)
        copy = QAction("Copy message", menu)
        copy.triggered.connect(lambda: self._copy(index, ChatRole.TEXT))
        menu.addAction(copy)
        copy_name = QAction("Copy name", menu)
        copy_name.triggered.connect(lambda: self._copy(index, ChatRole.NAME))
        menu.addAction(copy_name)
        message: ChatMessage | None = index.data(ChatRole.MESSAGE)
        if message is not None and message.own and message.failed:
            retry = QAction("Retry sending", menu)
            retry.triggered.connect(lambda: self.retry_requested.emit(message.id))
            menu.addAction(retry)
        menu.exec(event.globalPos())

    @staticmethod
    def _copy(index: QModelIndex, role: int) -> None:
        value = index.data(role) if index.isValid() else None
        if isinstance(value, str):
            QGuiApplication.clipboard().setText(value)
