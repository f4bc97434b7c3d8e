"""``login-feed export``: the stored history on stdout, oldest first, as JSON lines or CSV.

- ``jsonl``: one :func:`~desktop.feed.events.to_json_dict` object per line, the same shape as
  ``login-feed tail --format jsonl`` prints, so the same scripts read both. Exact: nothing is altered.
- ``csv``: a header row, then one row per event with the flat fields; ``data`` (the payload) is one
  column of JSON text. Meant for spreadsheets, so it is **formula-injection safe**: any cell that starts with
  ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return, which some spreadsheets skip before looking for
  those) gets a leading single quote, so a user who signs up as ``=HYPERLINK(...)`` shows up as text
  instead of running as a formula. Use jsonl when the exact values matter.

``--since`` takes an ISO date or time and filters on ``received_at`` (when this computer received the
event, which every event has), not on the producer's ``at``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import sqlite3
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from desktop.feed.events import FeedEvent, to_json_dict
from desktop.history.rows import COLUMNS, encode_data
from desktop.history.store import HistoryError, HistoryStore, history_path, parse_since

try:
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]

FORMATS = ("jsonl", "csv")
CSV_HEADER = COLUMNS  # FeedEvent field order, as in the jsonl objects
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Strict and ASCII-only: the fallback for what orjson refuses (lone surrogates, integers beyond 64 bits).
_dumps_ascii = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=str).encode


def spreadsheet_safe(cell: str) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would otherwise read it as a formula."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def jsonl_line(ev: FeedEvent) -> bytes:
    """One event as a JSON line (UTF-8, newline-terminated), exactly as ``tail`` prints it."""
    return json_line(to_json_dict(ev), ev.data)


def json_line(line: dict[str, object], data: object) -> bytes:
    """``line`` (whose ``"data"`` is ``data``) as one valid JSON line, whatever the payload holds.

    orjson first (fast, NaN as null); the strict ASCII encoder for what orjson refuses (lone surrogates,
    integers beyond 64 bits), with NaN replaced; and as a last resort the payload as JSON text.
    """
    if orjson is not None:
        try:
            return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE, default=str)
        except TypeError:  # orjson.JSONEncodeError: lone surrogates, integers beyond 64 bits
            pass
    try:
        line["data"] = _finite(line["data"])
        return (_dumps_ascii(line) + "\n").encode("ascii")
    except (TypeError, ValueError, RecursionError):
        line["data"] = encode_data(data)  # as text: still one valid line
        return (_dumps_ascii(line) + "\n").encode("ascii")


def csv_row(ev: FeedEvent) -> list[str]:
    """The CSV cells of one event: None is an empty cell, ``data`` JSON text, every cell spreadsheet-safe."""
    cells: list[str] = []
    for name in CSV_HEADER:
        value = getattr(ev, name)
        if name == "data":
            text = encode_data(value)
        elif value is None:
            text = ""
        else:
            text = str(value)
        cells.append(spreadsheet_safe(text))
    return cells


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
    writer = csv.writer(_Utf8(out), lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerow(CSV_HEADER)
    for ev in events:
        writer.writerow(csv_row(ev))
        count += 1
    return count


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


class _Utf8:
    """What csv.writer writes to: text in, UTF-8 bytes out to a binary stream."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out

    def write(self, text: str) -> int:
        return self._out.write(text.encode("utf-8", "replace"))


def _finite(value: object) -> object:
    """``value`` with every NaN/Infinity replaced by None, for the strict fallback encoder."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain about the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
