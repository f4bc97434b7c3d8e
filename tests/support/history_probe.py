"""Look at a history file from outside the process that writes it, as a crash-recovery test must."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path


def committed_count(path: Path) -> int:
    """How many events another process sees committed in the history at ``path`` right now (0 before the
    writer has created the file or its table). Reading never blocks the writer (WAL)."""
    if not path.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=5)) as db:
            return int(db.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.OperationalError:  # no table yet
        return 0
