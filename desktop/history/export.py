"""``login-feed export``: the stored history on stdout, oldest first, as JSON lines or CSV.

Both formats are :mod:`desktop.feed.serialise`'s: ``jsonl`` the lines ``login-feed tail --format jsonl``
prints (exact: nothing is altered), ``csv`` the window's "Export CSV" rows (formula-injection safe; without the
window's byte-order mark, since this goes to a pipe). Use jsonl when the exact values matter.

``--since`` takes an ISO date or time and filters on ``received_at`` (when this computer received the
event, which every event has), not on the producer's ``at``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from desktop.feed.events import FeedEvent
from desktop.feed.serialise import jsonl_line, write_csv
from desktop.history.files import history_path
from desktop.history.store import HistoryError, HistoryStore, parse_since

FORMATS = ("jsonl", "csv")


def write_export(events: Iterable[FeedEvent], fmt: str, out: BinaryIO) -> int:
    """Write ``events`` to the byte stream ``out`` in ``fmt``; return how many. CSV always gets its header."""
    count = 0
    if fmt == "jsonl":
        for ev in events:
            out.write(jsonl_line(ev))
            count += 1
        return count
    if fmt != "csv":
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return write_csv(events, out)


def run_export(data_dir: Path | None, fmt: str = "jsonl", since: str | None = None,
               out: BinaryIO | None = None) -> int:
    """The ``export`` command: exit code 0, or 1 for an unusable history, 2 for a bad ``--since``.

    A missing history is an empty one (nothing is created): no output for jsonl, the header for csv.
    """
    try:
        since_text = parse_since(since) if since is not None else None
    except ValueError as exc:
        print(f"login-feed: --since: {exc}", file=sys.stderr)
        return 2
    stream = out if out is not None else sys.stdout.buffer
    path = history_path(data_dir)
    try:
        if not path.exists():
            write_export((), fmt, stream)
        else:
            try:
                store = HistoryStore(path)
            except (HistoryError, OSError) as exc:
                print(f"login-feed: {exc}", file=sys.stderr)
                return 1
            with store, contextlib.closing(store.iter_since(since_text)) as events:
                try:
                    write_export(events, fmt, stream)
                except sqlite3.Error as exc:
                    stream.flush()
                    print(f"login-feed: cannot read the history file {path}: {exc}", file=sys.stderr)
                    return 1
        stream.flush()
    except BrokenPipeError:  # `login-feed export | head`: the reader left, which is not an error
        if out is None:
            _silence_stdout()
        return 0
    return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain about the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
