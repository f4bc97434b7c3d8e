"""Who from the team is online: the members of the presence channel as a Qt list model, sorted by name.

Fed with the engine's presence events (``desktop/pusher/subscriptions.py``):
``pusher:subscription_succeeded`` with ``{"count", "me": {"id", "info"} | None, "members": [{"id", "info"}]}``,
``pusher:member_added`` and ``pusher:member_removed`` with ``{"id", "info"}``.
"""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from desktop.chat.messages import MAX_ID_CHARS, clean_name

SUBSCRIBED = "pusher:subscription_succeeded"
MEMBER_ADDED = "pusher:member_added"
MEMBER_REMOVED = "pusher:member_removed"
PRESENCE_EVENTS = frozenset({SUBSCRIBED, MEMBER_ADDED, MEMBER_REMOVED})
#: A roster bigger than this is cut (Pusher allows 100 members per presence channel).
MAX_MEMBERS = 1000

_Index = QModelIndex | QPersistentModelIndex


class PresenceRole(enum.IntEnum):
    ID = Qt.ItemDataRole.UserRole + 1
    NAME = enum.auto()
    ME = enum.auto()


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    name: str
    me: bool = False

    @property
    def sort_key(self) -> tuple[bool, str, str]:
        return (not self.me, self.name.casefold(), self.id)


def member_from(entry: Any, my_id: str | None) -> Member | None:
    """A member from ``{"id", "info"}``: the name is ``info.name`` when it is text, else the id."""
    if not isinstance(entry, dict) or entry.get("id") is None:
        return None
    member_id = str(entry["id"])[:MAX_ID_CHARS]
    info = entry.get("info")
    name = info.get("name") if isinstance(info, dict) else None
    shown = clean_name(name) if isinstance(name, str) and name.strip() else clean_name(member_id)
    return Member(member_id, shown, me=member_id == my_id)


class PresenceModel(QAbstractListModel):
    """Online members, me first, then by name."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._members: list[Member] = []
        self._me: str | None = None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own default
        return 0 if parent.isValid() else len(self._members)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._members) or index.column() != 0:
            return None
        member = self._members[index.row()]
        match role:
            case Qt.ItemDataRole.DisplayRole:
                return f"{member.name} (you)" if member.me else member.name
            case Qt.ItemDataRole.ToolTipRole:
                return f"{member.name}\nid: {member.id}"
            case PresenceRole.ID:
                return member.id
            case PresenceRole.NAME:
                return member.name
            case PresenceRole.ME:
                return member.me
        return None

    def members(self) -> list[Member]:
        return list(self._members)

    def handle_event(self, event: str, data: Any) -> bool:
        """Apply one presence event; True if it was one."""
        if event == SUBSCRIBED:
            self.reset(data)
        elif event == MEMBER_ADDED:
            member = member_from(data, self._me)
            if member is not None:
                self._add(member)
        elif event == MEMBER_REMOVED:
            if isinstance(data, dict) and data.get("id") is not None:
                self._remove(str(data["id"]))
        else:
            return False
        return True

    def reset(self, data: Any) -> None:
        """The whole roster from a ``pusher:subscription_succeeded`` snapshot."""
        data = data if isinstance(data, dict) else {}
        me = data.get("me")
        self._me = str(me["id"]) if isinstance(me, dict) and me.get("id") is not None else None
        entries = data.get("members")
        by_id: dict[str, Member] = {}
        for entry in (entries if isinstance(entries, list) else [])[:MAX_MEMBERS]:
            member = member_from(entry, self._me)
            if member is not None:
                by_id[member.id] = member
        self.beginResetModel()
        self._members = sorted(by_id.values(), key=lambda m: m.sort_key)
        self.endResetModel()

    def clear(self) -> None:
        """Nobody known to be online (the connection is down)."""
        if self._members:
            self.beginResetModel()
            self._members = []
            self.endResetModel()

    def _add(self, member: Member) -> None:
        self._remove(member.id)
        if len(self._members) >= MAX_MEMBERS:
            return
        keys = [m.sort_key for m in self._members]
        row = bisect.bisect_left(keys, member.sort_key)
        self.beginInsertRows(QModelIndex(), row, row)
        self._members.insert(row, member)
        self.endInsertRows()

    def _remove(self, member_id: str) -> None:
        for row, member in enumerate(self._members):
            if member.id == member_id:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._members[row]
                self.endRemoveRows()
                return
