"""FeedEvents to SQLite rows and back, and the multi-row ``INSERT`` the writer uses.

Where the writer's time goes (cProfile and CPU-time loops over 100,000 v1 events, batches of 5,000, on the
2-core development machine): about 7 µs of CPU per event in all, of which building the row was 2.8 µs (a
function call and an ``isinstance`` per text column), SQLite 4.2 µs with ``executemany`` (the B-tree, the
``received_at`` index, the WAL pages) and checkpoints about 1 µs; an index on ``type`` that no query used
cost 0.5 µs more. Hence:

- :func:`to_row` takes every text column in one ``attrgetter`` call and passes the common value (None or
  ASCII text) through inline; only other values pay for a clean-up call (2.2 µs per row instead of 2.8).
- :func:`insert_statements` writes up to :data:`ROWS_PER_STATEMENT` rows per ``INSERT ... VALUES (...),
  (...)``: 3.9 µs per row instead of 4.2, and the GIL is released and taken back about 20 times per
  5,000-event batch instead of 5,000 times (``executemany`` does it around every row). With another Python
  thread busy in the same process that made no difference to the rate we could measure here.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import re
import sqlite3
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from desktop.feed.events import FeedEvent
from desktop.feed.serialise import encode_data
from desktop.util.text import replace_surrogates

try:  # a hard dependency, but the store only needs it for speed
    import orjson
except ImportError:  # pragma: no cover - exercised only without orjson
    orjson = None  # type: ignore[assignment]

# The table's columns in FeedEvent field order; `data` holds the payload as JSON text.
COLUMNS = (
    "event", "channel", "type", "user_id", "email", "name", "nickname", "picture", "connection", "client_name",
    "country", "city", "ip", "logins_count", "at", "received_at", "data", "reason",
    "log_id", "cursor", "kind", "outcome", "label", "code", "device",
)
TEXT_COLUMNS = tuple(name for name in COLUMNS if name not in ("logins_count", "data"))
INSERT_COLUMNS = (*TEXT_COLUMNS, "logins_count", "data")
"""The column order of an inserted row: the text columns first, so a row is one tuple concatenation."""
_NOT_NULL = tuple(TEXT_COLUMNS.index(name) for name in ("event", "channel", "type", "received_at"))
ROWS_PER_STATEMENT = 256
"""Rows per ``INSERT`` at most (25 parameters each, far below SQLite's 32,766). Measured: 16 rows already get
the gain; from 16 to 256 the cost per row is the same within the noise."""

_texts_of = operator.attrgetter(*TEXT_COLUMNS)
_LONG_DIGITS = re.compile("[0-9]{20}")


def decode_data(text: str | None) -> object:
    """The payload back from its JSON text; a value that does not parse (hand-edited file) stays text."""
    if text is None:
        return None
    # orjson reads integers beyond 64 bits as floats (silently inexact), and refuses NaN and escaped lone
    # surrogates; the standard library reads all of them exactly, so it takes any text with a long digit run.
    if orjson is not None and not _LONG_DIGITS.search(text):
        try:
            return orjson.loads(text)
        except ValueError:
            pass
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def to_row(ev: FeedEvent) -> tuple[Any, ...]:
    """One row in :data:`INSERT_COLUMNS` order; never raises, so one odd event cannot poison a batch.

    The common value (``None``, or ASCII text) is taken as it is, inline; anything else goes through
    :func:`_clean_text` / :func:`_clean_count`.
    """
    texts = [value if value is None or (value.__class__ is str and value.isascii()) else _clean_text(value)
             for value in _texts_of(ev)]
    for i in _NOT_NULL:
        if texts[i] is None:
            texts[i] = ""
    count = ev.logins_count
    if count is not None and not (count.__class__ is int and -(2**63) <= count < 2**63):
        count = _clean_count(count)
    return (*texts, count, encode_data(ev.data))


def _clean_text(value: object) -> str | None:
    """A text column: SQLite needs valid UTF-8, so a lone surrogate (never from normalise()) becomes U+FFFD."""
    if not isinstance(value, str):  # FeedEvent's text fields are str or None
        return None
    return replace_surrogates(value)


def _clean_count(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return None


def from_row(row: Sequence[Any]) -> FeedEvent:
    """A stored row (selected in :data:`COLUMNS` order) back as the FeedEvent that was stored."""
    values = dict(zip(COLUMNS, row, strict=True))
    values["data"] = decode_data(values["data"])
    return FeedEvent(**values)


# Built from the constant column names above, never from input.
SELECT = f"SELECT {', '.join(COLUMNS)} FROM events"  # noqa: S608


@lru_cache(maxsize=16)
def _insert_sql(rows: int) -> str:
    values = "(" + ", ".join("?" * len(INSERT_COLUMNS)) + ")"
    # OR IGNORE: an event v2 whose log_id is already stored (caught up and received live) is kept once.
    return f"INSERT OR IGNORE INTO events ({', '.join(INSERT_COLUMNS)}) VALUES {', '.join([values] * rows)}"  # noqa: S608


def insert_statements(rows: Sequence[tuple[Any, ...]]) -> Iterator[tuple[str, list[Any]]]:
    """``(sql, parameters)`` pairs that insert ``rows`` in order: :data:`ROWS_PER_STATEMENT` at a time, the
    rest in power-of-two statements, so only a handful of distinct statements are ever prepared (and cached)."""
    start, left = 0, len(rows)
    size = ROWS_PER_STATEMENT
    while left:
        while size > left:
            size //= 2
        yield _insert_sql(size), list(itertools.chain.from_iterable(rows[start:start + size]))
        start += size
        left -= size


def insert_rows(db: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (from :func:`to_row`) inside the caller's transaction."""
    for sql, parameters in insert_statements(rows):
        db.execute(sql, parameters)


# Constant column names only. json_valid first: a hand-edited row must not make json_extract fail the batch.
_UPDATE_ALERT = (f"UPDATE events SET {', '.join(f'{name} = ?' for name in INSERT_COLUMNS)} "  # noqa: S608
                 "WHERE log_id = ? AND kind = 'alert' AND coalesce(CASE WHEN json_valid(data) THEN "
                 "json_extract(data, '$.updates') END, -1) < ?")


def update_alerts(db: sqlite3.Connection, events: Sequence[FeedEvent], rows: Sequence[tuple[Any, ...]]) -> None:
    """An alert (issue 15) keeps its ``log_id`` while the server updates it; the insert above kept the first
    version stored, so a later version (more ``updates``) replaces that row, in the caller's transaction: the
    history, the window's restore and ``export`` hold each alert's latest news."""
    for ev, row in zip(events, rows, strict=True):
        if ev.kind != "alert" or ev.log_id is None or not isinstance(ev.data, dict):
            continue
        updates = ev.data.get("updates")
        if isinstance(updates, int) and not isinstance(updates, bool) and updates > 0:
            db.execute(_UPDATE_ALERT, (*row, ev.log_id, updates))
