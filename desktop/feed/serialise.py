"""The feed's events written out: the one JSON line and the one CSV row, for ``tail``, ``export`` and the window.

- :func:`json_line`/:func:`jsonl_line`: one :func:`~desktop.feed.events.to_json_dict` object per line, exact
  (``tail --format jsonl`` and ``export --format jsonl`` print the same bytes for the same event, so the same
  scripts read both); always one valid line, whatever the payload holds.
- :func:`csv_row`/:func:`write_csv`: a header of every FeedEvent field (:data:`CSV_COLUMNS`), then one row per
  event; ``data`` (the payload) is one column of JSON text, None an empty cell, line ends CRLF (RFC 4180).
  Meant for spreadsheets, so **formula-injection safe**: any cell that starts with ``=``, ``+``, ``-``, ``@``
  (or a tab or carriage return, which some spreadsheets skip before looking for those) gets a leading single
  quote, so a user who signs up as ``=HYPERLINK(...)`` shows up as text instead of running as a formula.
  The window's "Export CSV" file starts with a UTF-8 byte-order mark (how spreadsheets recognise UTF-8 in a
  file they open); ``export`` writes to a pipe, where a BOM would be a stray character for the next program.
- :func:`encode_data`: the payload as JSON text (the CSV column, and the history's ``data`` column).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from dataclasses import fields
from typing import BinaryIO

import orjson

from desktop.feed.events import FeedEvent, to_json_dict

__all__ = ["CSV_COLUMNS", "csv_row", "encode_data", "json_line", "jsonl_line", "spreadsheet_safe", "write_csv"]

CSV_COLUMNS = tuple(f.name for f in fields(FeedEvent))
"""The CSV header: every FeedEvent field, in its order (as in the JSON objects)."""
BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Strict and ASCII-only: the fallback for what orjson refuses (lone surrogates, integers beyond 64 bits).
_dumps_ascii = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=str).encode


def encode_data(data: object) -> str:
    """The payload as JSON text; never raises.

    orjson is fast and exact for what arrives from the network. What it refuses (lone surrogates, integers
    beyond 64 bits, non-string keys, nesting deeper than 255) goes through the standard library with
    ``ensure_ascii=True``, which escapes surrogates as ``\\udxxx`` so they round-trip; anything that still
    cannot be encoded (a circular structure, a hostile object) is stored as a short description.
    """
    try:
        return orjson.dumps(data, default=str).decode("utf-8")
    except (TypeError, ValueError):  # orjson.JSONEncodeError is a TypeError
        pass
    try:
        return json.dumps(data, ensure_ascii=True, default=str)
    except Exception:  # circular, too deep, or a __str__ that raises (via default=str)
        return json.dumps(f"<payload that cannot be stored: {type(data).__name__}>")


def jsonl_line(ev: FeedEvent) -> bytes:
    """One event as a JSON line (UTF-8, newline-terminated), exactly as ``tail`` prints it.

    orjson reads the dataclass's fields itself, in their order: the same bytes as :func:`json_line` of
    :func:`~desktop.feed.events.to_json_dict`, 0.75 us per event cheaper than building that dict first.
    """
    try:
        return orjson.dumps(ev, option=orjson.OPT_APPEND_NEWLINE, default=str)
    except TypeError:  # what orjson refuses: the careful path below
        return json_line(to_json_dict(ev), ev.data)


def json_line(line: dict[str, object], data: object) -> bytes:
    """``line`` (whose ``"data"`` is ``data``) as one valid JSON line, whatever the payload holds.

    orjson first (fast, NaN as null); the strict ASCII encoder for what orjson refuses (lone surrogates,
    integers beyond 64 bits), with NaN replaced; and as a last resort the payload as JSON text.
    """
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


def spreadsheet_safe(value: object) -> object:
    """A cell a spreadsheet will not run: text starting with = + - @ (or tab/CR) gets a leading apostrophe;
    None is an empty cell; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def csv_row(ev: FeedEvent) -> list[str]:
    """The CSV cells of one event: None is an empty cell, ``data`` JSON text, every cell spreadsheet-safe."""
    cells: list[str] = []
    for name in CSV_COLUMNS:
        value = getattr(ev, name)
        if name == "data":
            text = encode_data(value)
        elif value is None:
            text = ""
        else:
            text = str(value)
        cells.append(str(spreadsheet_safe(text)))
    return cells


def write_csv(events: Iterable[FeedEvent], out: BinaryIO, *, bom: bool = False) -> int:
    """The header and one row per event to the byte stream ``out`` (UTF-8, CRLF); how many rows."""
    writer = csv.writer(_Utf8(out), lineterminator="\r\n")  # RFC 4180 line ends
    if bom:
        out.write(BOM.encode("utf-8"))
    writer.writerow(CSV_COLUMNS)
    count = 0
    for ev in events:
        writer.writerow(csv_row(ev))
        count += 1
    return count


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
