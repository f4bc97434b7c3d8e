"""The country filter's choices: the countries the list holds, kept in step with the rows.

Apart from the panel because hostile input reaches it: a "country" is any string an event carries, so the
choices are rebuilt from what the list still holds (never grown without bound) and long ones are not offered.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QComboBox

from desktop.feed.events import FeedEvent
from desktop.feed.filters import FeedFilterProxy
from desktop.feed.model import plain_line

__all__ = ["MAX_COUNTRY_CHARS", "CountryChoices"]

MAX_COUNTRY_CHARS = 64  # longer "countries" are searchable but not offered in the combo


class CountryChoices:
    """Fills ``combo`` ("All countries", then each country the ``proxy``'s source lists) as events arrive."""

    def __init__(self, combo: QComboBox, proxy: FeedFilterProxy) -> None:
        self.combo = combo
        self.proxy = proxy
        self._countries: set[str] = set()

    def note(self, batch: Iterable[FeedEvent]) -> None:
        """Events just listed: offer their countries (the combo is rebuilt only when one is new)."""
        known = self._countries
        new = {ev.country for ev in batch if ev.country and ev.country not in known}
        if not new:
            return
        # Rebuilt from what the list holds, so hostile "countries" cannot grow the combo without bound.
        self._countries = {c for c in self.proxy.countries() if len(c) <= MAX_COUNTRY_CHARS}
        self._rebuild()

    def clear(self) -> None:
        """The list was emptied: only "All countries" (and the active filter, if any) stay."""
        self._countries.clear()
        self._rebuild()

    def _rebuild(self) -> None:
        combo = self.combo
        current = combo.currentData()
        combo.blockSignals(True)
        try:
            combo.clear()
            combo.addItem("All countries", None)
            choices = set(self._countries)
            if current:
                choices.add(current)  # the active filter stays selectable even if its rows are gone
            for country in sorted(choices):
                combo.addItem(plain_line(country, MAX_COUNTRY_CHARS), country)
            combo.setCurrentIndex(max(0, combo.findData(current)) if current else 0)
        finally:
            combo.blockSignals(False)
