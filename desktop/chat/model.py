"""The chat as a Qt list model: oldest first, capped, inserted in ranges."""

from __future__ import annotations

import dataclasses
import enum
import time
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from desktop.chat.messages import ChatMessage

MAX_MESSAGES = 2000

_Index = QModelIndex | QPersistentModelIndex


class ChatRole(enum.IntEnum):
    MESSAGE = Qt.ItemDataRole.UserRole + 1  #: the ChatMessage
    NAME = enum.auto()
    TEXT = enum.auto()  #: the whole text, for copying
    AT = enum.auto()  #: epoch seconds
    OWN = enum.auto()
    PENDING = enum.auto()
    FAILED = enum.auto()  #: the reason, or None


class ChatModel(QAbstractListModel):
    """Messages in arrival order; the oldest go once there are more than ``cap``. Ids are unique."""

    def __init__(self, parent: Any = None, cap: int = MAX_MESSAGES) -> None:
        super().__init__(parent)
        self.cap = cap
        self._messages: list[ChatMessage] = []
        self._ids: set[str] = set()

    # -- Qt -----------------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else len(self._messages)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._messages) or index.column() != 0:
            return None
        message = self._messages[index.row()]
        match role:
            case Qt.ItemDataRole.DisplayRole:
                return f"{message.name}: {message.display}"
            case Qt.ItemDataRole.ToolTipRole:
                when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(message.at))
                state = (f"\n{message.failed}" if message.failed else "\nSending…" if message.pending else "")
                return f"{message.name} · {when}{state}"
            case ChatRole.MESSAGE:
                return message
            case ChatRole.NAME:
                return message.name
            case ChatRole.TEXT:
                return message.text
            case ChatRole.AT:
                return message.at
            case ChatRole.OWN:
                return message.own
            case ChatRole.PENDING:
                return message.pending
            case ChatRole.FAILED:
                return message.failed
        return None

    def roleNames(self) -> dict[int, bytes]:
        names = super().roleNames()
        names.update({role.value: role.name.lower().encode() for role in ChatRole})
        return names

    # -- changes ------------------------------------------------------------------------------------
    def add_incoming(self, messages: Iterable[ChatMessage]) -> int:
        """Append messages (skipping ids already shown); returns how many were added."""
        fresh: list[ChatMessage] = []
        for message in messages:
            if message.id not in self._ids:
                self._ids.add(message.id)
                fresh.append(message)
        if not fresh:
            return 0
        start = len(self._messages)
        self.beginInsertRows(QModelIndex(), start, start + len(fresh) - 1)
        self._messages.extend(fresh)
        self.endInsertRows()
        self._trim()
        return len(fresh)

    def add_own_pending(self, message: ChatMessage) -> None:
        """Our own message, shown at once and marked pending until the sender reports."""
        self.add_incoming([dataclasses.replace(message, own=True, pending=True, failed=None)])

    def mark_sent(self, message_id: str) -> None:
        self._update(message_id, pending=False, failed=None)

    def mark_failed(self, message_id: str, reason: str) -> None:
        self._update(message_id, pending=False, failed=reason)

    def mark_pending(self, message_id: str) -> None:
        """Sending again (Retry)."""
        self._update(message_id, pending=True, failed=None)

    def message(self, message_id: str) -> ChatMessage | None:
        row = self._row_of(message_id)
        return None if row is None else self._messages[row]

    def messages(self) -> list[ChatMessage]:
        return list(self._messages)

    def clear(self) -> None:
        self.beginResetModel()
        self._messages.clear()
        self._ids.clear()
        self.endResetModel()

    def _update(self, message_id: str, **changes: Any) -> None:
        row = self._row_of(message_id)
        if row is None:
            return
        old = self._messages[row]
        new = dataclasses.replace(old, **changes)
        if new == old:
            return
        self._messages[row] = new
        index = self.index(row, 0)
        self.dataChanged.emit(index, index)

    def _row_of(self, message_id: str) -> int | None:
        if message_id not in self._ids:
            return None
        for row in range(len(self._messages) - 1, -1, -1):  # the newest are asked about most
            if self._messages[row].id == message_id:
                return row
        return None

    def _trim(self) -> None:
        excess = len(self._messages) - self.cap
        if excess <= 0:
            return
        self.beginRemoveRows(QModelIndex(), 0, excess - 1)
        for message in self._messages[:excess]:
            self._ids.discard(message.id)
        del self._messages[:excess]
        self.endRemoveRows()
