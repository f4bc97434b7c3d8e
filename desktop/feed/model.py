"""The feed's rows: newest on top, capped, one ranged insert per batch.

Each row is the :class:`FeedEvent` itself (no wrapper object per row). Text shown from here is plain text
with control and bidi characters neutralised (:func:`plain_line`); a name like ``<b>x</b>`` stays literal.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from desktop.feed.events import FeedEvent
from desktop.feed.kinds import TYPE_LABELS, outcome_of
from desktop.feed.stats import event_time
from desktop.util.text import one_line

DEFAULT_MAX_ROWS = 5_000
ORDER_SLACK_SECONDS = 5.0
"""How much older than the newest row an event may be and still go on top in arrival order (see ``add_events``)."""
MAX_LINE_CHARS = 300
"""Painted text is elided to the row's width anyway; this only bounds the work for hostile 1,000-char fields."""

_SEARCH_FIELDS = ("name", "email", "user_id", "connection", "client_name", "country", "city", "ip", "label", "reason",
                  "device")

Index = QModelIndex | QPersistentModelIndex


def plain_line(text: str | None, limit: int = MAX_LINE_CHARS) -> str:
    """One safe line (:func:`desktop.util.text.one_line`), clipped to ``limit``."""
    return one_line(text, limit)


def who(ev: FeedEvent) -> str:
    """The row's headline: a person's name, else nickname, email or id; for unrecognised events the event name."""
    if ev.type == "unrecognised":
        return ev.event or "(no event name)"
    return ev.name or ev.nickname or ev.email or ev.user_id or "(unknown user)"


def place(ev: FeedEvent) -> str:
    return " · ".join(plain_line(p, 60) for p in (ev.country, ev.city) if p)


def via(ev: FeedEvent) -> str:
    return " / ".join(plain_line(p, 120) for p in (ev.connection, ev.client_name) if p)


def local_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch).astimezone()


def exact_local_time(ev: FeedEvent) -> str:
    """``Sat 21 Nov 2026 06:01:02 CET``, with a note when the producer sent no time of its own."""
    try:
        text = local_datetime(event_time(ev)).strftime("%a %d %b %Y %H:%M:%S %Z")
    except (OverflowError, OSError, ValueError):
        return "unknown time"
    return text if ev.at else f"{text} (received; the event carried no time)"


def search_blob(ev: FeedEvent) -> str:
    """Casefolded searchable text of one event (fields joined by a newline, which no search term contains)."""
    return "\n".join([v for v in (getattr(ev, f) for f in _SEARCH_FIELDS) if v]).casefold()


class FeedModel(QAbstractListModel):
    """Rows newest first; :meth:`add_events` takes a batch in arrival order (oldest to newest)."""

    EventRole = int(Qt.ItemDataRole.UserRole) + 1  #: the FeedEvent
    TypeRole = EventRole + 1  #: "signup" | "login" | "unrecognised"
    CountryRole = EventRole + 2  #: the country as sent ("" when absent)
    SortRole = EventRole + 3  #: event time, epoch seconds (float)
    SearchRole = EventRole + 4  #: casefolded text the search box matches against
    #: ``\x1f<type>\x1f<country>\x1f<outcome>\x1f`` + the search text: what the proxy's (C++) regular expression
    #: filters on
    FilterRole = EventRole + 5
    LogIdRole = EventRole + 6  #: the log_id ("" for v1 events): the events behind an alert are filtered on it

    def __init__(self, max_rows: int = DEFAULT_MAX_ROWS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self._max_rows = max_rows
        self._rows: list[FeedEvent] = []
        self._blobs: list[str | None] = []  # search text, computed on first use (only while searching)
        self._keys: list[float] = []  # -event_time of each row: ascending while the rows are in time order

    @property
    def max_rows(self) -> int:
        return self._max_rows

    # -- Qt model API -----------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = index.row()
        if not index.isValid() or not 0 <= row < len(self._rows):
            return None
        ev = self._rows[row]
        if role == _EVENT:
            return ev
        if role == _DISPLAY:
            return self._summary(ev)
        if role == _TYPE:
            return ev.type
        if role == _COUNTRY:
            return ev.country or ""
        if role == _SORT:
            return event_time(ev)
        if role == _SEARCH:
            return self.search_blob(row)
        if role == _FILTER:
            return (f"\x1f{ev.type}\x1f{(ev.country or '').casefold()}\x1f{outcome_of(ev)}\x1f"
                    f"{self.search_blob(row)}")
        if role == _TOOLTIP:
            return exact_local_time(ev)
        if role == _LOG_ID:
            return ev.log_id or ""
        return None

    # -- feed API ---------------------------------------------------------------------------------------
    def add_events(self, events: Sequence[FeedEvent]) -> None:
        """Put ``events`` (oldest first) in time order: on top, in arrival order, when they are the newest give or
        take :data:`ORDER_SLACK_SECONDS` (the live case: one ranged insert; a producer's clock or the delivery may
        lag by that much without reordering what arrived); else each where its time puts it (caught-up events),
        in as few ranged inserts as there are runs. Then the oldest rows beyond the cap go (one ranged removal)."""
        batch = list(events)
        if not batch:
            return
        times = [-event_time(ev) for ev in batch]  # negated: the rows (newest first) ascend in these
        slack = ORDER_SLACK_SECONDS
        # A live batch that also holds old events: the old ones merge where their time puts them, the live ones
        # (within the slack of the newest time listed or arriving) go on top in arrival order.
        top = min(*times, self._keys[0]) if self._keys else min(times)  # the newest time (negated)
        live = [i for i, t in enumerate(times) if t <= top + slack]
        if 0 < len(live) < len(batch):
            old = [i for i, t in enumerate(times) if t > top + slack]
            self._merge([batch[i] for i in old], [times[i] for i in old])
            self._trim(len(self._rows) - self._max_rows)
            self.add_events([batch[i] for i in live])
            return
        in_order = all(a + slack >= b for a, b in itertools.pairwise(times))
        if not in_order or (self._keys and max(times) > self._keys[0] + slack):  # older than the top: merge
            self._merge(batch, times)
            self._trim(len(self._rows) - self._max_rows)
            return
        if len(batch) > self._max_rows:  # only the newest can stay anyway
            batch, times = batch[-self._max_rows:], times[-self._max_rows:]
        self._trim(len(self._rows) + len(batch) - self._max_rows)  # first: the view never holds more than the cap
        batch.reverse()
        times.reverse()
        self.beginInsertRows(QModelIndex(), 0, len(batch) - 1)
        self._rows[0:0] = batch
        self._keys[0:0] = times
        self._blobs[0:0] = [None] * len(batch)
        self.endInsertRows()

    def _trim(self, overflow: int) -> None:
        """Remove the ``overflow`` oldest rows at the bottom (one ranged removal)."""
        if overflow <= 0:
            return
        present = len(self._rows)
        self.beginRemoveRows(QModelIndex(), present - overflow, present - 1)
        del self._rows[present - overflow:]
        del self._keys[present - overflow:]
        del self._blobs[present - overflow:]
        self.endRemoveRows()

    def _merge(self, batch: Sequence[FeedEvent], times: Sequence[float]) -> None:
        """Insert each event before the first row older than it (after rows of the same time: arrival order)."""
        order = sorted(range(len(batch)), key=lambda i: (times[i], -i))  # newest first; later arrival first
        runs: list[tuple[int, list[int]]] = []  # (row to insert before, batch indices), top to bottom
        for i in order:
            where = bisect.bisect_right(self._keys, times[i])
            if runs and runs[-1][0] == where:
                runs[-1][1].append(i)
            else:
                runs.append((where, [i]))
        for where, members in reversed(runs):  # bottom first: the rows above keep their positions
            self.beginInsertRows(QModelIndex(), where, where + len(members) - 1)
            self._rows[where:where] = [batch[i] for i in members]
            self._keys[where:where] = [times[i] for i in members]
            self._blobs[where:where] = [None] * len(members)
            self.endInsertRows()

    def replace_event(self, old: FeedEvent, new: FeedEvent) -> bool:
        """Put ``new`` in the row that holds ``old`` (the same object), in place; False when ``old`` is not listed."""
        for row, ev in enumerate(self._rows):
            if ev is old:
                self._rows[row] = new
                self._blobs[row] = None
                index = self.index(row, 0)
                self.dataChanged.emit(index, index)
                return True
        return False

    def clear(self) -> None:
        if not self._rows:
            return
        self.beginRemoveRows(QModelIndex(), 0, len(self._rows) - 1)
        self._rows.clear()
        self._keys.clear()
        self._blobs.clear()
        self.endRemoveRows()

    def event_at(self, row: int) -> FeedEvent:
        """The event in ``row`` (0 is the newest); IndexError outside the model."""
        if not 0 <= row < len(self._rows):
            raise IndexError(row)
        return self._rows[row]

    def search_blob(self, row: int) -> str:
        blob = self._blobs[row]
        if blob is None:
            blob = self._blobs[row] = search_blob(self._rows[row])
        return blob

    def events(self) -> list[FeedEvent]:
        """A copy of all rows, newest first."""
        return list(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    @staticmethod
    def _summary(ev: FeedEvent) -> str:
        parts = [TYPE_LABELS.get(ev.type, ev.type), plain_line(who(ev))]
        if ev.type == "unrecognised":
            parts.append(plain_line(ev.reason))
        elif ev.email and ev.email != who(ev):
            parts.append(plain_line(ev.email))
        parts += [place(ev), via(ev)]
        with contextlib.suppress(OverflowError, OSError, ValueError):
            parts.append(local_datetime(event_time(ev)).strftime("%H:%M:%S"))
        return " · ".join(p for p in parts if p)


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_EVENT = FeedModel.EventRole
_TYPE = FeedModel.TypeRole
_COUNTRY = FeedModel.CountryRole
_SORT = FeedModel.SortRole
_SEARCH = FeedModel.SearchRole
_FILTER = FeedModel.FilterRole
_LOG_ID = FeedModel.LogIdRole
