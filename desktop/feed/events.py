"""Feed events: turn whatever arrives on the feed channel into one flat, safe :class:`FeedEvent`.

Producers differ (our v1 Action payload, the legacy rule's whole Auth0 user object, or garbage), so the
rest of the app only ever sees this shape. :func:`normalise` never raises on any ``data``; anything it
cannot read becomes type ``"unrecognised"`` with a ``reason`` and keeps the payload for inspection.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Literal

FEED_EVENT_NAMES = ("user-signedUp", "user-loggedIn")
MAX_FIELD_CHARS = 1000
"""Longer strings are cut (with an ellipsis) so one hostile payload cannot blow up a row."""

EventType = Literal["signup", "login", "unrecognised"]

_TYPE_BY_EVENT: dict[str, EventType] = {"user-signedUp": "signup", "user-loggedIn": "login"}
_V1_TYPES: dict[str, EventType] = {"signup": "signup", "login": "login"}
_ELLIPSIS = "…"
_SURROGATES = re.compile("[\ud800-\udfff]")
# Line breaks and tabs read best as a space; other C0/C1 controls, DEL, bidi embeddings/overrides/isolates
# (which can make a line lie about its content) and lone surrogates become U+FFFD.
_BREAKS = re.compile("[\t\n\x0b\x0c\r\x1c-\x1e\x85\u2028\u2029]")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_INTERNAL_ERROR = "could not read the payload"


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedEvent:
    """One feed row. Text fields are plain strings from the network: display them as plain text."""

    event: str
    channel: str
    type: EventType
    user_id: str | None = None
    email: str | None = None
    name: str | None = None
    nickname: str | None = None
    picture: str | None = None
    connection: str | None = None
    client_name: str | None = None
    country: str | None = None
    city: str | None = None
    ip: str | None = None
    logins_count: int | None = None
    at: str | None = None
    received_at: str
    data: object = field(hash=False)
    reason: str | None = None


def format_utc(epoch_seconds: float) -> str:
    """``2026-11-21T05:01:02.123Z``: the one timestamp format of the feed.

    A batch of events shares one receive time, so the last answer is kept, per thread: the engine thread
    and the history writer both call this, and a shared cache let one stamp a batch with the other's time.
    """
    cache = _last_formatted
    try:
        key, text = cache.pair  # one read of one tuple: never a time with another time's text
    except AttributeError:  # this thread's first call
        key, text = None, ""
    if key == epoch_seconds:
        return text
    text = datetime.fromtimestamp(epoch_seconds, tz=UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    cache.pair = (epoch_seconds, text)
    return text


_last_formatted = threading.local()


def _clip(text: str) -> str:
    if len(text) <= MAX_FIELD_CHARS and text.isascii():  # the common case, O(1): nothing to do
        return text
    if len(text) > MAX_FIELD_CHARS:
        text = text[: MAX_FIELD_CHARS - 1] + _ELLIPSIS
    return _SURROGATES.sub("\ufffd", text)  # unencodable: would break stdout, SQLite and Qt later


def _text(value: object) -> str | None:
    """A string field from the payload: strings (clipped); anything else None."""
    return _clip(value) if isinstance(value, str) and value else None


def _id(value: object) -> str | None:
    """Like :func:`_text`, but integer ids (some producers send numbers) become their digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        # str() of a huge int is slow or refused outright; no real id is that long.
        return str(value) if value.bit_length() <= 64 else None
    return _text(value)


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and 0 <= value < 2**63:
        return value
    return None


def _timestamp(value: object) -> str | None:
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


def _unrecognised(event: str, channel: str, data: object, received_at: str, reason: str) -> FeedEvent:
    return FeedEvent(
        event=event, channel=channel, type="unrecognised", received_at=received_at, data=data, reason=reason
    )


def _first_connection(identities: object) -> str | None:
    if isinstance(identities, list) and identities and isinstance(identities[0], Mapping):
        return _text(identities[0].get("connection"))
    return None


def _from_v1(event: str, channel: str, data: Mapping[object, object], received_at: str) -> FeedEvent:
    declared = data.get("type")
    kind = _V1_TYPES.get(declared) if isinstance(declared, str) else None
    if kind is None:
        return _unrecognised(event, channel, data, received_at, "v1 payload without type signup or login")
    return FeedEvent(
        event=event,
        channel=channel,
        type=kind,
        user_id=_id(data.get("user_id")),
        email=_text(data.get("email")),
        name=_text(data.get("name")),
        nickname=_text(data.get("nickname")),
        picture=_text(data.get("picture")),
        connection=_text(data.get("connection")),
        client_name=_text(data.get("client_name")),
        country=_text(data.get("country")),
        city=_text(data.get("city")),
        ip=_text(data.get("ip")),
        logins_count=_count(data.get("logins_count")),
        at=_timestamp(data.get("at")),
        received_at=received_at,
        data=data,
    )


def _from_legacy(
    event: str, channel: str, data: Mapping[object, object], received_at: str, kind: EventType
) -> FeedEvent:
    at = None
    for key in ("last_login", "updated_at", "created_at"):
        at = _timestamp(data.get(key))
        if at is not None:
            break
    return FeedEvent(
        event=event,
        channel=channel,
        type=kind,
        user_id=_id(data.get("user_id")),
        email=_text(data.get("email")),
        name=_text(data.get("name")),
        nickname=_text(data.get("nickname")),
        picture=_text(data.get("picture")),
        connection=_first_connection(data.get("identities")),
        client_name=_text(data.get("client_name")),
        country=_text(data.get("country")),
        city=_text(data.get("city")),
        ip=_text(data.get("ip")) or _text(data.get("last_ip")),
        logins_count=_count(data.get("logins_count")),
        at=at,
        received_at=received_at,
        data=data,
    )


def _normalise(event: str, channel: str, data: object, received_at: str) -> FeedEvent:
    kind = _TYPE_BY_EVENT.get(event)
    if kind is None:
        return _unrecognised(event, channel, data, received_at, "not a feed event")
    if not isinstance(data, Mapping):
        reason = f"payload is {_describe(data)}, not an object"
        return _unrecognised(event, channel, data, received_at, reason)
    if "v" in data:
        version = data.get("v")
        if type(version) is not int or version != 1:  # True == 1, so compare the exact type
            return _unrecognised(event, channel, data, received_at, "unsupported payload version")
        parsed = _from_v1(event, channel, data, received_at)
    else:
        parsed = _from_legacy(event, channel, data, received_at, kind)
    if parsed.type != "unrecognised" and parsed.user_id is None and parsed.email is None:
        return _unrecognised(event, channel, data, received_at, "payload has neither user_id nor email")
    return parsed


def _describe(data: object) -> str:
    if data is None:
        return "empty"
    if isinstance(data, str):
        return "a string"
    if isinstance(data, list | tuple):
        return "a list"
    if isinstance(data, bool):
        return "a boolean"
    if isinstance(data, int | float):
        return "a number"
    return f"of type {type(data).__name__}"


def normalise(event_name: str, channel: str, data: object, received_at: float) -> FeedEvent:
    """Read one event from the feed channel; ``data`` is the decoded payload, ``received_at`` epoch seconds.

    Never raises because of ``data`` (or a non-string event/channel); a bad ``received_at`` is the
    caller's bug and raises.
    """
    received = format_utc(received_at)
    event = (_text(event_name) or "") if isinstance(event_name, str) else ""
    where = (_text(channel) or "") if isinstance(channel, str) else ""
    try:
        return _normalise(event, where, data, received)
    except Exception:  # a Mapping subclass with a hostile .get(); the contract is "never crashes"
        return _unrecognised(event, where, data, received, _INTERNAL_ERROR)


def to_json_dict(ev: FeedEvent) -> dict[str, object]:
    """Every field by name: the object ``login-feed tail --format jsonl`` prints (``data`` not copied)."""
    return {name: getattr(ev, name) for name in _FIELD_NAMES}


_FIELD_NAMES = tuple(f.name for f in fields(FeedEvent))
_LABELS = {"signup": "SIGN UP", "login": "LOG IN ", "unrecognised": "UNRECOGNISED"}


def _printable(text: str) -> str:
    return _UNPRINTABLE.sub("\ufffd", _BREAKS.sub(" ", text))


def _who(ev: FeedEvent) -> str:
    name = ev.name or ev.nickname
    if name and ev.email and name != ev.email:
        return f"{name} <{ev.email}>"
    if ev.email:
        return f"<{ev.email}>"
    return name or ev.user_id or "-"


def _via(ev: FeedEvent) -> str:
    parts = [p for p in (ev.connection, ev.client_name) if p]
    return "/".join(parts) or "-"


def to_text_line(ev: FeedEvent) -> str:
    """One human line per event (never a line break inside, whatever the payload holds)."""
    when = ev.at or ev.received_at
    if ev.type == "unrecognised":
        line = f"{when}  {_LABELS[ev.type]}  {ev.event or '-'} on {ev.channel or '-'}: {ev.reason}"
    else:
        line = f"{when}  {_LABELS[ev.type]}  {_who(ev)}  {ev.country or '-'}  {_via(ev)}"
    return _printable(line)
