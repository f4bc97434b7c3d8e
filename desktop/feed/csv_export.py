"""The window's "Export CSV": where to save (one dialog for the toolbar button and the File menu) and the
writing, with the sentence a person reads afterwards.

The rows go through :func:`~desktop.feed.serialise.write_csv`, the one CSV writer (``export`` uses it too); this
module adds only what the window needs around it: the UTF-8 BOM spreadsheets expect, and a failure that becomes
a sentence instead of an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from desktop.feed.events import FeedEvent
from desktop.feed.serialise import write_csv

__all__ = ["ask_csv_path", "export_csv"]

log = logging.getLogger("desktop.feed")


def ask_csv_path(parent: QWidget) -> str:
    """The file the person chose in a save dialog, or "" when they cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export visible rows", "login-feed.csv", "CSV files (*.csv)")
    return path


def export_csv(events: Iterable[FeedEvent], path: str | Path) -> tuple[int | None, str]:
    """Write ``events`` to ``path``: the count (None on failure) and a person-readable line saying so."""
    try:
        with open(path, "wb") as handle:
            count = write_csv(events, handle, bom=True)  # the BOM: spreadsheets then read UTF-8 right
    except OSError as exc:
        log.warning("CSV export failed: %s", exc)
        return None, f"Could not export to {Path(path).name}: {exc.strerror or exc}"
    return count, f"Exported {count:,} row{'s' if count != 1 else ''} to {Path(path).name}"
