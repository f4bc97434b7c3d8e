"""History: every received feed event in SQLite in the data directory, restored at start, exportable.

- :mod:`.store`: :class:`HistoryStore`, one SQLite connection (no Qt, no threads); :mod:`.files`: where its
  file lives, and an unreadable one moved aside.
- :mod:`.rows`: events to rows and back; the multi-row ``INSERT``.
- :mod:`.writer`: :class:`HistoryWriter`, a thread that owns the store and commits submitted events in
  batches, so neither the GUI nor the engine ever waits on the disk; retention pruning; a
  :class:`HistoryNotice` to its ``on_notice`` listener when the history fails, recovers or was replaced.
- :mod:`.export`: ``login-feed export``.
"""

from desktop.history.files import HISTORY_FILE_NAME, default_data_dir, ensure_data_dir, history_path, open_store
from desktop.history.store import HistoryError, HistoryStore, parse_since
from desktop.history.writer import DEFAULT_KEEP_DAYS, HistoryNotice, HistoryWriter, WriterStats

__all__ = [
    "DEFAULT_KEEP_DAYS",
    "HISTORY_FILE_NAME",
    "HistoryError",
    "HistoryNotice",
    "HistoryStore",
    "HistoryWriter",
    "WriterStats",
    "default_data_dir",
    "ensure_data_dir",
    "history_path",
    "open_store",
    "parse_since",
]
