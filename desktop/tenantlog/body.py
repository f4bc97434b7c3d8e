"""What Auth0's Custom Webhook log stream POSTs, taken apart into records (pure: bytes in, records out).

Auth0 documents three content formats (``JSONARRAY``, ``JSONLINES``, ``JSONOBJECT``) and describes none of them
completely, so parsing is defensive, in the order the reference recommends: a body starting with ``[`` is an
array; otherwise the whole body as one JSON document (one object, possibly pretty-printed); otherwise one
document per non-empty line. Each record is ``{"log_id", "data": {...}}`` (``data.log_id`` repeats the id); a
bare event that carries ``log_id`` itself is accepted too.

A body that is not JSON at all (bad UTF-8, a syntax error on any line, a top level that is neither an object nor an
array) raises :class:`BodyError`: the endpoint answers 400 and stores nothing, so nothing is half-stored. A record
that is valid JSON but not a log event (not an object, no usable ``log_id``) is counted as rejected instead:
retrying it would never help, and the rest of the batch must not wait for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["MAX_LOG_ID_CHARS", "BodyError", "ParsedBody", "Record", "decode_body", "parse_body", "read_records"]

MAX_LOG_ID_CHARS = 128
"""Auth0's log ids are 56 digits; anything much longer is not one (and must not bloat the unique index)."""


class BodyError(ValueError):
    """The body cannot be parsed as a log-stream delivery; the message says where, never repeats the body."""


@dataclass(frozen=True)
class Record:
    """One log event: its id and the event object Auth0 calls ``data``."""

    log_id: str
    data: Mapping[str, Any]


@dataclass
class ParsedBody:
    records: list[Record] = field(default_factory=list)
    rejected: int = 0  #: valid JSON that is not a log event (no ``log_id``, not an object)
    problems: list[str] = field(default_factory=list)  #: why, for the log (at most a few)


def parse_body(body: bytes) -> ParsedBody:
    """The records of one delivery, in the order they were sent.

    :raises BodyError: the body is empty, not UTF-8, or not JSON in any of the three formats.
    """
    return read_records(decode_body(body))


def decode_body(body: bytes) -> list[Any]:
    """The JSON documents of one delivery (not yet checked to be records: :func:`read_records` does that).

    :raises BodyError: the body is empty, not UTF-8, or not JSON in any of the three formats.
    """
    text = body.strip()
    if not text:
        raise BodyError("the body is empty: expected a JSON array, JSON lines or one JSON object")
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"the body is not UTF-8 text (bad byte at offset {exc.start})") from None
    return _documents(text)


def read_records(documents: Iterable[Any]) -> ParsedBody:
    """The records among already decoded documents (a delivery's, or the Management API's answer: those are
    read as they are, never serialised to JSON and parsed again)."""
    parsed = ParsedBody()
    for index, item in enumerate(documents):
        record, problem = _record(item)
        if record is not None:
            parsed.records.append(record)
        else:
            parsed.rejected += 1
            if len(parsed.problems) < 5:
                parsed.problems.append(f"record {index + 1}: {problem}")
    return parsed


def _documents(text: bytes) -> list[Any]:
    if text.startswith(b"["):
        document = _loads(text, "the JSON array")
        if not isinstance(document, list):  # e.g. "[1] [2]" fails above; kept for clarity
            raise BodyError("the body starts with '[' but is not a JSON array")
        return document
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        document = None
    else:
        if isinstance(document, dict):
            return [document]
        raise BodyError(f"the body is a JSON {_type_name(document)}: expected an array, JSON lines or an object")
    lines = [line for line in text.split(b"\n") if line.strip()]
    if len(lines) < 2:
        _loads(text, "the JSON object")  # raises with the parser's position
    return [_loads(line, f"line {number}") for number, line in enumerate(lines, start=1)]


def _loads(text: bytes, what: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        # orjson's message names the position ("... line 1 column 7 (char 6)"), never the content
        raise BodyError(f"{what} is not valid JSON: {str(exc)[:160]}") from None


def _record(item: Any) -> tuple[Record | None, str]:
    if not isinstance(item, dict):
        return None, f"a JSON {_type_name(item)}, not an object"
    data = item.get("data")
    if isinstance(data, dict):
        log_id = _log_id(item.get("log_id"))
        if log_id is None:
            log_id = _log_id(data.get("log_id"))
    else:  # a bare event, as the Management API returns them
        data = item
        log_id = _log_id(item.get("log_id"))
    if log_id is None:
        return None, "no usable log_id"
    return Record(log_id, data), ""


def _log_id(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > MAX_LOG_ID_CHARS or not value.isprintable():
        return None
    return value


def _type_name(value: Any) -> str:
    names = {list: "array", dict: "object", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
