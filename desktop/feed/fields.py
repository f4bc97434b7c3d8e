"""Reading one field of a payload from the network: clipped, unencodable characters replaced, wrong types dropped.

Shared by the v1 reader (:mod:`desktop.feed.events`) and the v2 reader (:mod:`desktop.feed.events_v2`), so both
kinds of event obey the same limits.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from desktop.util.text import replace_surrogates

MAX_FIELD_CHARS = 1000
"""Longer strings are cut (with an ellipsis) so one hostile payload cannot blow up a row."""

_ELLIPSIS = "…"


def clip(text: str) -> str:
    if len(text) <= MAX_FIELD_CHARS and text.isascii():  # the common case, O(1): nothing to do
        return text
    if len(text) > MAX_FIELD_CHARS:
        text = text[: MAX_FIELD_CHARS - 1] + _ELLIPSIS
    return replace_surrogates(text)  # unencodable: would break stdout, SQLite and Qt later


def text(value: object) -> str | None:
    """A string field from the payload: strings (clipped); anything else None."""
    if isinstance(value, str) and value:
        # clip's common case inlined: a dozen fields per event, and the call cost as much as the check.
        return value if len(value) <= MAX_FIELD_CHARS and value.isascii() else clip(value)
    return None


def ident(value: object) -> str | None:
    """Like :func:`text`, but integer ids (some producers send numbers) become their digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        # str() of a huge int is slow or refused outright; no real id is that long.
        return str(value) if value.bit_length() <= 64 else None
    return text(value)


def count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value < 2**63:
        return value
    return None


def timestamp(value: object) -> str | None:
    """An ISO-8601 string normalised to UTC milliseconds; anything unparseable is dropped."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if _CANONICAL_UTC.fullmatch(value):  # what our Action sends: valid (parsed above) and already canonical
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    except (OverflowError, ValueError):  # e.g. 0001-01-01T00:00:00+01:00 falls off the calendar
        return None


_CANONICAL_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
