"""Filters for the feed: event kind, outcome (failures only is one click), country, and a case-insensitive
text search (names, email, ids, IP, reason, device ...).

The filtering itself is Qt's (C++): one regular expression over ``FeedModel.FilterRole``. With no filter
set the pattern is empty and Qt accepts inserted rows without calling into Python at all; a Python
``filterAcceptsRow`` ran once per inserted row and, under a burst, made the GUI thread queue for the
interpreter lock behind the engine thread for every single row (measured: 450 ms stalls).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, QRegularExpression, QSortFilterProxyModel

from desktop.feed.kinds import TYPE_LABELS
from desktop.feed.model import FeedModel

TYPES = tuple(TYPE_LABELS)
OUTCOMES = ("success", "failure", "warning")


class FeedFilterProxy(QSortFilterProxyModel):
    """Keeps the source order (newest first); each setter refilters once, and only if something changed."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._feed: FeedModel | None = None
        self._type: str | None = None
        self._country: str | None = None
        self._outcome: str | None = None
        self._needle = ""
        self._terms: tuple[str, ...] = ()
        #: True while a filter change adds and removes rows (views: these are not new events)
        self.refiltering = False
        self._only: QRegularExpression | None = None  # the events behind an alert (issue 15)
        self.setFilterRole(FeedModel.FilterRole)

    def setSourceModel(self, model: FeedModel) -> None:  # type: ignore[override]
        if not isinstance(model, FeedModel):
            raise TypeError("FeedFilterProxy filters a FeedModel")
        self._feed = model
        super().setSourceModel(model)

    # -- filters ----------------------------------------------------------------------------------------
    @property
    def type_filter(self) -> str | None:
        return self._type

    @property
    def country_filter(self) -> str | None:
        return self._country

    @property
    def search_text(self) -> str:
        return self._needle

    @property
    def outcome_filter(self) -> str | None:
        return self._outcome

    def set_outcome_filter(self, outcome: str | None) -> None:
        """``"failure"``, ``"warning"``, ``"success"``, or None for every outcome."""
        outcome = outcome or None
        if outcome is not None and outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        self.set_filters(kind=self._type, country=self._country, text=self._needle, outcome=outcome)

    def set_type_filter(self, kind: str | None) -> None:
        """``"signup"``, ``"login"``, ``"unrecognised"``, or None (or ``"all"``) for every type."""
        kind = None if kind in (None, "", "all") else kind
        if kind is not None and kind not in TYPES:
            raise ValueError(f"unknown event type {kind!r}")
        self.set_filters(kind=kind, country=self._country, text=self._needle, outcome=self._outcome)

    def set_country_filter(self, country: str | None) -> None:
        """A country exactly as the events carry it (e.g. ``"FR"``), or None for every country."""
        self.set_filters(kind=self._type, country=country or None, text=self._needle, outcome=self._outcome)

    def set_search_text(self, text: str) -> None:
        """Rows containing every word of ``text`` (in any of the searched fields), ignoring case."""
        self.set_filters(kind=self._type, country=self._country, text=text, outcome=self._outcome)

    def set_filters(self, *, kind: str | None, country: str | None, text: str, outcome: str | None = None) -> None:
        """Set them all at once (one refilter)."""
        needle = " ".join(text.casefold().split())
        if (kind, country, needle, outcome) == (self._type, self._country, self._needle, self._outcome):
            return
        self._type, self._country, self._needle, self._outcome = kind, country, needle, outcome
        self._terms = tuple(needle.split())
        self.refiltering = True
        try:
            self.setFilterRegularExpression(self._pattern())
        finally:
            self.refiltering = False

    def _pattern(self) -> QRegularExpression:
        """``^`` and one lookahead per condition; empty (accept everything, no Python) without filters."""
        if self._only is not None:
            return self._only
        escape = QRegularExpression.escape
        parts = []
        if self._type is not None:
            parts.append(f"(?=\\x1f{escape(self._type)}\\x1f)")
        if self._country is not None:
            parts.append(f"(?=\\x1f[^\\x1f]*\\x1f{escape(self._country.casefold())}\\x1f)")
        if self._outcome is not None:
            parts.append(f"(?=\\x1f[^\\x1f]*\\x1f[^\\x1f]*\\x1f{escape(self._outcome)}\\x1f)")
        parts.extend(f"(?=[\\s\\S]*{escape(term)})" for term in self._terms)
        if not parts:
            return QRegularExpression()
        return QRegularExpression("^" + "".join(parts))

    def is_filtering(self) -> bool:
        return bool(self._type or self._country or self._needle or self._outcome) or self._only is not None

    @property
    def showing_only(self) -> bool:
        return self._only is not None

    def show_only(self, log_ids: Iterable[str]) -> None:
        """Only the rows with these ``log_id`` (the events behind an alert), whatever the other filters say, until
        :meth:`show_all`: still Qt's filtering, one alternation over ``FeedModel.LogIdRole``."""
        ids = sorted({log_id for log_id in log_ids if log_id})
        alternation = "|".join(QRegularExpression.escape(log_id) for log_id in ids) or "(?!)"
        self._only = QRegularExpression(f"^(?:{alternation})$")
        self._refilter_on(FeedModel.LogIdRole)

    def show_all(self) -> None:
        """Back to the other filters."""
        if self._only is not None:
            self._only = None
            self._refilter_on(FeedModel.FilterRole)

    def _refilter_on(self, role: int) -> None:
        self.refiltering = True
        try:
            self.setFilterRole(role)
            self.setFilterRegularExpression(self._pattern())
        finally:
            self.refiltering = False

    # -- helpers ----------------------------------------------------------------------------------------
    def countries(self) -> list[str]:
        """Every country present in the source model, sorted (for the country combo)."""
        if self._feed is None:
            return []
        return sorted({ev.country for ev in self._feed.events() if ev.country})

    def visible_events(self) -> list:
        """The FeedEvents the view shows, top to bottom."""
        feed = self._feed
        if feed is None:
            return []
        return [feed.event_at(self.mapToSource(self.index(row, 0)).row()) for row in range(self.rowCount())]
