"""Filters for the feed: event type, country, and a case-insensitive text search.

``filterAcceptsRow`` runs for every inserted row of every batch, so it reads the :class:`FeedModel`
directly (no ``QModelIndex``/``data()`` round trip) and returns at once when no filter is set.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel

from desktop.feed.model import FeedModel

TYPES = ("signup", "login", "unrecognised")


class FeedFilterProxy(QSortFilterProxyModel):
    """Keeps the source order (newest first); each setter refilters once, and only if something changed."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._feed: FeedModel | None = None
        self._type: str | None = None
        self._country: str | None = None
        self._needle = ""
        self._terms: tuple[str, ...] = ()
        #: True while a filter change adds and removes rows (views: these are not new events)
        self.refiltering = False

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

    def set_type_filter(self, kind: str | None) -> None:
        """``"signup"``, ``"login"``, ``"unrecognised"``, or None (or ``"all"``) for every type."""
        kind = None if kind in (None, "", "all") else kind
        if kind is not None and kind not in TYPES:
            raise ValueError(f"unknown event type {kind!r}")
        self.set_filters(kind=kind, country=self._country, text=self._needle)

    def set_country_filter(self, country: str | None) -> None:
        """A country exactly as the events carry it (e.g. ``"FR"``), or None for every country."""
        self.set_filters(kind=self._type, country=country or None, text=self._needle)

    def set_search_text(self, text: str) -> None:
        """Rows containing every word of ``text`` (in any of the searched fields), ignoring case."""
        self.set_filters(kind=self._type, country=self._country, text=text)

    def set_filters(self, *, kind: str | None, country: str | None, text: str) -> None:
        """Set all three at once (one refilter)."""
        needle = " ".join(text.casefold().split())
        if (kind, country, needle) == (self._type, self._country, self._needle):
            return
        self.beginFilterChange()
        self._type, self._country, self._needle = kind, country, needle
        self._terms = tuple(needle.split())
        self.refiltering = True
        try:
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        finally:
            self.refiltering = False

    def is_filtering(self) -> bool:
        return bool(self._type or self._country or self._needle)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not (self._type or self._country or self._needle):
            return True
        feed = self._feed
        if feed is None:
            return True
        ev = feed.event_at(source_row)
        if self._type is not None and ev.type != self._type:
            return False
        if self._country is not None and ev.country != self._country:
            return False
        if not self._terms:
            return True
        blob = feed.search_blob(source_row)
        return all(term in blob for term in self._terms)

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
