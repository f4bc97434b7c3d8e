"""The history's file: where it lives (the per-user data directory, 0700), and what happens to one SQLite cannot
read (moved aside, kept for whoever wants to look, and a new one started so the app keeps recording).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from desktop import APP_NAME
from desktop.history.store import HistoryError, HistoryStore

__all__ = ["HISTORY_FILE_NAME", "default_data_dir", "ensure_data_dir", "history_path", "move_aside", "open_store"]

log = logging.getLogger("desktop.history.store")

HISTORY_FILE_NAME = "history.sqlite3"


def default_data_dir() -> Path:
    """The per-user data directory, e.g. ``~/.local/share/login-feed`` on Linux (``--data-dir`` overrides)."""
    import platformdirs  # noqa: PLC0415 - only when no --data-dir is given

    return platformdirs.user_data_path(APP_NAME)


def history_path(data_dir: Path | None = None) -> Path:
    """``<data dir>/history.sqlite3``; ``None`` means :func:`default_data_dir`."""
    return (data_dir if data_dir is not None else default_data_dir()) / HISTORY_FILE_NAME


def ensure_data_dir(data_dir: Path) -> Path:
    """Create the data directory (owner-only, 0700) if it does not exist yet; an existing one is left as is."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return data_dir


def open_store(path: Path) -> HistoryStore:
    """Open (and create) the history at ``path``, creating its directory 0700.

    A file SQLite cannot read (not a database, or corrupt where opening looks) is moved aside
    (``history.sqlite3.unreadable-<time>``, see :func:`move_aside`) and a new one started, so the app keeps
    recording; the new store's :attr:`HistoryStore.moved_aside` says so, for the person to be told. A file
    from a newer version raises :class:`HistoryError`.
    """
    ensure_data_dir(path.parent)
    try:
        return HistoryStore(path)
    except HistoryError as exc:
        if not exc.unreadable:
            raise
        aside = move_aside(path)
        log.error("history: %s; moved it to %s and started a new one", exc, aside.name)
        store = HistoryStore(path)
        store.moved_aside = (aside, str(exc.__cause__ or exc))
        return store


def move_aside(path: Path) -> Path:
    """Rename the history at ``path`` (with its ``-wal`` and ``-shm``) to ``<name>.unreadable-<UTC time>``,
    kept for whoever wants to look at it; returns the new path of the main file. Close it first."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    aside = path.with_name(f"{path.name}.unreadable-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            source.replace(aside.with_name(aside.name + suffix))
    return aside
