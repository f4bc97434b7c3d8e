"""The Alerts panel's model: one row per alert (``log_id``), newest ``last_at`` first, and who acknowledged what.

An update of an alert (same ``log_id``, more ``updates``) replaces its row, moving it to the top when it is now
the newest; an older or equal version (a catch-up repeating what came live, the history's first version)
changes nothing. Acknowledgements are per person (the signed-in user, or the local identity) and kept in the
window's settings file as the ``updates`` acknowledged, so a later update re-opens the alert.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, QSettings, Qt, Signal

from desktop.alerts.record import AlertRecord, is_open

__all__ = ["MAX_ALERTS", "Acknowledgements", "AlertsModel"]

MAX_ALERTS = 1_000
"""Rows kept at most (the oldest go first); acknowledgements of alerts gone stay in the settings file."""
MAX_ACKS = 5_000

Index = QModelIndex | QPersistentModelIndex


class Acknowledgements:
    """log_id -> the ``updates`` a person acknowledged, in a QSettings group per person (hashed: a user id
    like ``auth0|abc`` has characters QSettings keys do not keep, and the file need not name people)."""

    def __init__(self, settings: QSettings | None) -> None:
        self._settings = settings
        self._group = ""
        self.seen: dict[str, int] = {}

    def set_person(self, person: str) -> None:
        self._group = "alerts_ack/" + hashlib.sha256(person.encode("utf-8", "replace")).hexdigest()[:16]
        self.seen = {}
        if self._settings is None:
            return
        self._settings.beginGroup(self._group)
        try:
            for key in self._settings.childKeys():
                value = self._settings.value(key)
                try:
                    self.seen[key] = int(value)  # type: ignore[call-overload]
                except (TypeError, ValueError):
                    continue
        finally:
            self._settings.endGroup()

    def acknowledge(self, records: Iterable[AlertRecord]) -> None:
        """This person has seen ``records`` as they are now; written to the file once for all of them."""
        records = list(records)
        for record in records:
            self.seen.pop(record.log_id, None)  # re-inserted last: the newest acknowledgement is trimmed last
            self.seen[record.log_id] = record.updates
        if self._settings is None or not self._group or not records:
            return
        for record in records:
            self._settings.setValue(f"{self._group}/{record.log_id}", record.updates)
        if len(self.seen) > MAX_ACKS:  # the oldest alerts' acknowledgements: their alerts are long gone
            for old in list(self.seen)[: len(self.seen) - MAX_ACKS]:
                del self.seen[old]
                self._settings.remove(f"{self._group}/{old}")
        self._settings.sync()


class AlertsModel(QAbstractListModel):
    """Rows of :class:`AlertRecord`; ``RecordRole`` gives the record, ``OpenRole`` whether it is unacknowledged."""

    RecordRole = Qt.ItemDataRole.UserRole + 1
    OpenRole = Qt.ItemDataRole.UserRole + 2
    #: how many alerts are open (not acknowledged by this person, or updated since)
    open_count_changed = Signal(int)

    def __init__(self, settings: QSettings | None = None, parent: QObject | None = None, *,
                 max_rows: int = MAX_ALERTS) -> None:
        super().__init__(parent)
        self.acks = Acknowledgements(settings)
        self._rows: list[AlertRecord] = []
        self._keys: list[float] = []  # -last_at, ascending with the rows
        self._max_rows = max_rows
        self._open = 0

    # -- Qt ---------------------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        record = self._rows[index.row()]
        if role == self.RecordRole:
            return record
        if role == self.OpenRole:
            return is_open(record, self.acks.seen)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{record.severity} alert. {record.title}. {record.reason}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return record.reason
        return None

    # -- API --------------------------------------------------------------------------------------------
    def record_at(self, row: int) -> AlertRecord:
        return self._rows[row]

    def row_of(self, log_id: str) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r.log_id == log_id), None)

    @property
    def open_count(self) -> int:
        return self._open

    def upsert(self, records: Iterable[AlertRecord]) -> list[AlertRecord]:
        """Add or update; returns the alerts this model did not hold before (the ones worth a notification)."""
        new: list[AlertRecord] = []
        for record in records:
            row = self.row_of(record.log_id)
            if row is None:
                new.append(record)
            elif record.updates <= self._rows[row].updates:
                continue  # a repeat, or older than what is shown
            elif self._stays(row, -record.last_at):  # the usual update: the top row stays on top, selected
                self._rows[row] = record
                self._keys[row] = -record.last_at
                self.dataChanged.emit(self.index(row), self.index(row))
                continue
            else:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row], self._keys[row]
                self.endRemoveRows()
            key = -record.last_at
            at = bisect.bisect_left(self._keys, key)  # equal times: the latest news first
            self.beginInsertRows(QModelIndex(), at, at)
            self._rows.insert(at, record)
            self._keys.insert(at, key)
            self.endInsertRows()
        if len(self._rows) > self._max_rows:
            first = self._max_rows
            self.beginRemoveRows(QModelIndex(), first, len(self._rows) - 1)
            del self._rows[first:], self._keys[first:]
            self.endRemoveRows()
        self._recount()
        return [r for r in new if self.row_of(r.log_id) is not None]

    def _stays(self, row: int, key: float) -> bool:
        keys = self._keys
        return (row == 0 or keys[row - 1] < key) and (row + 1 == len(keys) or keys[row + 1] >= key)

    def acknowledge(self, row: int) -> None:
        """This person has seen the alert at ``row`` as it is now."""
        if 0 <= row < len(self._rows):
            self.acks.acknowledge([self._rows[row]])
            index = self.index(row)
            self.dataChanged.emit(index, index, [self.OpenRole])
            self._recount()

    def acknowledge_all(self) -> int:
        """This person has seen every alert listed, each as it is now (a later update opens it again, as after
        :meth:`acknowledge`); returns how many were open."""
        seen = self.acks.seen
        opened = [r for r in self._rows if is_open(r, seen)]
        if opened:
            self.acks.acknowledge(opened)
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1), [self.OpenRole])
            self._recount()
        return len(opened)

    def set_person(self, person: str) -> None:
        """Whose acknowledgements count (signed in as someone else: theirs)."""
        self.acks.set_person(person)
        if self._rows:
            self.dataChanged.emit(self.index(0), self.index(len(self._rows) - 1), [self.OpenRole])
        self._recount()

    def _recount(self) -> None:
        seen = self.acks.seen
        count = sum(1 for r in self._rows if is_open(r, seen))
        if count != self._open:
            self._open = count
            self.open_count_changed.emit(count)
